#!/usr/bin/env bash
# The README's "run the product" command: install, migrate, seed demo users, serve on SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q -e .
if [ -z "${SECRET_KEY:-}" ]; then
  # A throw-away key for this demo run only; set your own in production.
  SECRET_KEY=$(.venv/bin/python -c 'import secrets; print(secrets.token_hex(32))')
  export SECRET_KEY
fi
.venv/bin/asb init-db
.venv/bin/asb seed-demo
exec .venv/bin/asb serve --host 127.0.0.1 --port "${PORT:-5000}"
