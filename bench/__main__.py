"""Run every ``bench/bench_*.py`` and print one table of results with baselines and ratios.

Usage: ``python -m bench [NAME_FILTER ...]``; the table is also written to
``bench/results/latest.json``.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
from pathlib import Path

from bench.common import Result


def _modules(filters: list[str]) -> list[str]:
    names = [m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)])]
    chosen = [n for n in sorted(names) if n.startswith("bench_")]
    return [n for n in chosen if not filters or any(f in n for f in filters)]


def _print(results: list[Result]) -> None:
    header = f"{'benchmark':44} {'tagpilot':>12} {'baseline':>12} {'ratio':>7}  target"
    print(header)
    print("-" * len(header))
    for r in results:
        note = f"; {r.note}" if r.note else ""
        print(
            f"{r.name:44} {r.subject_value:>10.4f}{r.unit:>2} {r.baseline_value:>10.4f}{r.unit:>2}"
            f" {r.ratio:>7.2f}  {r.target}  ({r.subject} vs {r.baseline}{note})"
        )


def main(argv: list[str]) -> int:
    """Run the selected benchmarks, print the table, write the JSON."""
    results: list[Result] = []
    for name in _modules(argv):
        module = importlib.import_module(f"bench.{name}")
        print(f"running {name} ...", file=sys.stderr)
        results.extend(module.run())
    _print(results)
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps([r.as_dict() for r in results], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
