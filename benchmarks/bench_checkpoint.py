"""Benchmark of patch checkpoints: bytes and seconds written, fields copied or kept on disk.

A folder run (``needlesim simulate`` of a ``fidelity: patch`` config) checkpoints after
every session. The baseline holds the saved 3D fields in memory and so copies every one
of them into each checkpoint; the run as ``needlesim simulate`` does it spills them to
the output folder and the checkpoint refers to them (docs/patch.md, Checkpoints). Both
runs are the full model's course of ``examples/patch-small.yaml`` (two sessions, 60
days) at the same spacing, in this process, one after the other (the second is warm).

    python benchmarks/bench_checkpoint.py                 # 50 um, 8,400 voxels
    python benchmarks/bench_checkpoint.py --spacing 25    # 68,800 voxels
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from needlesim import load
from needlesim.course.patch import folder_run, simulate_patch_course
from needlesim.patch import checkpoint as checkpoint_module

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "patch-small.yaml"


def folder_course(spacing_um: float, spill: bool) -> dict[str, Any]:
    """The example's course run into a temporary folder, checkpointing after each session;
    every checkpoint's day, size on disk and seconds to write."""
    config = load(EXAMPLE)
    original = checkpoint_module.Checkpoint.save
    saves: list[tuple[float, int, float]] = []

    def measured_save(self: checkpoint_module.Checkpoint, path: str | Path) -> Path:
        tic = time.perf_counter()
        out = original(self, path)
        saves.append((self.t, os.path.getsize(out), time.perf_counter() - tic))
        return out

    checkpoint_module.Checkpoint.save = measured_save
    try:
        with tempfile.TemporaryDirectory(prefix="needlesim-bench-") as folder:
            ckpt, spill_dir = folder_run(Path(folder), every_s=1e9)  # after sessions only
            result = simulate_patch_course(
                config,
                spacing_um=spacing_um,
                checkpoint=ckpt,
                spill_dir=spill_dir if spill else None,
            )
            kept = sum(f.stat().st_size for f in spill_dir.glob("*.npy")) if spill else 0
    finally:
        checkpoint_module.Checkpoint.save = original
    return {"voxels": result.grid.n_voxels, "saves": saves, "kept_bytes": kept}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spacing", type=float, default=50.0, help="voxel size, um")
    args = parser.parse_args()
    runs = {
        "fields in memory, copied into each checkpoint (baseline)": folder_course(
            args.spacing, spill=False
        ),
        "fields on disk, kept for the checkpoint": folder_course(args.spacing, spill=True),
    }
    base = runs["fields in memory, copied into each checkpoint (baseline)"]
    base_bytes = sum(b for _, b, _ in base["saves"])
    print(f"patch-small, {base['voxels']:,} voxels at {args.spacing:g} um, two sessions")
    print("| run | checkpoints (day: MB) | MB written | ratio | s writing | fields kept MB |")
    print("|---|---|---:|---:|---:|---:|")
    for name, run in runs.items():
        days = ", ".join(f"{t:g}: {b / 1e6:.1f}" for t, b, _ in run["saves"])
        written = sum(b for _, b, _ in run["saves"])
        seconds = sum(s for *_, s in run["saves"])
        print(
            f"| {name} | {days} | {written / 1e6:.1f} | {written / base_bytes:.2f} | "
            f"{seconds:.2f} | {run['kept_bytes'] / 1e6:.1f} |"
        )


if __name__ == "__main__":
    main()
