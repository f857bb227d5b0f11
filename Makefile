# The two commands of the README: `make run` and `make test`. Everything they need is
# installed by them (a .venv for Python packages; scripts/install-test-deps for apt).

PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
LISTEN ?= 127.0.0.1:8080
# A second interpreter the suite also runs on (issue: tested on 3.11 and 3.13).
PY313  ?= $(shell ls -d $$HOME/.pyenv/versions/3.13*/bin/python3 2>/dev/null | head -n1)
# The oldest Python we support: the pure cores and the in-process app tier run on it.
PY310  ?= $(shell ls -d $$HOME/.pyenv/versions/3.10*/bin/python3 2>/dev/null | head -n1)

.PHONY: run test lint typecheck unit test-313 test-310 bench clean

# `make run` installs what running needs (the package and its dependencies); the test
# tools (pytest, mypy, playwright...) come with `make test` only.
$(VENV)/.run-installed: pyproject.toml helper/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	$(PY) -m pip install -q -e ./helper
	touch $@

$(VENV)/.installed: pyproject.toml helper/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]' -e ./helper
	touch $(VENV)/.run-installed $@

run: $(VENV)/.run-installed
	$(VENV)/bin/cgihttpd -l $(LISTEN)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check src tests bench scripts helper

# Twice: as here, and as on Windows (the course's platform), which no CI machine runs.
typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy --platform win32

test: $(VENV)/.installed
	bash scripts/install-test-deps
	$(MAKE) lint typecheck
	$(PY) -m pytest -q -p no:cacheprovider -n 2 tests/unit
	$(PY) -m pytest -q -p no:cacheprovider --ignore=tests/unit
	$(MAKE) test-313
	$(MAKE) test-310

# The suite minus the Apache comparisons and the slow group (both run on 3.11 above),
# on Python 3.13, in a venv of its own: `make test` stays under 15 minutes on 2 cores.
test-313:
	@if [ -z "$(PY313)" ]; then echo "no Python 3.13 found; skipping the 3.13 run"; else \
	  $(PY313) -m venv .venv313 && .venv313/bin/python -m pip install -q -e '.[test]' && \
	  .venv313/bin/python -m pytest -q -p no:cacheprovider -n 2 tests/unit && \
	  .venv313/bin/python -m pytest -q -p no:cacheprovider -m 'not differential and not slow' \
	    --ignore=tests/unit ; fi

test-310:
	@if [ -z "$(PY310)" ]; then echo "no Python 3.10 found; skipping the 3.10 run"; else \
	  $(PY310) -m venv .venv310 && .venv310/bin/python -m pip install -q -e '.[test]' && \
	  .venv310/bin/python -m pytest -q -p no:cacheprovider -n 2 tests/unit && \
	  .venv310/bin/python -m pytest -q -p no:cacheprovider tests/app ; fi

unit: $(VENV)/.installed
	$(PY) -m pytest -q -n 2 tests/unit

bench: $(VENV)/.installed
	bash scripts/install-test-deps
	$(PY) -m pip install -q -e '.[test,bench]'
	$(PY) bench/run.py --profile hello16,sh16,static64

clean:
	rm -rf $(VENV) .venv313 .venv310 .pytest_cache .mypy_cache .ruff_cache
