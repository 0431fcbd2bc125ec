# Two commands do all the set-up on a fresh Debian/Ubuntu machine:
#   make demo   -- system packages, virtualenv, package, then the local demo
#   make test   -- the same set-up, then the test suite against a real MariaDB and real ODBC
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SYSTEM_PACKAGES := unixodbc libsqliteodbc mariadb-server postgresql python3-venv openssh-server locales
DEMO_SECONDS ?= 60

.PHONY: demo test bench faults system venv clean lint

system:
	@./scripts/ensure-system-packages $(SYSTEM_PACKAGES)

$(BIN)/replicator: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $@

venv: system $(BIN)/replicator

demo: venv
	$(BIN)/replicator demo --seconds $(DEMO_SECONDS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Two workers, one per core: each starts its own throwaway MariaDB (tests/conftest.py), so they share nothing.
TEST_WORKERS ?= 2

test: venv lint
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS)

faults: venv
	$(BIN)/python -m pytest -q -s -m faults tests/test_faults.py

bench: venv
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
