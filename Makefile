# supplytwin — two commands on a fresh machine: `make demo` and `make test`.
# Everything the project needs is installed from here: the virtual environment, the package
# with its test extras, and (for browser tests) Debian's chromium where missing.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: setup browser-deps demo test test-fast bench docs dashboard clean lint

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,dev,distributed]'
	touch $(STAMP)

setup: $(STAMP)

# Browser tests drive Debian's chromium + chromium-driver; install them where missing.
browser-deps:
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Debian packages chromium and chromium-driver (about 40 s)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else echo "warning: no apt-get; browser tests need chromium and chromedriver on PATH"; fi

demo: setup
	$(BIN)/supplytwin validate scenarios/*.yaml
	$(BIN)/supplytwin run scenarios/baseline.yaml

test: setup browser-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: setup
	$(BIN)/python -m pytest -m "unit" $(PYTEST_ARGS)

bench: setup
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[bench]'
	$(BIN)/python -m benchmarks

dashboard: setup
	$(BIN)/supplytwin dashboard

docs: setup
	$(BIN)/python -m supplytwin.scenario.reference > docs/scenario-format.md

lint: setup
	$(BIN)/ruff check supplytwin tests benchmarks dashboard

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
