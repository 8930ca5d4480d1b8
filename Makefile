# One entry point for setup and tests. Every target installs what it needs itself.
#   make demo                       a fresh Debian container as a stand-in VM, provisioned by playbooks/site.yml
#   make demo-down                  remove the demo host
#   make test                       lint, unit and app tests, every Molecule scenario once (distros in turn): CI
#   make test-all                   the same with every Molecule scenario on debian12 and on debian13
#   make test SCENARIO=memcached DISTRO=debian12    one scenario on one distro: the inner loop
#   make test-all SCENARIO=memcached                one scenario on both distros
#   make images REBUILD=1           rebuild the local systemd test images
#   make collection                 build the collection tarball (djstack-stack-<version>.tar.gz) into .cache/collection/dist
#   make bench                      measure the stack on its own 512 MB / 1 CPU host: bench/results.md and .png
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV       := .venv
PY         := $(VENV)/bin/python
BIN        := $(VENV)/bin
STAMP      := $(VENV)/.installed
SCENARIO   ?=
DISTRO     ?= debian12 debian13
JOBS       ?= 2
# split: each scenario once, the distros taken in turn (CI's time budget); full: every pair.
MATRIX     ?= split
REBUILD    ?=
export PATH := $(CURDIR)/$(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: help venv docker images lint sanity unit molecule test test-all demo demo-down demo-smoke collection collection-smoke bench clean

help:
	@sed -n 's/^#   //p' $(MAKEFILE_LIST)

$(STAMP): requirements.txt app/requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

venv: $(STAMP)
	$(PY) -m tools.collection link >/dev/null

docker: venv
	$(PY) -m tools.host docker

images: docker
	@if [ -z "$$DJSTACK_IMAGE" ]; then \
	  $(PY) -m tools.host tools debootstrap && \
	  $(PY) -m tools.images $(if $(REBUILD),--force) $(DISTRO); \
	else echo "DJSTACK_IMAGE=$$DJSTACK_IMAGE: using it instead of the local images"; fi

lint: venv sanity
	$(BIN)/yamllint --strict .
	$(BIN)/ansible-lint

# ansible-test sanity on the built collection, in its own venv (.cache/sanity).
sanity: venv
	$(PY) -m tools.sanity

collection: venv
	$(PY) -m tools.collection build

unit: venv
	$(PY) -m tools.host tools memcached nft
	$(BIN)/pytest -q tests app

molecule: images
	$(PY) -m tools.matrix --jobs $(JOBS) $(if $(filter split,$(MATRIX)),--split) $(foreach s,$(SCENARIO),--scenario $(s)) \
	  $(foreach d,$(DISTRO),--distro $(d)) $(if $(DJSTACK_IMAGE),--image $(DJSTACK_IMAGE))

# The README's first command, end to end on a fresh host, then removed again.
# (No DISTRO override here: `images` is shared with `molecule`, which needs both.)
demo-smoke: images
	$(PY) -m tools.demo down
	$(PY) -m tools.demo up --image djstack-systemd:debian12
	$(PY) -m tools.demo down

# The built collection, installed into an empty collections path, provisions a fresh
# host from a directory holding only an inventory and a one-line playbook.
collection-smoke: images
	$(PY) -m tools.collection smoke --image djstack-systemd:debian12

ifeq ($(SCENARIO),)
test: lint unit demo-smoke collection-smoke molecule
else
test: molecule
endif

test-all:
	$(MAKE) test MATRIX=full

demo: DISTRO = debian12
demo: images
	$(PY) -m tools.demo up $(if $(DJSTACK_IMAGE),--image $(DJSTACK_IMAGE),--image djstack-systemd:$(firstword $(DISTRO)))

demo-down: venv
	$(PY) -m tools.demo down

# Never part of `make test`: about 10 minutes of load on its own host (djstack-bench),
# removed again at the end. matplotlib (the chart) lives in the bench's own venv.
BENCH_VENV := .cache/bench/venv
$(BENCH_VENV)/.installed: bench/requirements.txt
	test -x $(BENCH_VENV)/bin/python || python3 -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet -r bench/requirements.txt
	touch $@

bench: DISTRO = debian12
bench: images $(BENCH_VENV)/.installed
	$(PY) -m tools.host tools wrk openssl curl nsenter
	$(BENCH_VENV)/bin/python -m bench run $(if $(DJSTACK_IMAGE),--image $(DJSTACK_IMAGE),--image djstack-systemd:$(firstword $(DISTRO)))

clean:
	rm -rf .cache/molecule-logs
