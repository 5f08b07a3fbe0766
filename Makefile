# The CRM's set-up. `make run` serves it; `make test` checks it. See README.md.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PY := .venv/bin/python
# Loads the service URLs that scripts/services.sh found or started.
WITH_SERVICES := set -a; . var/services.env; set +a;
# Two processes: the suite's time halves on a 2-core machine. Each process has its own test
# database and Redis database (crm/settings.py), so their Celery workers never meet.
PYTEST_ARGS ?= -n 2
# make bench SIZE=small (10,000 contacts) | medium (100,000) | full (1,000,000, the default) | a number
SIZE ?= full
SEED ?= 1
BENCH_ARGS ?=

.PHONY: help setup services messages run test lint bench stop clean

help:
	@echo "make run    set up everything, then serve the CRM on http://127.0.0.1:8000 with a worker and beat"
	@echo "make test   set up everything, then run the linter and the whole test suite"
	@echo "make bench  set up everything, then benchmark on a generated data set (SIZE=small for 10,000 contacts)"
	@echo "make stop   stop the project-local PostgreSQL and Redis, if any run"

setup:
	@scripts/bootstrap.sh --browser

services: setup
	@scripts/services.sh up

messages: setup
	@DJANGO_DEBUG=true $(PY) manage.py compilemessages --ignore=.venv -v 0

run: services messages
	@scripts/run.sh

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

test: services messages lint
	@$(WITH_SERVICES) $(PY) -m pytest $(PYTEST_ARGS)

bench: services messages
	@$(WITH_SERVICES) DJANGO_SETTINGS_MODULE=bench.settings $(PY) manage.py bench --size $(SIZE) --seed $(SEED) $(BENCH_ARGS)

stop:
	@scripts/services.sh down

clean: stop
	rm -rf var .venv .pytest_cache
