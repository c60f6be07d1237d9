"""Latency a user feels: whole ``needlesim`` processes with a cold and a warm JAX cache.

Each command runs as a fresh process, first with an empty persistent
compilation cache (cold: everything is traced and compiled), then again with
the cache the first run filled (warm). The baseline is ``python -c "import jax"``
measured in the same run, so the ratios carry over between machines.

Usage: ``python benchmarks/bench_latency.py [--repeat N]`` (the best of N runs
for each warm time; the cold run is one run per command by its nature).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "acne-scars.yaml"
PLAN = ["plan", "--age", "30", "--sex", "female", "--fitzpatrick", "3", "--region", "cheek",
        "--indication", "atrophic_acne_scars"]  # fmt: skip


def _needlesim() -> list[str]:
    """The console script next to this interpreter, else ``python -m needlesim``."""
    script = Path(sys.executable).with_name("needlesim")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "needlesim"]


def _run(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return wall


def main(repeat: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="needlesim-latency-"))
    env = {k: v for k, v in os.environ.items() if k not in ("NEEDLESIM_NO_CACHE",)}
    src = str(ROOT / "src")
    env["PYTHONPATH"] = os.pathsep.join([src, *filter(None, [env.get("PYTHONPATH")])])
    cli = _needlesim()
    commands = {
        'python -c "import jax"': [sys.executable, "-c", "import jax"],
        "needlesim --version": [*cli, "--version"],
        "needlesim simulate acne-scars": [*cli, "simulate", str(EXAMPLE), "--out", "out"],
        "needlesim plan (cheek, type 3)": [*cli, *PLAN],
    }
    rows = []
    try:
        for i, (name, argv) in enumerate(commands.items()):
            run_env = {**env, "NEEDLESIM_CACHE_DIR": str(work / f"cache{i}")}
            cold = _run(argv, run_env, work)
            warm = min(_run(argv, run_env, work) for _ in range(repeat))
            rows.append((name, cold, warm))
            print(f"  {name}: cold {cold:.2f} s, warm {warm:.2f} s", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    base = rows[0][2]
    print(f"\nwhole processes, {os.cpu_count()} CPUs visible; baseline: import jax {base:.2f} s")
    print(f"{'command':34s} {'cold s':>8s} {'warm s':>8s} {'warm / import jax':>18s}")
    for name, cold, warm in rows:
        print(f"{name:34s} {cold:8.2f} {warm:8.2f} {warm / base:18.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="warm runs per command (best)")
    main(parser.parse_known_args(sys.argv[1:])[0].repeat)
