"""Run every benchmark in this folder (``bench_*.py``) and print its table.

Usage: ``python benchmarks/run_all.py [NAME ...]`` (``make bench``). Each
benchmark prints its own table, with ratios against a baseline measured in the
same run; nothing here is asserted (tests never time things).
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(names: list[str]) -> None:
    scripts = sorted(HERE.glob("bench_*.py"))
    if names:
        scripts = [s for s in scripts if any(n in s.stem for n in names)]
    if not scripts:
        print("no benchmark matched", names)
        return
    for script in scripts:
        print(f"\n=== {script.stem} ===", flush=True)
        runpy.run_path(str(script), run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
