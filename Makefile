# Build, test and demo entry points for the virtumancer.hostcaps collection.
# `make help` lists the targets. Works as root on a fresh Debian 12 (`make test`
# installs what it needs) and with a pyenv Python (`PYTHON=...`).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
VENV ?= .venv
ROOT := $(CURDIR)
TMP := $(ROOT)/.tmp
VENV_BIN := $(ROOT)/$(VENV)/bin
VENV_PY := $(VENV_BIN)/python
VENV_STAMP := $(VENV)/.installed

NAMESPACE := virtumancer
NAME := hostcaps
FQCN := $(NAMESPACE).$(NAME)
# ansible-playbook, pytest, ansible-lint: a symlink to this tree is enough.
COLLECTIONS := $(TMP)/collections
COLLECTION_LINK := $(COLLECTIONS)/ansible_collections/$(NAMESPACE)/$(NAME)
# The collections galaxy.yml depends on, for ansible-lint and the plays of the tests,
# taken without Galaxy (CI reaches PyPI and Debian only) from the wheel of the community
# `ansible` package: hack/collection_deps.py extracts only their directories into
# $(COLLECTIONS), once per requirement. ansible 12.x ships community.libvirt 2.x.
COLLECTION_DEPS ?= community.libvirt
COLLECTION_DEPS_FROM ?= ansible>=12.0,<13
# ansible-test refuses symlinked collection roots, so it works on a copy.
ANSIBLE_TEST_ROOT := $(TMP)/ansible-test/ansible_collections/$(NAMESPACE)/$(NAME)

LIBVIRT_URI ?= qemu:///system
LIBVIRT_TIMEOUT ?= 60
# Extra arguments for ansible-playbook in `make demo`, e.g. DEMO_ARGS='-e foo=bar -v'.
DEMO_ARGS ?=
# Extra arguments for ansible-test, e.g. SANITY_ARGS='--test pylint' or
# INTEGRATION_ARGS='libvirt_host_caps' (one target).
SANITY_ARGS ?=
INTEGRATION_ARGS ?=
# Extra arguments for pytest in `make functional`, e.g. FUNCTIONAL_ARGS='-k sqlite -x'.
FUNCTIONAL_ARGS ?=

# Run the tools from the venv, and let the tools they start find the venv too.
VENV_ENV := PATH="$(VENV_BIN):$$PATH" VIRTUAL_ENV="$(ROOT)/$(VENV)"
ANSIBLE_ENV := $(VENV_ENV) ANSIBLE_COLLECTIONS_PATH="$(COLLECTIONS)" \
	ANSIBLE_PYTHON_INTERPRETER="$(VENV_PY)"
# The Python version ansible-test should use: the venv's own.
VENV_PY_VERSION = $(shell $(VENV_PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])')

TEST_STEPS := deps-test venv libvirtd sanity units integration functional docs-check lint changelog-lint

.PHONY: help deps deps-test venv collections collection-deps ansible-test-tree libvirtd sanity units \
	integration postgres venv-core217 functional docs-check lint changelog-lint test demo bench bench-venv clean

help:
	@echo "Targets:"
	@echo "  deps            install missing Debian packages of bindep.txt (run time + compile)"
	@echo "  deps-test       same, plus the 'test' profile (libvirt daemon, QEMU, OVMF, swtpm)"
	@echo "  venv            $(VENV) with requirements.txt and tests/requirements.txt"
	@echo "  collections     $(COLLECTIONS): this tree as $(FQCN), plus collection-deps"
	@echo "  collection-deps $(COLLECTION_DEPS) from the PyPI wheel of '$(COLLECTION_DEPS_FROM)', without Galaxy"
	@echo "  libvirtd        start libvirtd (and virtlogd) unless $(LIBVIRT_URI) answers"
	@echo "  sanity          ansible-test sanity --venv on a copy of the tree"
	@echo "  units           pytest tests/unit"
	@echo "  integration     ansible-test integration --local on a copy of the tree"
	@echo "  postgres        start the local PostgreSQL of the factdb tests, print its DSN (hack/postgres.sh)"
	@echo "  venv-core217    $(CORE217_VENV) with ansible-core 2.17, for the compatibility runs of functional"
	@echo "  functional      pytest tests/functional: real ansible-playbook runs, SQLite + PostgreSQL, core 2.19 + 2.17"
	@echo "  docs-check      build + install the collection, ansible-doc every plugin"
	@echo "  lint            ansible-lint (production profile) when roles/ or playbooks/ exist"
	@echo "  changelog-lint  antsibull-changelog lint"
	@echo "  test            $(TEST_STEPS)"
	@echo "  demo            deps + venv, then ansible-playbook playbooks/demo.yml \$$DEMO_ARGS"
	@echo "  bench           tests/bench/run.py \$$BENCH_ARGS (module vs community.libvirt vs setup, factdb vs jsonfile)"
	@echo "  bench-venv      $(TMP)/bench-venv with the community ansible package, for bench"
	@echo "  clean           remove $(VENV), .tmp, tests/output and build artifacts"

