"""Latency a user feels: whole ``needlesim`` processes with a cold and a warm JAX cache.

Each command runs as a fresh process, first with an empty persistent
compilation cache (cold: everything is traced and compiled), then again with
the cache the first run filled (warm). The baseline is ``python -c "import jax"``
measured in the same run, so the ratios carry over between machines.

Besides wall time, the CPU time (user + system) of each process is printed:
on a shared machine the wall time grows with the load, the CPU time much less.
Both caches of needlesim (the export cache of the traced solve and JAX's
compilation cache) live in the per-command cache folder, so "cold" is cold for
both.

Usage: ``python benchmarks/bench_latency.py [--repeat N] [--src DIR]`` (the best
of N runs for each warm time; the cold run is one run per command by its
nature; ``--src``: another checkout's ``src`` to measure, e.g. main's, for a
before/after table; ``--quick``: without ``needlesim plan``, which takes minutes).
"""

from __future__ import annotations

import argparse
import os
import resource
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


def _run(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(wall s, CPU s = user + system of the child) of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu


def main(repeat: int, src_dir: Path, quick: bool = False) -> None:
    work = Path(tempfile.mkdtemp(prefix="needlesim-latency-"))
    env = {k: v for k, v in os.environ.items() if k not in ("NEEDLESIM_NO_CACHE",)}
    src = str(src_dir.resolve())
    env["PYTHONPATH"] = os.pathsep.join([src, *filter(None, [env.get("PYTHONPATH")])])
    cli = [sys.executable, "-m", "needlesim"] if src_dir != ROOT / "src" else _needlesim()
    commands = {
        'python -c "import jax"': [sys.executable, "-c", "import jax"],
        "needlesim --version": [*cli, "--version"],
        "needlesim simulate acne-scars": [*cli, "simulate", str(EXAMPLE), "--out", "out"],
        "needlesim plan (cheek, type 3)": [*cli, *PLAN],
    }
    if quick:
        del commands["needlesim plan (cheek, type 3)"]
    rows = []
    try:
        for i, (name, argv) in enumerate(commands.items()):
            run_env = {**env, "NEEDLESIM_CACHE_DIR": str(work / f"cache{i}")}
            cold = _run(argv, run_env, work)
            warm = min((_run(argv, run_env, work) for _ in range(repeat)), key=lambda t: t[0])
            rows.append((name, cold, warm))
            print(f"  {name}: cold {cold[0]:.2f} s, warm {warm[0]:.2f} s", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    base = rows[0][2][0]
    print(f"\nwhole processes, {os.cpu_count()} CPUs visible, src {src}")
    print(f"load average {os.getloadavg()[0]:.1f}; baseline: import jax {base:.2f} s")
    head = ("command", "cold s", "cold cpu", "warm s", "warm cpu", "warm / import jax")
    print(f"{head[0]:34s} {head[1]:>8s} {head[2]:>9s} {head[3]:>8s} {head[4]:>9s} {head[5]:>18s}")
    for name, (cold, cold_cpu), (warm, warm_cpu) in rows:
        ratio = warm / base
        print(f"{name:34s} {cold:8.2f} {cold_cpu:9.2f} {warm:8.2f} {warm_cpu:9.2f} {ratio:18.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="warm runs per command (best)")
    parser.add_argument("--src", type=Path, default=ROOT / "src", help="the src folder to run")
    parser.add_argument("--quick", action="store_true", help="skip the plan command (minutes)")
    known = parser.parse_known_args(sys.argv[1:])[0]
    main(known.repeat, known.src, known.quick)
