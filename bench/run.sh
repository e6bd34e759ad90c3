#!/usr/bin/env bash
# make bench: a throwaway cluster with durable settings (fsync and synchronous_commit
# on), the module deployed, then bench/bench.py. Arguments go to bench.py.
set -euo pipefail
cd "$(dirname "$0")/.."
exec pg_virtualenv -t -v 15 \
    -o fsync=on -o synchronous_commit=on \
    -o shared_preload_libraries=pg_cron -o cron.database_name=trader_bench -o cron.use_background_workers=on \
    bash -c '
        set -euo pipefail
        export PGDATABASE=trader_bench SQITCH_FULLNAME=bench SQITCH_EMAIL=bench@localhost
        createdb trader_bench
        sqitch deploy db:pg:trader_bench >/dev/null
        .venv/bin/python bench/bench.py "$@"' bench "$@"
