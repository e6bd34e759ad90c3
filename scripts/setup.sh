#!/usr/bin/env bash
# Installs what the module needs, and only what is missing: Debian packages for
# PostgreSQL 15, pgTAP, pg_cron and sqitch, and a Python venv with the python/
# package at the versions of python/constraints.txt (the tested ones). Quick when
# everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(postgresql-15 postgresql-client-15 postgresql-common postgresql-15-pgtap postgresql-15-cron
          sqitch libdbd-pg-perl libtap-parser-sourcehandler-pgtap-perl)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

missing=()
for p in "${packages[@]}"; do installed "$p" || missing+=("$p"); done
python_ok=1
python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null || python_ok=0
python3 -m venv --help >/dev/null 2>&1 || python_ok=0
if [ "$python_ok" -eq 0 ]; then missing+=(python3 python3-venv python3-pip); fi

if [ "${#missing[@]}" -gt 0 ]; then
    sudo_cmd=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "setup: not root and no sudo: install ${missing[*]} by hand" >&2; exit 1; }
        sudo_cmd=(sudo)
    fi
    echo "setup: installing ${missing[*]}"
    "${sudo_cmd[@]}" apt-get update -qq
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

venv=.venv
stamp=$venv/.installed
if [ ! -x "$venv/bin/python" ]; then
    echo "setup: creating $venv"
    python3 -m venv "$venv"
fi
if [ ! -f "$stamp" ] || [ python/pyproject.toml -nt "$stamp" ] || [ python/constraints.txt -nt "$stamp" ]; then
    echo "setup: installing the python/ package into $venv"
    "$venv/bin/python" -m pip install -q --upgrade pip
    "$venv/bin/python" -m pip install -q -c python/constraints.txt -e './python[test]'
    touch "$stamp"
fi
