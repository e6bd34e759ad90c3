#!/usr/bin/env bash
# make demo: the local database (started if it is not running), the module deployed,
# a worker beside it, and `trader demo` for a short run; then it stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
DB_PORT=${DB_PORT:-54329}
DB_NAME=${DB_NAME:-trader}
export DATABASE_URL="postgresql://postgres@localhost:$DB_PORT/$DB_NAME"

started_db=0
if ! pg_isready -q -h localhost -p "$DB_PORT"; then
    scripts/db.sh start
    started_db=1
fi
sqitch deploy --verify "db:pg://postgres@localhost:$DB_PORT/$DB_NAME" | grep -v '^  + .* ok$' || true

worker_log=$(mktemp -t trader-worker.XXXXXX.log)
.venv/bin/trader worker >"$worker_log" 2>&1 &
worker_pid=$!
cleanup() {
    kill -TERM "$worker_pid" 2>/dev/null && wait "$worker_pid" 2>/dev/null || true
    echo "worker stopped (its log: $worker_log)"
    if [ "$started_db" -eq 1 ]; then scripts/db.sh stop; fi
}
trap cleanup EXIT

.venv/bin/trader demo --duration "${DEMO_DURATION:-20}" --rate "${DEMO_RATE:-20}" --symbols "${DEMO_SYMBOLS:-3}"
tca_report=${TMPDIR:-/tmp}/trader-tca.html
.venv/bin/trader tca --since 1h --html "$tca_report" >/dev/null && echo "TCA report: $tca_report"