deps:
	PYTHON="$(PYTHON)" BOOTSTRAP_VENV="$(TMP)/bootstrap" hack/deps.sh compile

deps-test:
	PYTHON="$(PYTHON)" BOOTSTRAP_VENV="$(TMP)/bootstrap" hack/deps.sh compile test

venv: $(VENV_STAMP)

# Re-run only when a requirements file changed (or the venv is gone or broken).
$(VENV_STAMP): requirements.txt tests/requirements.txt
	@if ! "$(VENV_PY)" -c '' >/dev/null 2>&1; then \
		echo "venv: creating $(VENV) with $(PYTHON)"; \
		rm -rf "$(VENV)"; \
		"$(PYTHON)" -m venv "$(VENV)"; \
	fi
	"$(VENV_PY)" -m pip install -q --disable-pip-version-check --upgrade pip
	"$(VENV_PY)" -m pip install -q --disable-pip-version-check \
		-r requirements.txt -r tests/requirements.txt
	@touch "$@"

collections: collection-deps
	@mkdir -p "$(dir $(COLLECTION_LINK))"
	@ln -sfn "$(ROOT)" "$(COLLECTION_LINK)"

# Does nothing when the stamp in $(COLLECTIONS) says the same requirement and names.
collection-deps: venv
	@mkdir -p "$(COLLECTIONS)"
	@"$(VENV_PY)" hack/collection_deps.py "$(COLLECTIONS)" "$(TMP)/wheels" '$(COLLECTION_DEPS_FROM)' $(COLLECTION_DEPS)

# Tracked files plus untracked ones that .gitignore does not exclude; a plain copy
# without git. A fresh `git init` in the copy makes ansible-test list its files: the
# copy lies in an ignored folder of this repository, where git would list none.
ansible-test-tree:
	@rm -rf "$(TMP)/ansible-test"
	@mkdir -p "$(ANSIBLE_TEST_ROOT)"
	@if command -v git >/dev/null 2>&1 && git -C "$(ROOT)" rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
		git -C "$(ROOT)" ls-files -z --cached --others --exclude-standard \
			| tar -C "$(ROOT)" --null --ignore-failed-read -T - -cf - \
			| tar -C "$(ANSIBLE_TEST_ROOT)" -xf - ; \
	else \
		tar -C "$(ROOT)" --exclude=./.git --exclude=./.tmp --exclude=./$(VENV) \
			--exclude=./tests/output --exclude='__pycache__' -cf - . \
			| tar -C "$(ANSIBLE_TEST_ROOT)" -xf - ; \
	fi
	@if command -v git >/dev/null 2>&1; then git -C "$(ANSIBLE_TEST_ROOT)" init -q; fi
	@echo "ansible-test tree: $(ANSIBLE_TEST_ROOT)"

libvirtd:
	LIBVIRT_URI="$(LIBVIRT_URI)" LIBVIRT_TIMEOUT="$(LIBVIRT_TIMEOUT)" hack/libvirtd.sh

sanity: venv ansible-test-tree
	"$(VENV_PY)" hack/ansible_test_get_pip.py --install
	cd "$(ANSIBLE_TEST_ROOT)" && $(VENV_ENV) ansible-test sanity --venv \
		--python $(VENV_PY_VERSION) --color no -v $(SANITY_ARGS)

# The factdb store tests run on SQLite and on the PostgreSQL of hack/postgres.sh (or
# the one FACTDB_TEST_POSTGRES names).
units: venv collections
	@dsn="$${FACTDB_TEST_POSTGRES:-}"; \
	if [ -z "$$dsn" ]; then dsn=$$(hack/postgres.sh); fi; \
	rc=0; $(ANSIBLE_ENV) FACTDB_TEST_POSTGRES="$$dsn" PYTHONPATH="$(COLLECTIONS)" "$(VENV_PY)" -m pytest \
		-p no:cacheprovider -ra tests/unit || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "units: pytest collected no test under tests/unit" >&2; fi; \
	exit $$rc

