# Trader Module. `make test` and `make demo` set up everything they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

DB_PORT ?= 54329
DB_NAME ?= trader
TARGET  ?= db:pg://postgres@localhost:$(DB_PORT)/$(DB_NAME)
VENV    := .venv
export DB_PORT DB_NAME
export SQITCH_FULLNAME ?= $(shell id -un)
export SQITCH_EMAIL ?= $(shell id -un)@localhost

.PHONY: help setup db stop psql deploy revert test demo bench status docs

help: ## List the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

setup: ## Install what is missing: PostgreSQL 15, pgTAP, pg_cron, sqitch, the Python venv
	@scripts/setup.sh

db: setup ## Start the local cluster (localhost:$(DB_PORT), database $(DB_NAME))
	@scripts/db.sh start

stop: ## Stop the local cluster
	@scripts/db.sh stop

psql: ## Open psql on the local database
	@psql -h localhost -p $(DB_PORT) -U postgres $(DB_NAME)

deploy: setup ## sqitch deploy (and verify) to TARGET, the local database by default
	sqitch deploy --verify $(TARGET)

revert: setup ## sqitch revert everything from TARGET
	sqitch revert -y $(TARGET)

test: setup ## Throwaway cluster: deploy, verify, revert, deploy again, pgTAP, pytest
	@tests/run.sh

demo: setup ## Local database, deploy, a worker, and a 20 s `trader demo` (DEMO_DURATION, DEMO_RATE, DEMO_SYMBOLS)
	@scripts/demo.sh

status: setup ## trader status against the local database
	@.venv/bin/trader status --dsn postgresql://postgres@localhost:$(DB_PORT)/$(DB_NAME)

bench: setup ## Throughput and latency against the database's own INSERT+NOTIFY rate; writes bench/results.md
	@bench/run.sh

docs: setup ## Remake the docs' tables of statuses and reason codes (README.md, docs/*.md) from the local database (deployed)
	@DATABASE_URL=postgresql://postgres@localhost:$(DB_PORT)/$(DB_NAME) .venv/bin/python scripts/readme_tables.py README.md docs/*.md
