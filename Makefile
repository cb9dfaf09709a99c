# Two commands: `make run` serves the demo, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
PORT ?= 5000
HOST ?= 127.0.0.1
#: pytest-xdist workers; each has its own databases and live server. One file stays on one worker.
TEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile

.PHONY: run test test-sqlite test-postgresql setup setup-test lint format translations bench clean

$(BIN)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

setup: $(BIN)/.installed translations

# axe-core for the accessibility tests (tests/test_accessibility.py); the app never loads it.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

setup-test: setup node_modules/.package-lock.json

translations: $(BIN)/.installed
	$(BIN)/pybabel compile --statistics -d shop/translations

run: setup
	$(FLASK) db upgrade
	$(FLASK) data demo
	$(FLASK) data demo-activity
	$(FLASK) users demo
	@echo "Chợ HTX is at http://$(HOST):$(PORT)"
	$(BIN)/gunicorn --no-control-socket --bind $(HOST):$(PORT) --workers 2 --threads 4 \
		--access-logfile - app:app

# The production stack on one machine (deploy/serve-prod.sh): migrate, gunicorn, nginx.
# Needs SECRET_KEY and DATABASE_URL; REDIS_URL and MEDIA_S3_* as the deployment has them.
.PHONY: serve-prod
serve-prod: setup
	deploy/serve-prod.sh

test: setup-test lint
	$(PYTEST) -m "not stack"
	TEST_DB=postgresql $(PYTEST) -m "not backend_independent"

test-sqlite: setup-test
	$(BIN)/python -m pytest

test-postgresql: setup-test
	TEST_DB=postgresql $(BIN)/python -m pytest

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(BIN)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

translations-update: $(BIN)/.installed
	$(BIN)/pybabel extract -F babel.cfg -o /tmp/cho-htx-messages.pot .
	$(BIN)/pybabel update -i /tmp/cho-htx-messages.pot -d shop/translations --no-fuzzy-matching

bench: setup
	$(BIN)/python bench/pages.py

clean:
	rm -rf $(VENV) node_modules instance/*.sqlite3

.PHONY: bench-images
bench-images: setup
	$(BIN)/python bench/images.py

.PHONY: bench-catalogue
bench-catalogue: setup
	$(BIN)/python bench/catalogue.py

.PHONY: bench-search
bench-search: setup
	$(BIN)/python bench/search.py

# Issue 9: 50 buyers for 5 minutes against gunicorn + PostgreSQL (its own cluster) + Redis on
# 100,000 products (bench/load/); prints p50/p95/p99 and requests/s, fails on any error.
.PHONY: load
load: setup
	$(BIN)/python bench/load/run.py --markdown

.PHONY: bench-import
bench-import: setup
	$(BIN)/python bench/imports.py
