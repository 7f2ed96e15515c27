# Everyday commands; README.md explains them.
PY ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: install run test lint migrations-check openapi bench bench-load

$(BIN)/python:
	$(PY) -m venv $(VENV)

install: $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py demo_data
	@# The worker runs imports and analyses in the background; it stops with the server.
	@trap 'kill 0' INT TERM EXIT; \
	$(BIN)/python manage.py worker & \
	$(BIN)/python manage.py runserver 127.0.0.1:8000

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrations-check: install
	$(BIN)/python manage.py makemigrations --check --dry-run

# The API's OpenAPI schema, committed as docs/openapi.json (tests/api/test_docs.py checks it).
openapi: install
	$(BIN)/python manage.py api_schema

bench: install
	DEBUG=0 $(BIN)/python bench/chain_page.py
	$(BIN)/python bench/analysis.py

# 50 simulated users against gunicorn and PostgreSQL for 60 s (bench/load.py says how);
# needs PostgreSQL: BENCH_DATABASE_URL (its own database, dropped by --reseed), default postgres://postgres@127.0.0.1:5432/benchload.
bench-load: install
	$(BIN)/python bench/load.py
