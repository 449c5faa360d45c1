"""``python -m bench.load``: see bench/load/runner.py and docs/load.md."""

from bench.load.runner import main

raise SystemExit(main())
