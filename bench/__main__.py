"""`python -m bench [name …]`: run benchmarks, print their tables, write bench/results/*.json."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = ["core", "realtime", "routing", "scale", "logins"]


def main(argv: list[str]) -> int:
    """Run the named benchmarks (all by default)."""
    names = argv or BENCHMARKS
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        print(f"\n== {name} ==")
        print(module.run()["table"], flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
