"""Why the patch makes less new collagen than ``layered``: where the injury sits, and
whether a dose factor on the ``layered`` level could stand in for it.

Measurement for the multi-fidelity step of issue 14 (item 4); it changes no model.
Runs, like ``scripts/patch_dose_response.py`` (whose configs and readings it uses),
one session of the pen of ``examples/patch-small.yaml`` and 30 days, per needle length
and number of passes:

1. **Which concentration matters.** The patch with its injury fields as the device makes
   them, then with one or more of them replaced by their mean over each voxel row
   (uniform laterally, still resolved in depth): the signal (damage signal around each
   channel), the dose (track volume: clot and cut capillaries), dose and signal, all
   four. The ratio ``patch / layered`` of the new collagen (collagen I + III minus rest,
   layer mean) of the papillary and reticular dermis at day 30. What the flattening
   leaves of the deficit comes from the injury's depth profile inside a layer (channel
   tips in the middle of the reticular dermis) and from the kinetics between layers.
2. **A dose factor.** The ``layered`` level run again with the injured fraction of the
   papillary and reticular dermis multiplied by ``eta_p``, ``eta_r`` (a grid of
   :data:`ETA_GRID`); the pair that reproduces the patch's new collagen in both layers
   (least squares of the relative error). If a dose factor were the right correction,
   ``eta`` would be near 1 and vary smoothly with the depth the needles reach.

Run (from the repository root; about 4 minutes on 2 cores at 100 um voxels)::

    PYTHONPATH=src python scripts/patch_concentration.py [--spacing 100]
        [--passes 1 4] [--lengths 0.5 1.0 1.5]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

import jax.numpy as jnp
import numpy as np
from patch_dose_response import EXAMPLE, dose_config, new_collagen_by_layer

import needlesim
import needlesim.course.patch as course_patch
from needlesim.anatomy import Layer
from needlesim.biology import Covariates, SessionInjury, default_parameters, index
from needlesim.patch.healing import INJURY_FIELDS
from needlesim.solve import simulate_layered

DAY = 30.0
DERMIS = (Layer.papillary_dermis, Layer.reticular_dermis)
ETA_GRID = np.geomspace(0.02, 1.0, 25)
FLATTENED: tuple[tuple[str, ...], ...] = (
    (),
    ("signal",),
    ("dose",),
    ("dose", "signal"),
    INJURY_FIELDS,
)


def flattening(fields: Sequence[str]) -> Callable[..., np.ndarray]:
    """``healing_damage`` with ``fields`` replaced by their mean over each voxel row."""
    original = course_patch.healing_damage
    rows = [INJURY_FIELDS.index(f) for f in fields]

    def damage(*args: object, **kwargs: object) -> np.ndarray:
        out = np.array(original(*args, **kwargs))  # (fields, nx, ny, nz)
        for k in rows:
            out[k] = np.broadcast_to(out[k].mean(axis=(0, 1), keepdims=True), out[k].shape)
        return out

    return damage


def layered_new_collagen(
    result: course_patch.PatchCourseResult, eta: tuple[float, float]
) -> np.ndarray:
    """New collagen (papillary, reticular) at :data:`DAY` of the ``layered`` level with the
    dermal injured fractions of the session multiplied by ``eta``."""
    injury = SessionInjury.from_summary(result.devices[0].summary)
    fraction = np.asarray(injury.injured_fraction).copy()
    for layer, factor in zip(DERMIS, eta, strict=True):
        fraction[layer] *= factor
    scaled = injury._replace(injured_fraction=jnp.asarray(fraction))
    patient = result.config.patient
    cov = Covariates.of(
        np.asarray(result.skin.thickness_um), patient.age_years, float(patient.fitzpatrick)
    )
    solved = simulate_layered(
        default_parameters(),
        cov,
        np.zeros(1),
        SessionInjury(*(jnp.asarray(x)[None] for x in scaled)),
        np.array([0.0, DAY]),
    )
    states, rest = np.asarray(solved.states), np.asarray(solved.baseline)
    cols = [index("collagen_I"), index("collagen_III")]
    return np.array([(states[-1, layer, cols] - rest[layer, cols]).sum() for layer in DERMIS])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spacing", type=float, default=100.0, help="voxel spacing (um)")
    parser.add_argument("--passes", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--lengths", type=float, nargs="+", default=[0.5, 1.0, 1.5])
    args = parser.parse_args()
    base = needlesim.load(EXAMPLE)
    original = course_patch.healing_damage

    print(
        "| needle mm | passes | depth um | v papillary | v reticular | flattened laterally "
        "| patch / layered papillary | reticular |"
    )
    print("|---|---|---|---|---|---|---|---|")
    factors = []
    for length in args.lengths:
        for passes in args.passes:
            config = dose_config(base, passes, length, DAY)
            for fields in FLATTENED:
                course_patch.healing_damage = flattening(fields)
                try:
                    result = course_patch.simulate_patch_course(config, spacing_um=args.spacing)
                finally:
                    course_patch.healing_damage = original
                new = new_collagen_by_layer(result, DAY)
                ratio = [new[layer][0] / new[layer][1] for layer in DERMIS]
                summary = result.devices[0].summary
                v = [summary.injured_volume_fraction[layer.name] for layer in DERMIS]
                label = ", ".join(fields) if fields else "none (as made)"
                print(
                    f"| {length:g} | {passes} | {summary.effective_depth_um:.0f} | {v[0]:.3f} "
                    f"| {v[1]:.4f} | {label} | {ratio[0]:.3f} | {ratio[1]:.3f} |",
                    flush=True,
                )
                if not fields:
                    target = np.array([new[layer][0] for layer in DERMIS])
                    fits = {
                        (a, b): layered_new_collagen(result, (a, b))
                        for a in ETA_GRID
                        for b in ETA_GRID
                    }
                    eta, out = min(fits.items(), key=lambda kv: np.sum((kv[1] / target - 1) ** 2))
                    factors.append((length, passes, eta, out / target))
    print()
    print(
        "Dose factor that makes `layered` reproduce the patch (grid of "
        f"{ETA_GRID.size} x {ETA_GRID.size}, {ETA_GRID[0]:g}-{ETA_GRID[-1]:g}):"
    )
    print()
    print("| needle mm | passes | eta papillary | eta reticular | layered / patch after |")
    print("|---|---|---|---|---|")
    for length, passes, eta, fit in factors:
        print(
            f"| {length:g} | {passes} | {eta[0]:.3f} | {eta[1]:.3f} | {fit[0]:.3f} / {fit[1]:.3f} |"
        )


if __name__ == "__main__":
    main()
