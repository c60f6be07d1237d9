# needlesim: the two commands.
#   make run   set up .venv and run the main job on the bundled example
#   make test  set up .venv with the test extras and run ruff, mypy and pytest
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
EXAMPLE ?= examples/acne-scars.yaml
OUT    ?= results
# pytest workers (pytest-xdist); each test file runs whole in one worker (--dist loadfile).
# The browser tests run after, in a process of their own: in a worker that had run other
# files first, their app's pages never finished loading (cause not found yet).
PYTEST_WORKERS ?= 2
BROWSER_TESTS := tests/test_app_browser.py

.PHONY: run test lint typecheck pytest bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@ $(VENV)/.run-installed

run: $(VENV)/.run-installed
	$(BIN)/needlesim simulate $(EXAMPLE) --out $(OUT)/acne-scars

lint: $(VENV)/.test-installed
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/lint-imports

typecheck: $(VENV)/.test-installed
	$(BIN)/mypy

pytest: $(VENV)/.test-installed
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile --ignore=$(BROWSER_TESTS)
	$(BIN)/python -m pytest $(BROWSER_TESTS)

test: lint typecheck pytest

bench: $(VENV)/.test-installed
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .mypy_cache .ruff_cache
