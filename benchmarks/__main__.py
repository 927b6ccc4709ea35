"""Run benchmarks and rebuild ``benchmarks/RESULTS.md``.

    python -m benchmarks [--data ../shared/datasets] [--only NAME ...] [--quick]

Every module ``benchmarks/<name>.py`` with a ``run(data: Path, quick: bool) -> str`` function is a
benchmark: it returns its section as Markdown, which is saved to ``benchmarks/results/<name>.md``.
RESULTS.md is the concatenation of every saved section, so running one benchmark refreshes its
section without discarding the others' figures.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).parent
RESULTS = HERE / "results"


def available() -> list[str]:
    names = []
    for info in pkgutil.iter_modules([str(HERE)]):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"benchmarks.{info.name}")
        if hasattr(module, "run"):
            names.append(info.name)
    return sorted(names)


def machine() -> str:
    cpus = os.cpu_count() or 0
    return f"{platform.machine()}, {cpus} cores, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--only", nargs="*", default=None, help="benchmark names to run")
    parser.add_argument("--quick", action="store_true", help="smaller samples, for a smoke run")
    args = parser.parse_args(argv)
    names = available()
    chosen = args.only or names
    unknown = sorted(set(chosen) - set(names))
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(names)}")
    if not args.data.is_dir():
        parser.error(f"--data {args.data} is not a directory")
    RESULTS.mkdir(exist_ok=True)
    for name in chosen:
        started = time.perf_counter()
        print(f"running {name} ...", file=sys.stderr)
        module = importlib.import_module(f"benchmarks.{name}")
        section = module.run(args.data, args.quick).rstrip()
        elapsed = time.perf_counter() - started
        command = f"python -m benchmarks --only {name}" + (" --quick" if args.quick else "")
        stamp = datetime.now(UTC).strftime("%Y-%m-%d")
        footer = f"\n\n_Produced by `{command}` on {stamp} ({machine()}) in {elapsed:.0f} s._\n"
        (RESULTS / f"{name}.md").write_text(section + footer, encoding="utf-8")
        print(f"  {name}: {elapsed:.1f} s", file=sys.stderr)
    write_results()
    return 0


def write_results() -> None:
    parts = [
        "# Benchmark results\n",
        "Figures measured by `python -m benchmarks --data ../shared/datasets` (or `scripts/bench`);",
        "each section says which command produced it and on what machine. Quality figures are on",
        "the datasets' validation splits; published figures quoted for reference are on their test",
        "splits and say so.\n",
    ]
    for path in sorted(RESULTS.glob("*.md")):
        parts.append(path.read_text(encoding="utf-8").rstrip() + "\n")
    (HERE / "RESULTS.md").write_text("\n".join(parts), encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
