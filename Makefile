# Beacon: the two set-up commands are `make run` and `make test`.
# VENV picks the virtual environment (default .venv); PORT the web port (8000).

VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: run test lint format bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.runtime-installed

## run: install, migrate, ensure an admin exists, then serve web + worker + beat on $(PORT).
run: $(VENV)/.runtime-installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py ensureadmin
	PORT=$(PORT) $(PY) scripts/run_all.py

## test: install dev dependencies and run the whole suite (SQLite, no outside service),
## on up to 4 processes (each e2e test has its own broker directory).
test: $(VENV)/.dev-installed
	$(PY) -m pytest -n auto --maxprocesses 4

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.dev-installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## bench: the check-engine benchmark (see docs/performance.md for options).
bench: $(VENV)/.dev-installed
	$(PY) bench/checks.py

clean:
	rm -rf var/broker var/static
