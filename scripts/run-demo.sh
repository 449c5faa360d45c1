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
# The demo signs in with the password only; ASB_REQUIRE_TOTP=true tries two-factor sign-in
# (each user's first sign-in shows a QR code to scan). Production keeps it on (the default).
export ASB_REQUIRE_TOTP=${ASB_REQUIRE_TOTP:-false}
.venv/bin/asb init-db
.venv/bin/asb seed-demo
exec .venv/bin/asb serve --host 127.0.0.1 --port "${PORT:-5000}"
