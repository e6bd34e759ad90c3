#!/usr/bin/env bash
# Runs inside pg_virtualenv, which exports PGHOST, PGPORT, PGUSER and PGPASSWORD.
set -euo pipefail
export PGDATABASE=$TEST_DB
export SQITCH_FULLNAME=${SQITCH_FULLNAME:-trader-module tests} SQITCH_EMAIL=${SQITCH_EMAIL:-tests@localhost}
target=db:pg:$TEST_DB
step() { printf '\n== %s\n' "$*"; }

createdb "$TEST_DB"
psql -X -q -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION pgtap' -c 'CREATE EXTENSION pg_cron'

step "deploy, verify"
sqitch deploy --verify "$target"
step "revert everything"
sqitch revert -y "$target"
leftover=$(psql -X -tA -v ON_ERROR_STOP=1 -f tests/leftovers.sql)
if [ -n "$leftover" ]; then
    echo "revert left objects behind:"; echo "$leftover"; exit 1
fi
echo "revert left nothing of the module behind"
step "deploy again"
sqitch deploy --verify "$target"

step "pgTAP"
pg_prove --failures --timer -d "$TEST_DB" tests/pgtap/*/*.sql

step "pytest"
.venv/bin/python -m pytest -q tests/python "$@"
