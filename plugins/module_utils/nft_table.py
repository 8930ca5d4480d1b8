# Copyright (c) 2026 djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compare one live nftables table with what a ruleset file would load.

The file's text cannot be compared with the kernel's state: nft rewrites what it loads
(`tcp dport { 22 }` lists as `tcp dport 22`, `#` comments vanish, sets are reordered).
So the file is loaded into an empty network namespace and listed there by the same nft
binary, which gives the canonical text the live table lists as when nothing touched it.
"""

from __future__ import annotations

import re

# A counter's values are traffic, not configuration: the live table counts packets and
# a table just loaded into an empty namespace never will.
_COUNTER = re.compile(r"\bcounter packets \d+ bytes \d+")
_CHAIN = re.compile(r"^\s*chain\s+(\S+)\s*\{", re.M)

# Run by the module's own interpreter inside `unshare --net`, so both nft commands see
# the same throwaway namespace, each with its own exit status: `unshare` runs one
# command, a `list` after an `include` in one `nft -f` batch lists the table without the
# rules the batch adds (nft 1.0.6), and `nft -i` exits 0 whatever failed. Exit status 3: the file does not load; 4: it loads but does not
# create the table; nft's stderr passes through either way.
NETNS_LISTER = r"""
import subprocess, sys
nft, path, family, table = sys.argv[1:5]
load = subprocess.run([nft, "-f", path], capture_output=True, text=True)
if load.returncode != 0:
    sys.stderr.write(load.stderr)
    sys.exit(3)
listed = subprocess.run([nft, "list", "table", family, table], capture_output=True, text=True)
if listed.returncode != 0:
    sys.stderr.write(listed.stderr)
    sys.exit(4)
sys.stdout.write(listed.stdout)
"""
NETNS_LOAD_FAILED = 3
NETNS_NO_TABLE = 4


def displayed(listing: str) -> str:
    """`listing` as the diff shows it: counters without their values."""
    return _COUNTER.sub("counter", listing)


def normalised(listing: str) -> str:
    """The text two listings of the same table agree on: no counter values, one space
    between words, no indentation or blank lines."""
    lines = (" ".join(line.split()) for line in displayed(listing).splitlines())
    return "\n".join(line for line in lines if line)


def has_table(tables_listing: str, family: str, table: str) -> bool:
    """Whether `nft list tables FAMILY` printed `table FAMILY TABLE`."""
    return any(line.split() == ["table", family, table] for line in tables_listing.splitlines())


def declared_chains(ruleset: str) -> list[str]:
    """Names of the chains a ruleset file declares, in order, each once."""
    return list(dict.fromkeys(_CHAIN.findall(ruleset)))


def missing_chains(ruleset: str, listing: str) -> list[str]:
    """Chains `ruleset` declares that the live `listing` lacks."""
    live = set(_CHAIN.findall(listing))
    return [name for name in declared_chains(ruleset) if name not in live]
