# One entry point for people and CI. Every target depends on `setup`, so a fresh clone needs
# nothing else; `demo` and `test` also bring up a Docker daemon when none answers (root on
# Debian/Ubuntu) and build the systemd test-host images on first use.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed-$(shell cat requirements/constraints.txt requirements/*.in | cksum | cut -d' ' -f1)
COLLECTION_LINK := .ansible/collections/ansible_collections/mvp_platform/infra
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

# Scenarios CI runs (the full-stack `default`); `test-all` runs every scenario in molecule/ on
# Debian 13 and the distribution-portable ones again on Debian 12. MOLECULE_DISTRO picks the
# test-host image of every scenario (molecule/_base/create.yml).
MOLECULE_SCENARIOS ?= default
MOLECULE_DISTRO ?= debian13
export MOLECULE_DISTRO
ALL_SCENARIOS := $(sort $(notdir $(patsubst %/molecule.yml,%,$(wildcard molecule/*/molecule.yml))))
# Those again on Debian 12: where the distribution's packages change behaviour (sshd, PAM, nftables,
# Docker and compose, the exporters).
DISTRO_SCENARIOS := host_baseline platform_development default security platform

.PHONY: help setup docker images fixtures promtool demo demo-prerequisites demo-destroy test test-stages test-all \
        test-all-lanes test-all-debian13 test-all-portable lint sanity unit build-check \
        molecule molecule-all bench audit changelog lock clean app app-deps app-lint app-test app-images app-image-test \
        dev dev-down dev-test

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

setup: $(STAMP) $(COLLECTION_LINK) ## Create .venv with the pinned tools and link this tree as the collection

$(STAMP): requirements/constraints.txt requirements/control.in requirements/dev.in
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "ERROR: Python 3.11+ is required ($(PYTHON) is $$($(PYTHON) -V 2>&1))." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -c requirements/constraints.txt -r requirements/dev.in
	rm -f $(VENV)/.installed-*
	touch $@

$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn ../../../.. $@

docker: ## Make sure a Docker daemon answers (installs and starts one when it can)
	@scripts/ensure-docker.sh

# Debian 13 always (the Node base of the application images is built on it), plus the
# distribution the scenarios run on; `test-all` asks for Debian 12 itself.
images: docker ## Build the systemd test-host images the scenarios need (reused when present)
	@scripts/build-test-images.sh $(sort debian13 $(MOLECULE_DISTRO))

fixtures: images ## Build the app fixture images (no registry here) and their archive
	@scripts/build-fixture-images.sh >/dev/null

# The prerequisites two at a time (the Python tools beside the test-host image, then the fixtures
# beside the application's images): a new user's first run waits on downloads and builds, not on
# one after the other.
demo: ## Create the local throwaway host and converge the development platform on it
	@$(MAKE) --no-print-directory -j2 --output-sync=line demo-prerequisites
	@scripts/demo.sh up

demo-prerequisites: setup fixtures app-images

demo-destroy: ## Remove the local demo host and its data
	@scripts/demo.sh destroy

# Two stages at a time: the full-stack scenario (much of it waits on apt, Docker and its test
# host) beside the linters, sanity and unit tests, which follow one another; each stage's output
# is printed whole when it ends. A -k given to `make test` reaches the stages (MAKEFLAGS).
test: ## Everything CI runs: linters, sanity, unit, build, the app, the full-stack scenario
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-stages

test-stages: molecule lint sanity unit build-check app

# Two lanes, as `test` runs two stages: `test` with the Debian 13-only scenarios beside the
# portable ones (on Debian 12, then on Debian 13). A scenario's host names are fixed, so it must
# never run in both lanes at once: each scenario belongs to one lane. The prerequisites are made
# first, once, so the lanes do not build the same images side by side. The lanes' lines are not
# held back (a lane takes hours; -Oline would hold a sub-make's output until it ends): the portable
# lane's molecule output streams, the other lane prints each stage whole when it ends, as `test` does.
DEBIAN13_ONLY_SCENARIOS := $(filter-out $(DISTRO_SCENARIOS),$(ALL_SCENARIOS))

test-all: setup fixtures app-images ## Every scenario on Debian 13, the portable ones on Debian 12 too
	@$(MAKE) --no-print-directory images MOLECULE_DISTRO=debian12
	@$(MAKE) --no-print-directory -j2 --output-sync=none test-all-lanes

test-all-lanes: test-all-debian13 test-all-portable

test-all-debian13:
	@$(MAKE) --no-print-directory test MOLECULE_SCENARIOS="$(DEBIAN13_ONLY_SCENARIOS)"

test-all-portable:
	@$(MAKE) --no-print-directory molecule MOLECULE_SCENARIOS="$(DISTRO_SCENARIOS)" MOLECULE_DISTRO=debian12
	@$(MAKE) --no-print-directory molecule MOLECULE_SCENARIOS="$(DISTRO_SCENARIOS)" MOLECULE_DISTRO=debian13

lint: setup ## ansible-lint (production profile), yamllint, ruff, vault check, workflow linters
	yamllint --strict .
	actionlint
	zizmor --offline --quiet .github/workflows
	ansible-lint
	ruff check .
	ruff format --check .
	scripts/check-vault.sh
	antsibull-changelog lint
	bash -n scripts/*.sh .ci/run

sanity: setup ## ansible-test sanity on a copy under ansible_collections/mvp_platform/infra
	@scripts/sanity.sh

promtool: setup ## promtool for the alert-rule tests (from Debian 13's package when missing)
	@scripts/ensure-promtool.sh

unit: setup promtool ## pytest: plugin unit tests, module checks on local servers, preflight and bad-input tests
	pytest

build-check: setup ## Build the collection tarball, install it into an empty path, syntax-check from there
	@scripts/check-build.sh

molecule: setup fixtures app-images ## Run the molecule scenarios in MOLECULE_SCENARIOS
	@for s in $(MOLECULE_SCENARIOS); do echo "==> molecule test -s $$s ($(MOLECULE_DISTRO))"; molecule test -s $$s || exit 1; done

molecule-all: setup fixtures app-images ## Run every molecule scenario
	@$(MAKE) molecule MOLECULE_SCENARIOS="$(ALL_SCENARIOS)"

bench: setup fixtures ## Run the benchmarks; results as JSON in benchmarks/results/
	@scripts/bench.sh

app: app-lint app-test dev-test ## The reference application (app/): lint, types, unit + integration tests, hot reload

app-deps: ## Node.js LTS (from the npm registry) and the application's npm dependencies
	@scripts/app.sh deps

app-lint: ## ESLint, Prettier --check and tsc --noEmit of app/backend and app/frontend
	@scripts/app.sh lint

app-test: fixtures ## Unit tests of both apps; the backend's integration tests against PostgreSQL
	@scripts/app.sh test

app-images: images ## Production images of the application (and their Node base), saved for app_stack (reused per commit; after the test images: both debootstrap)
	@SAVE=1 scripts/build-app-images.sh

app-image-test: app-images fixtures ## The production images as a release runs them (migrate, health, page, SIGTERM)
	@scripts/app.sh image-test

dev: docker ## Development stack: frontend :5000 (hot reload), backend :5001 (watch), PostgreSQL :5432
	@scripts/app.sh dev-up

dev-down: ## Stop the development stack (PURGE=1 also drops its database volume)
	@scripts/app.sh dev-down

dev-test: docker ## make dev's hot-reload test: edit a file of each app, see it served, restore, tear down
	@scripts/app.sh dev-test

audit: setup ## pip-audit of the pinned dependencies (needs PyPI's JSON API; runs in GitHub CI)
	pip-audit --strict -r requirements/constraints.txt --progress-spinner off

# Until 0.1.0 is published, its entry is rebuilt from every fragment (keep_fragments: true);
# once published, drop the rm and release new versions with `antsibull-changelog release`.
changelog: setup ## Regenerate CHANGELOG.md from changelogs/fragments
	antsibull-changelog lint
	rm -f changelogs/changelog.yaml
	antsibull-changelog release --version $$(python3 -c 'import yaml; print(yaml.safe_load(open("galaxy.yml"))["version"])')

lock: ## Re-resolve requirements/constraints.txt from requirements/*.in (needs network)
	rm -rf build/lock-venv && $(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/pip install --quiet -r requirements/dev.in
	{ echo "# Pinned set for Python 3.11, generated by 'make lock' from requirements/dev.in."; \
	  echo "# Every install uses it as a constraints file so every machine gets the same versions."; \
	  build/lock-venv/bin/pip freeze; } > requirements/constraints.txt

clean: ## Remove the venv, build outputs and test outputs (not the demo host)
	rm -rf $(VENV) .ansible build tests/output .pytest_cache .ruff_cache
