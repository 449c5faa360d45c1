#!/usr/bin/env bash
# The README's test command: a fresh virtualenv with pinned dependencies, lint, every test.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[test]'
.venv/bin/ruff check .
.venv/bin/lint-imports --no-cache
.venv/bin/mypy
.venv/bin/bandit -q -c pyproject.toml -r engine cases tasks web bench scripts
# The browser tests run in their own process: a live server thread and Chromium should not
# share a garbage collector with a thousand earlier tests' leftovers.
.venv/bin/pytest -q --cov --cov-report= --ignore=tests/browser "$@"
.venv/bin/pytest -q --cov --cov-append --cov-report=term tests/browser "$@"
