# Two commands for a new user: `make run` (install + start) and `make test` (install + check).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2

.PHONY: run test install install-dev models migrate serve worker beat lint typecheck pytest js-test bench clean fault-test fault-bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -r requirements-insightface.txt

install-dev: install
	$(BIN)/pip install --quiet -r requirements-dev.txt

models: install
	$(BIN)/python manage.py fetch_models

migrate: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0

## make run: install, fetch the face models, migrate, and serve on http://$(HOST):$(PORT)
run: install models migrate
	@echo ""
	@echo "Stash Sense is starting on http://$(HOST):$(PORT)/  (admin: /admin/, API docs: /api/docs/)"
	@echo "First time? In another terminal: $(BIN)/python manage.py createsuperuser"
	@echo "Then create an API key in the admin (API keys) or set STASHSENSE_API_KEY."
	OPENBLAS_NUM_THREADS=1 $(BIN)/gunicorn stashsense.wsgi:application --bind $(HOST):$(PORT) --workers 1 --threads 8 \
		--timeout 300 --access-logfile - --forwarded-allow-ips 127.0.0.1

worker: install
	$(BIN)/celery -A stashsense worker -Q scraping,recognition,default --concurrency $(WORKERS) --prefetch-multiplier 1 -l info

beat: install
	$(BIN)/celery -A stashsense beat -l info

## make test: install dev requirements, then lint, type check and the whole test suite
test: install-dev models
	$(MAKE) lint typecheck pytest js-test

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck:
	$(BIN)/mypy .

pytest:
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest

## make fault-test: only the fault and abuse tests (gunicorn, Celery workers, kills, fuzzing)
fault-test: install-dev models
	$(BIN)/pytest stashsense/tests/fault -rs -s

## make fault-bench: peak RSS of the worst request, first answer after a restart with 300k
## faces, p99 and 503 share at 2x the inference concurrency (numbers only; minutes)
fault-bench: install-dev models
	$(BIN)/python -m stashsense.tests.fault.bench_faults

js-test:
	@if command -v node >/dev/null; then node --test plugin/tests/; else echo "node not found: plugin JS tests skipped"; fi

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
