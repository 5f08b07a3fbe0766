# The CRM's set-up. `make run` serves it; `make test` checks it. See README.md.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PY := .venv/bin/python
# Loads the service URLs that scripts/services.sh found or started.
WITH_SERVICES := set -a; . var/services.env; set +a;
PYTEST_ARGS ?=

.PHONY: help setup services messages run test lint stop clean

help:
	@echo "make run    set up everything, then serve the CRM on http://127.0.0.1:8000 with a worker and beat"
	@echo "make test   set up everything, then run the linter and the whole test suite"
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

stop:
	@scripts/services.sh down

clean: stop
	rm -rf var .venv .pytest_cache
