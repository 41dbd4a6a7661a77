# APU pathway. Quick start: `make run` (serve the demo) and `make test` (run every check).
# Needs only Python 3.11+ and make; everything else is installed into .venv.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Development defaults; production sets its own environment (see README).
export DEBUG ?= true
export PYTHONDONTWRITEBYTECODE := 1
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test lint setup db stop-db migrate messages makemessages vendor clean-venv \
	backup restore check-deploy bench bench-quick

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet '.[test]'
	touch $@

setup: $(BIN)/.installed messages .env
	@mkdir -p .data/staticfiles

# A development checkout gets a git-ignored .env with DEBUG on, so plain `manage.py` commands
# work here; a production server has no .env from make and keeps DEBUG off by default.
.env:
	printf '# Development settings for this checkout (git-ignored); see README, Configuration.\nDEBUG=true\n' > .env

# Compile the committed .po files (pure Python, via Babel: no GNU gettext needed).
messages: $(BIN)/.installed
	@$(BIN)/pybabel compile -D django -d locale --statistics 2>&1 | grep -v '^$$' || true
	@test -f locale/da/LC_MESSAGES/django.mo

# Extract strings into the .po files (needs GNU gettext; for developers changing text).
makemessages: $(BIN)/.installed
	$(BIN)/python manage.py makemessages -l da -l en --no-obsolete --no-location --no-wrap --ignore '.venv/*' --ignore '.data/*'

# Start the embedded PostgreSQL unless DATABASE_URL points at a server.
db: $(BIN)/.installed
	@if [ -z "$$DATABASE_URL" ]; then $(BIN)/python -m apu.embedded_db start; fi

stop-db: $(BIN)/.installed
	$(BIN)/python -m apu.embedded_db stop

migrate: setup db
	$(BIN)/python manage.py migrate --no-input

run: migrate
	$(BIN)/python manage.py seed_demo
	@echo "Serving APU pathway on http://$(HOST):$(PORT)/ (Ctrl-C stops; the database keeps running until 'make stop-db')"
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: setup db lint
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest -n auto --dist loadgroup $(PYTEST_ARGS)

# Load benchmark (README, "Benchmark"): gunicorn with production settings on 127.0.0.1,
# wrk with 10 connections, one page at a time; figures in the git-ignored .bench/.
bench: setup db
	$(BIN)/python scripts/bench.py --scales 1,100 --duration 30

bench-quick: setup db
	$(BIN)/python scripts/bench.py --scales 1,10 --duration 20

check-deploy: $(BIN)/.installed
	$(BIN)/python manage.py check --deploy --fail-level WARNING

vendor:
	./scripts/vendor.sh

clean-venv:
	rm -rf $(VENV)

# Backups (README, "Backups"): a pg_dump archive of the database in use into the git-ignored
# backups/ (or FILE=path); `make restore FILE=path [INTO=name]` restores one into a new
# database on the same server, never over the one in use, and prints how to point the app at it.
backup: $(BIN)/.installed db
	$(BIN)/python -m apu.backup dump "$(FILE)"

restore: $(BIN)/.installed db
	$(BIN)/python -m apu.backup restore "$(FILE)" $(if $(INTO),--into "$(INTO)")