# ansible-test --local runs modules with the venv's Python, which has libvirt-python.
integration: venv ansible-test-tree
	@if ! ls tests/integration/targets/*/aliases >/dev/null 2>&1; then \
		echo "integration: no target under tests/integration/targets, nothing to run"; \
		exit 0; \
	fi; \
	cd "$(ANSIBLE_TEST_ROOT)" && $(VENV_ENV) ansible-test integration --local \
		--python $(VENV_PY_VERSION) --color no -v $(INTEGRATION_ARGS)

# Prints the DSN; `export FACTDB_TEST_POSTGRES=$$(hack/postgres.sh)` gives it to a
# pytest run by hand.
postgres:
	hack/postgres.sh

# The controller of the ansible-core 2.17 runs; made by .venv's Python, like bench-venv.
CORE217_VENV ?= $(TMP)/venv-core217
CORE217_PY := $(CORE217_VENV)/bin/python
CORE217_STAMP := $(CORE217_VENV)/.installed

venv-core217: $(CORE217_STAMP)

$(CORE217_STAMP): tests/functional/requirements-core217.txt | $(VENV_STAMP)
	@if ! "$(CORE217_PY)" -c '' >/dev/null 2>&1; then \
		echo "venv-core217: creating $(CORE217_VENV) with $(VENV_PY)"; \
		rm -rf "$(CORE217_VENV)"; \
		"$(VENV_PY)" -m venv "$(CORE217_VENV)"; \
	fi
	"$(CORE217_PY)" -m pip install -q --disable-pip-version-check --upgrade pip
	"$(CORE217_PY)" -m pip install -q --disable-pip-version-check -r tests/functional/requirements-core217.txt
	@touch "$@"

# FACTDB_TEST_POSTGRES, when set, names the PostgreSQL server instead of hack/postgres.sh's.
functional: venv venv-core217 collections
	@dsn="$${FACTDB_TEST_POSTGRES:-}"; \
	if [ -z "$$dsn" ]; then dsn=$$(hack/postgres.sh); fi; \
	$(ANSIBLE_ENV) PYTHONPATH="$(COLLECTIONS)" COLLECTIONS_PATH="$(COLLECTIONS)" FACTDB_TEST_POSTGRES="$$dsn" \
		"$(VENV_PY)" -m pytest -p no:cacheprovider -ra --durations=10 tests/functional $(FUNCTIONAL_ARGS)

docs-check: venv
	$(VENV_ENV) hack/docs-check.sh "$(TMP)/docs-check" "$(FQCN)"

lint: venv collections
	@if [ -d roles ] || [ -d playbooks ]; then \
		$(ANSIBLE_ENV) ansible-lint; \
	else \
		echo "lint: no roles/ or playbooks/ yet, nothing to lint"; \
	fi

changelog-lint: venv
	$(VENV_ENV) antsibull-changelog lint

test:
	@begin=$$(date +%s); \
	for step in $(TEST_STEPS); do \
		start=$$(date +%s); \
		echo "==> make $$step"; \
		if ! $(MAKE) $$step; then \
			echo "==> make $$step FAILED after $$(( $$(date +%s) - start ))s" >&2; \
			exit 1; \
		fi; \
		echo "==> make $$step passed in $$(( $$(date +%s) - start ))s"; \
	done; \
	echo "make test: PASSED, all $(words $(TEST_STEPS)) steps ($(TEST_STEPS)) in $$(( $$(date +%s) - begin ))s"

demo: deps venv collections
	$(ANSIBLE_ENV) ansible-playbook -i playbooks/inventory/localhost.yml playbooks/demo.yml $(DEMO_ARGS)

# The bench venv holds the community `ansible` package (for community.libvirt, the
# baseline) and runs every `ansible` command of the bench; .venv runs the in-process part.
# BENCH_ARGS selects benchmarks and rounds, e.g. BENCH_ARGS='host_caps_process --rounds 9'.
BENCH_VENV ?= $(TMP)/bench-venv
BENCH_PY := $(BENCH_VENV)/bin/python
BENCH_STAMP := $(BENCH_VENV)/.installed
BENCH_ARGS ?=

bench-venv: $(BENCH_STAMP)

# Made by .venv's Python, so both venvs run the same interpreter.
$(BENCH_STAMP): tests/bench/requirements.txt requirements.txt | $(VENV_STAMP)
	@if ! "$(BENCH_PY)" -c '' >/dev/null 2>&1; then \
		echo "bench-venv: creating $(BENCH_VENV) with $(VENV_PY)"; \
		rm -rf "$(BENCH_VENV)"; \
		"$(VENV_PY)" -m venv "$(BENCH_VENV)"; \
	fi
	"$(BENCH_PY)" -m pip install -q --disable-pip-version-check --upgrade pip
	"$(BENCH_PY)" -m pip install -q --disable-pip-version-check -r tests/bench/requirements.txt
	@touch "$@"

# The factdb benchmark measures PostgreSQL too: FACTDB_TEST_POSTGRES, or the server of
# hack/postgres.sh. Without either, that one measurement is reported invalid.
bench: venv bench-venv collections
	@dsn="$${FACTDB_TEST_POSTGRES:-}"; \
	if [ -z "$$dsn" ]; then dsn=$$(hack/postgres.sh) || echo "bench: no PostgreSQL for bench_factdb" >&2; fi; \
	$(VENV_ENV) BENCH_VENV="$(abspath $(BENCH_VENV))" COLLECTIONS_PATH="$(COLLECTIONS)" \
		LIBVIRT_URI="$(LIBVIRT_URI)" PYTHONPATH="$(COLLECTIONS)" FACTDB_TEST_POSTGRES="$$dsn" \
		"$(VENV_PY)" tests/bench/run.py $(BENCH_ARGS)

clean:
	rm -rf "$(VENV)" "$(TMP)" tests/output build dist changelogs/.plugin-cache.yaml .hypothesis
	rm -f ./*.tar.gz
	find . -path ./.git -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
