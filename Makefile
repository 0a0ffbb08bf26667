# The two commands a new machine needs (see README.md): `make generate` and `make test`.
# Both set up what they use: the virtualenv with the pinned Python dependencies, and
# Prometheus's promtool/amtool from Debian's packages when they are missing.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := prometheus prometheus-alertmanager

.PHONY: generate test unit slo-test check lint typecheck architecture bench tools venv clean

generate: venv tools
	$(BIN)/slo compile

# Both layers: tests/unit (no promtool, no server; seconds) and tests/integration (promtool,
# Prometheus and Alertmanager on 127.0.0.1).
test: venv tools
	$(BIN)/python -m pytest

# The fast layer alone: needs neither promtool nor a server.
unit: venv
	$(BIN)/python -m pytest tests/unit

# The generated rule tests alone (the suite runs them too): one promtool run per SLO.
slo-test: venv tools
	$(BIN)/slo test

# Fast checks for every change: lint, types, the architecture's import contracts
# (docs/architecture.md), and generated files up to date.
check: venv
	$(BIN)/ruff check compiler tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/slo compile --check

lint: venv
	$(BIN)/ruff check compiler tests bench

typecheck: venv
	$(BIN)/mypy

architecture: venv
	$(BIN)/lint-imports

# One table (docs/performance.md): compile at 100/1,000/10,000 SLOs, rule evaluation against
# Sloth's generated rules at 200/2,000/20,000 raw series (needs shared/peers/sloth). Long.
bench: venv tools
	$(BIN)/python bench/table.py
	$(BIN)/python bench/history_bench.py

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# promtool (rule checks and tests), prometheus (dashboard and gate tests), amtool (routing).
tools:
	@if command -v promtool >/dev/null && command -v prometheus >/dev/null && command -v amtool >/dev/null; then \
		echo "promtool, prometheus and amtool are installed"; \
	else \
		echo "installing Debian packages: $(APT_PACKAGES)"; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(APT_PACKAGES); \
	fi

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
