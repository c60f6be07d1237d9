"""Dose response of the new dermal collagen: ``patch`` level against ``layered`` level.

Measurement for the multi-fidelity step of issue 14 (item 4); it changes no model.

What it measures. Starting from ``examples/patch-small.yaml`` (cheek, pen, 1 mm x 1 mm
sample) it runs one session and 30 days (``simulate_patch_course``, which runs the
``layered`` level on the same punctures alongside) for a grid of doses: device passes x
needle length. For each run and each dermal layer ``l`` (papillary, reticular):

* ``v_l``: the injured volume fraction the ``layered`` level receives
  (``DeviceResult.summary.injured_volume_fraction``, the same punctures the patch stamps);
* ``dP_l``, ``dL_l``: the change from rest of collagen I + III at day 30, layer mean of
  the patch and the ``layered`` state (units of young-adult dermal collagen);
* the ratio ``dP_l / dL_l``;
* a control run without a session gives the background change of both levels
  (drift of the rest state over the same days), printed with the table.

It fits ``dP_l = a v_l^b`` and ``dL_l = a v_l^b`` per layer by least squares on
``log d`` against ``log v`` (runs with ``v_l > 0`` and ``d > 0``); ``b < 1`` is a
sub-linear response to the injured fraction. Fits are given per needle length (the
passes vary ``v_l`` at a fixed depth profile of the injury) and pooled over lengths;
the pooled fit mixes the depth of the injury with its amount (a layer also makes new
collagen from the mediators of an injured neighbour layer, e.g. the reticular dermis
under 0.5 mm needles that barely reach it), so it is no dose response of one layer
alone. A fit is valid only over the range of ``v_l`` it was made on (printed with it).

Run (from the repository root; at 100 um voxels about 3 s per dose after a 20 s
compilation, on 2 cores)::

    PYTHONPATH=src python scripts/patch_dose_response.py [--spacing 100]
        [--passes 1 2 4] [--lengths 0.5 1.0] [--day 30]

Prints a markdown table and the fits.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np

import needlesim
from needlesim.anatomy import Layer
from needlesim.biology import index
from needlesim.config import RunConfig
from needlesim.course.patch import FloatArray, PatchCourseResult, simulate_patch_course

EXAMPLE = "examples/patch-small.yaml"
LAYERS = (("papillary", Layer.papillary_dermis), ("reticular", Layer.reticular_dermis))
COLLAGEN = ("collagen_I", "collagen_III")


@dataclass(frozen=True)
class Row:
    """One dose, one dermal layer."""

    passes: int
    length_mm: float
    layer: str
    injured: float
    new_patch: float
    new_layered: float
    wall_s: float

    @property
    def ratio(self) -> float:
        return self.new_patch / self.new_layered if self.new_layered != 0 else float("nan")


def dose_config(
    base: RunConfig, passes: int, length_mm: float, day: float, sessions: int = 1
) -> RunConfig:
    """``base`` with ``sessions`` (0 or 1) session of ``passes`` passes of ``length_mm``
    needles, simulated for ``day`` days."""
    device = base.protocol.device.model_copy(
        update={"passes": passes, "needle_length_mm": length_mm}
    )
    protocol = base.protocol.model_copy(update={"device": device, "sessions": sessions})
    simulation = base.simulation.model_copy(
        update={"duration_days": day, "output_days": [0.0, 1.0, 3.0, 7.0, 14.0, day]}
    )
    config = base.model_copy(update={"protocol": protocol, "simulation": simulation})
    return RunConfig.model_validate(config.model_dump())  # re-validate the copy


def new_collagen_by_layer(
    result: PatchCourseResult, day: float
) -> dict[Layer, tuple[float, float]]:
    """Layer -> (patch, layered) change from rest of collagen I + III at ``day``."""
    t_patch, means = result.patch.layer_means()  # (T, S, 5)
    i_p = int(np.argmin(np.abs(t_patch - day)))
    t_lay = np.asarray(result.layered.days)
    i_l = int(np.argmin(np.abs(t_lay - day)))
    states = np.asarray(result.layered.states)  # (T, 5, S)
    rest = np.asarray(result.layered.baseline)  # (5, S)
    out: dict[Layer, tuple[float, float]] = {}
    for _, layer in LAYERS:
        dp = sum(float(means[i_p, index(s), layer] - rest[layer, index(s)]) for s in COLLAGEN)
        dl = sum(float(states[i_l, layer, index(s)] - rest[layer, index(s)]) for s in COLLAGEN)
        out[layer] = (dp, dl)
    return out


def power_fit(v: FloatArray, d: FloatArray) -> tuple[float, float, int]:
    """``(a, b, n)`` of ``d = a v^b`` (least squares in log-log, positive points only)."""
    keep = (v > 0) & (d > 0)
    n = int(keep.sum())
    if n < 2 or np.ptp(np.log(v[keep])) == 0:
        return float("nan"), float("nan"), n
    b, log_a = np.polyfit(np.log(v[keep]), np.log(d[keep]), 1)
    return float(np.exp(log_a)), float(b), n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spacing", type=float, default=100.0, help="voxel spacing (um)")
    parser.add_argument("--passes", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--lengths", type=float, nargs="+", default=[0.5, 1.0, 1.5])
    parser.add_argument("--day", type=float, default=30.0, help="day of the comparison")
    args = parser.parse_args()

    base = needlesim.load(EXAMPLE)
    rows: list[Row] = []
    started = time.perf_counter()
    control = simulate_patch_course(
        dose_config(base, 1, 1.0, args.day, sessions=0), spacing_um=args.spacing
    )
    background = new_collagen_by_layer(control, args.day)
    print(f"# done: control (no session), {control.wall_s:.1f} s", flush=True)
    for length in args.lengths:
        for passes in args.passes:
            config = dose_config(base, passes, length, args.day)
            result = simulate_patch_course(config, spacing_um=args.spacing)
            injured = result.devices[0].summary.injured_volume_fraction
            new = new_collagen_by_layer(result, args.day)
            for name, layer in LAYERS:
                dp, dl = new[layer]
                rows.append(
                    Row(passes, length, name, float(injured[layer.name]), dp, dl, result.wall_s)
                )
            print(f"# done: {passes} passes, {length} mm, {result.wall_s:.1f} s", flush=True)
    total = time.perf_counter() - started

    print()
    print(
        "| passes | needle mm | layer | injured fraction v | new collagen patch "
        "| new collagen layered | patch / layered |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in sorted(rows, key=lambda r: (r.layer, r.injured)):
        print(
            f"| {r.passes} | {r.length_mm:g} | {r.layer} | {r.injured:.4f} | "
            f"{r.new_patch:.4g} | {r.new_layered:.4g} | {r.ratio:.3f} |"
        )
    print()
    for name, layer in LAYERS:
        dp0, dl0 = background[layer]
        print(f"Control without a session, {name}: patch {dp0:.3g}, layered {dl0:.3g}")
    print()
    print("Power-law fits d = a v^b (least squares in log-log):")
    print()
    print("| layer | needle mm | a patch | b patch | a layered | b layered | points | v range |")
    print("|---|---|---|---|---|---|---|---|")
    for name, _ in LAYERS:
        for length in [*args.lengths, None]:
            sel = [r for r in rows if r.layer == name and (length is None or r.length_mm == length)]
            v = np.array([r.injured for r in sel])
            a_p, b_p, n = power_fit(v, np.array([r.new_patch for r in sel]))
            a_l, b_l, _ = power_fit(v, np.array([r.new_layered for r in sel]))
            pos = v[v > 0]
            rng = f"{pos.min():.4f}-{pos.max():.4f}" if pos.size else "-"
            label = "all (pooled)" if length is None else f"{length:g}"
            print(
                f"| {name} | {label} | {a_p:.4g} | {b_p:.3f} | {a_l:.4g} | {b_l:.3f} "
                f"| {n} | {rng} |"
            )
    print()
    print(f"Total wall time {total:.0f} s ({args.spacing:g} um voxels).")


if __name__ == "__main__":
    main()
