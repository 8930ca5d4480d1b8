"""The demo's vault password file is owner-only from the moment it exists."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tools import demo


def test_vault_password_file_is_created_owner_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A permissive umask and no later chmod: only a file created 0600 passes.
    monkeypatch.setattr(Path, "chmod", lambda self, mode: None)
    monkeypatch.setattr(os, "chmod", lambda *args, **kwargs: None)
    monkeypatch.setattr(demo, "run", lambda cmd, **kwargs: Path(cmd[cmd.index("--output") + 1]).write_text("x"))
    old = os.umask(0)
    try:
        demo.ensure_vault(tmp_path / "vault-pass", tmp_path / "vault.yml")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "vault-pass").stat().st_mode) == 0o600


def test_an_existing_vault_password_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    password = tmp_path / "vault-pass"
    password.write_text("kept\n")
    (tmp_path / "vault.yml").write_text("encrypted")
    monkeypatch.setattr(demo, "run", lambda cmd, **kwargs: pytest.fail("re-encrypted an existing vault"))
    demo.ensure_vault(password, tmp_path / "vault.yml")
    assert password.read_text() == "kept\n"
