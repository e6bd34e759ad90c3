#!/usr/bin/env bash
# make test: a throwaway PostgreSQL 15 cluster with pg_cron loaded, then every
# change deployed and verified, everything reverted, deployed again, and the pgTAP
# and pytest suites run against it. The cluster is gone when this exits.
set -euo pipefail
cd "$(dirname "$0")/.."
export TEST_DB=trader_test
exec pg_virtualenv -t -v 15 \
    -o shared_preload_libraries=pg_cron \
    -o cron.database_name=$TEST_DB \
    -o cron.use_background_workers=on \
    -o max_worker_processes=16 \
    -o max_connections=200 \
    tests/in_cluster.sh "$@"
