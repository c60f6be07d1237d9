"""One configured patient's course at the ``patch`` fidelity level, and its outputs.

:func:`simulate_patch_course` is what ``needlesim simulate`` runs for
``simulation.fidelity: patch``. The device model draws each session's
punctures on the configured square sample (``simulation.sample_area_mm``, with
the same random streams as the ``layered`` course); the patch is that sample:

* patch side = ``simulation.sample_area_mm`` (the device's sample is periodic,
  like the patch, so the channel density is exact at the edges);
* voxel spacing = :data:`DEFAULT_SPACING_UM` (50 um) in x, y and depth;
* depth = the top of the hypodermis plus :data:`HYPODERMIS_MARGIN_UM`, so the
  papillary and reticular dermis are inside the grid whole.

The same punctures' device summaries drive a ``layered`` run of the same
course; ``layered_agreement`` compares the two at the end of the run (see
:func:`layered_agreement`).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from ..anatomy import LAYER_NAMES, Layer, SkinProfile, skin_for
from ..biology import Covariates, Parameters, SessionInjury, default_parameters, index
from ..config import ConfigError, Problem, RunConfig
from ..device import DeviceResult, NeedleGeometry
from ..geometry.grid import PatchGrid
from ..io import config_hash
from ..patch import (
    Checkpointing,
    OutputSpec,
    PatchIntegrator,
    PatchModel,
    PatchResult,
    PunctureLike,
    Session,
    StepperOptions,
    fields_to_vti,
    plot_depth_profiles,
    plot_slice,
    simulate_patch,
    write_image_series,
)
from ..patch.healing import HealingSetup, describe_assumptions, healing_damage, healing_setup
from ..solve import simulate_layered
from ..solve.layered import Trajectory as LayeredTrajectory
from .layered import output_days, session_injuries

FloatArray = NDArray[np.float64]

DEFAULT_SPACING_UM = 50.0
"""Voxel spacing of the patch in x, y and depth (um)."""
HYPODERMIS_MARGIN_UM = 80.0
"""How far the grid reaches into the hypodermis (um)."""
MAX_VOXELS = 2_000_000
"""Largest patch ``needlesim simulate`` accepts (a bigger sample would take hours)."""
RTOL = 1e-3
"""Relative tolerance of the patch integrator."""
CHECKPOINT_NAME = "patch.ckpt.npz"
"""File name of the checkpoint in the output folder (deleted when the run is written)."""
CHECKPOINT_EVERY_S = 300.0
"""Wall-clock seconds between checkpoints (besides those after every session)."""

AGREEMENT_SPECIES: dict[str, tuple[str, tuple[Layer, ...]]] = {
    "collagen_I": ("collagen_I", (Layer.papillary_dermis, Layer.reticular_dermis)),
    "collagen_III": ("collagen_III", (Layer.papillary_dermis, Layer.reticular_dermis)),
    "epidermal_thickness": ("keratinocytes", (Layer.viable_epidermis,)),
}
"""Reported quantity -> (species, layers compared). The hypodermis is left out:
the grid holds only its top, the ``layered`` compartment all of it."""

SLICE_SPECIES = "collagen_I"
"""The species of the slice images."""
PROFILE_SPECIES = ("collagen_I", "collagen_III", "keratinocytes", "fibroblasts")
"""The species of the depth-profile plots."""


@dataclass(frozen=True)
class PatchCourseResult:
    """Everything a patch course produced (and the layered run it is compared with)."""

    config: RunConfig
    skin: SkinProfile
    setup: HealingSetup
    session_days: FloatArray
    devices: list[DeviceResult]
    patch: PatchResult
    layered: LayeredTrajectory
    end_day: float
    slice_depths_um: tuple[float, ...]
    wall_s: float

    @property
    def grid(self) -> PatchGrid:
        return self.setup.grid

    def agreement(self) -> dict[str, Any]:
        """:func:`layered_agreement` at the end of the run."""
        return layered_agreement(self)


def patch_grid_depth_um(skin: SkinProfile) -> float:
    """Top of the hypodermis plus :data:`HYPODERMIS_MARGIN_UM`."""
    return float(skin.boundaries_um[Layer.hypodermis]) + HYPODERMIS_MARGIN_UM


def _check_size(config: RunConfig, side_um: float, depth_um: float, spacing_um: float) -> None:
    n = round(side_um / spacing_um) ** 2 * round(depth_um / spacing_um)
    if n > MAX_VOXELS:
        side = (MAX_VOXELS / max(1, round(depth_um / spacing_um))) ** 0.5 * spacing_um / 1000.0
        raise ConfigError(
            [
                Problem(
                    "simulation.sample_area_mm",
                    f"{config.simulation.sample_area_mm} mm gives a patch of {n} voxels at "
                    f"{spacing_um:g} um; the patch level allows {MAX_VOXELS} "
                    f"(a side of at most about {side:.1f} mm)",
                )
            ]
        )


def _slice_depths(skin: SkinProfile) -> tuple[float, ...]:
    """Mid papillary and mid reticular dermis (um)."""
    b = skin.boundaries_um
    pd = 0.5 * (b[Layer.papillary_dermis] + b[Layer.papillary_dermis + 1])
    rd = 0.5 * (b[Layer.reticular_dermis] + b[Layer.reticular_dermis + 1])
    return (float(pd), float(rd))


def simulate_patch_course(
    config: RunConfig,
    params: Parameters | None = None,
    *,
    spacing_um: float | None = None,
    options: StepperOptions | None = None,
    checkpoint: Checkpointing | None = None,
) -> PatchCourseResult:
    """Simulate one configured patient at the ``patch`` level (and ``layered`` alongside).

    ``checkpoint``: write checkpoints there (after every session and every
    ``every_s`` wall-clock seconds) and resume from it (see
    :class:`needlesim.patch.Checkpointing`); the run is identified by the
    config's hash as well as by the grid, model, parameters and schedule.
    """
    started = time.perf_counter()
    spacing_um = DEFAULT_SPACING_UM if spacing_um is None else float(spacing_um)
    params = params or default_parameters()
    patient = config.patient
    skin = skin_for(patient)
    cov = Covariates.of(
        np.asarray(skin.thickness_um), patient.age_years, float(patient.fitzpatrick)
    )
    side_um = 1000.0 * config.simulation.sample_area_mm
    depth_um = patch_grid_depth_um(skin)
    _check_size(config, side_um, depth_um, spacing_um)
    setup = healing_setup(
        skin, params, cov, side_um=side_um, spacing_um=spacing_um, depth_um=depth_um
    )
    options = options or StepperOptions(rtol=RTOL, atol=1e-6)
    setup, integrator = _compiled(setup, options)
    grid = setup.grid

    days, injuries, devices = session_injuries(config)
    has_sessions = bool(config.protocol.session_count)
    end = float(config.simulation.end_day(config.protocol.last_session_day))
    sessions: list[Session] = []
    for day, dev in zip(days if has_sessions else [], devices, strict=True):
        needle = NeedleGeometry.from_device(dev.device)
        damage = healing_damage(
            grid,
            cast(PunctureLike, dev.punctures),
            params,
            needle,
            bleeding_fraction=dev.summary.bleeding_fraction,
        )
        sessions.append(Session(float(day), damage))
    if not has_sessions:
        days, injuries = np.zeros(1), SessionInjury.none(1)

    wanted = [float(d) for d in output_days(config)]
    session_list = [float(s.day) for s in sessions]
    profile_days = sorted({*wanted, *session_list, 0.0, end})
    after = (0.0, 1.0, 3.0, 7.0, 14.0, 30.0)
    last = session_list[-1] if session_list else 0.0
    slice_days = sorted({min(last + a, end) for a in after} | {end})
    depths = _slice_depths(skin)
    outputs = OutputSpec(
        field_days=tuple(sorted({*session_list, end})),
        profile_days=tuple(d for d in profile_days if d <= end),
        slice_days=tuple(slice_days),
        slice_depths_um=depths,
    )
    patch = simulate_patch(
        grid,
        setup.model,
        setup.y0,
        setup.params,
        t_end=end,
        sessions=sessions,
        outputs=outputs,
        seed=config.simulation.seed,
        checkpoint=checkpoint,
        run_key=config_hash(config),
        integrator=integrator,
    )
    layered = simulate_layered(params, cov, days, injuries, np.asarray(outputs.profile_days))
    return PatchCourseResult(
        config=config,
        skin=skin,
        setup=setup,
        session_days=np.asarray(session_list, dtype=float),
        devices=devices,
        patch=patch,
        layered=layered,
        end_day=end,
        slice_depths_um=depths,
        wall_s=time.perf_counter() - started,
    )


_COMPILED: OrderedDict[tuple[str, str, str], tuple[PatchGrid, PatchModel, PatchIntegrator]] = (
    OrderedDict()
)
_COMPILED_MAX = 4


def _compiled(setup: HealingSetup, options: StepperOptions) -> tuple[HealingSetup, PatchIntegrator]:
    """The setup and a compiled integrator for it, reusing one built in this process for
    a grid, model and options with the same fingerprints (compiling the 24-species
    kinetics takes seconds; patients differ in ``params`` and ``y0``, which are
    arguments of the compiled code). A small LRU cache."""
    key = (setup.grid.fingerprint(), setup.model.fingerprint(), options.fingerprint())
    hit = _COMPILED.get(key)
    if hit is None:
        hit = (setup.grid, setup.model, PatchIntegrator(setup.grid, setup.model, options))
        _COMPILED[key] = hit
        while len(_COMPILED) > _COMPILED_MAX:
            _COMPILED.popitem(last=False)
    _COMPILED.move_to_end(key)
    grid, model, integrator = hit
    return replace(setup, grid=grid, model=model), integrator


def _rel(a: float, b: float) -> float:
    return float((a - b) / b) if b != 0 else float("nan")


def layered_agreement(result: PatchCourseResult, day: float | None = None) -> dict[str, Any]:
    """Patch layer means against the ``layered`` level on the same course.

    For collagen I and III (papillary and reticular dermis) and the epidermal
    thickness (keratinocytes, viable epidermis): ``(patch - layered) / layered``
    of the layer means at ``day`` (default: the end of the run). The headline
    value of each quantity is the layer with the largest absolute difference;
    ``detail`` also gives the per-layer values and the relative difference of
    the change from rest (``(dP - dL) / dL`` with ``d = value - rest``), a
    stricter measure when the change is small. ``change`` gives that measure
    for each quantity as a whole, the way the observables count it: the change
    from rest summed over the compared layers weighted by their thickness (for
    collagen: the new collagen of the dermis, as in ``collagen_I_change_pct``).
    """
    day = result.end_day if day is None else float(day)
    t_patch, means = result.patch.layer_means()
    i_p = int(np.argmin(np.abs(t_patch - day)))
    t_lay = np.asarray(result.layered.days)
    i_l = int(np.argmin(np.abs(t_lay - day)))
    states = np.asarray(result.layered.states)
    rest = np.asarray(result.layered.baseline)
    thickness = np.asarray(result.skin.thickness_um, dtype=np.float64)
    headline: dict[str, float] = {}
    change: dict[str, float] = {}
    detail: dict[str, Any] = {}
    for key, (species, layers) in AGREEMENT_SPECIES.items():
        s = index(species)
        per_layer: dict[str, Any] = {}
        worst = 0.0
        new_p = new_l = 0.0
        for layer in layers:
            p_val = float(means[i_p, s, layer])
            l_val = float(states[i_l, layer, s])
            r_val = float(rest[layer, s])
            new_p += thickness[layer] * (p_val - r_val)
            new_l += thickness[layer] * (l_val - r_val)
            rel = _rel(p_val, l_val)
            per_layer[LAYER_NAMES[layer]] = {
                "patch": p_val,
                "layered": l_val,
                "rest": r_val,
                "relative_difference": rel,
                "change_relative_difference": _rel(p_val - r_val, l_val - r_val),
            }
            if not np.isfinite(rel) or abs(rel) >= abs(worst):
                worst = rel
        headline[key] = worst
        change[key] = _rel(new_p, new_l)
        detail[key] = {"species": species, "layers": per_layer}
    return {"day": day, **headline, "change": change, "detail": detail}


def agreement_by_day(result: PatchCourseResult) -> list[dict[str, Any]]:
    """:func:`layered_agreement` (headline and change) at every saved profile day."""
    days, _ = result.patch.layer_means()
    rows = []
    for day in days:
        a = layered_agreement(result, float(day))
        rows.append(
            {
                "day": float(day),
                **{k: _json_float(a[k]) for k in AGREEMENT_SPECIES},
                "change": {k: _json_float(v) for k, v in a["change"].items()},
            }
        )
    return rows


def _json_float(value: float) -> float | None:
    """``None`` for NaN (no change from rest yet), else the float."""
    return float(value) if np.isfinite(value) else None


def summary(result: PatchCourseResult) -> dict[str, Any]:
    """The JSON summary of a patch course."""
    from ..io.provenance import provenance

    config = result.config
    agreement = result.agreement()
    return {
        "name": config.name,
        **provenance(config, config.simulation.seed),
        "fidelity": config.simulation.fidelity.value,
        "patient": config.patient.model_dump(mode="json"),
        "skin_thickness_um": result.skin.as_dict(),
        "grid": result.grid.describe(),
        "grid_rule": {
            "side_um": "simulation.sample_area_mm x 1000",
            "spacing_um": DEFAULT_SPACING_UM,
            "depth_um": f"top of the hypodermis + {HYPODERMIS_MARGIN_UM:g}",
        },
        "transport_assumptions": describe_assumptions(),
        "sessions": [
            {
                "day": float(day),
                "device": dev.device.type,
                "punctures": len(dev.punctures),
                "injured_volume_fraction": dict(dev.summary.injured_volume_fraction),
                "bleeding_fraction": dev.summary.bleeding_fraction,
            }
            for day, dev in zip(result.session_days, result.devices, strict=True)
        ],
        "end_day": result.end_day,
        "runtime_s": result.wall_s,
        "solver": {k: v for k, v in result.patch.stats.items() if k not in ("run_fingerprint",)},
        "layered_agreement": {k: v for k, v in agreement.items() if k not in ("detail", "change")},
        "layered_agreement_change": {"day": agreement["day"], **agreement["change"]},
        "layered_agreement_by_day": agreement_by_day(result),
        "layered_agreement_detail": agreement["detail"],
    }


def run_patch_course(
    config: RunConfig,
    folder: str | Path,
    *,
    checkpoint_every_s: float | None = None,
    resume: bool = True,
) -> dict[str, Any]:
    """Simulate and write a patch course into ``folder``, checkpointing as it goes.

    What ``needlesim simulate`` runs for ``fidelity: patch``. The checkpoint
    ``folder/`` :data:`CHECKPOINT_NAME` is written atomically after every
    session and every ``checkpoint_every_s`` wall-clock seconds (default
    :data:`CHECKPOINT_EVERY_S`); running the same config into the same folder
    again continues from it, with results equal bit for bit to an uninterrupted
    run. A checkpoint of another run (another config) is ignored and replaced.
    It is deleted once every result file is written.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    every = CHECKPOINT_EVERY_S if checkpoint_every_s is None else float(checkpoint_every_s)
    ckpt = folder / CHECKPOINT_NAME
    result = simulate_patch_course(
        config,
        checkpoint=Checkpointing(ckpt, every_s=every, resume=resume, mismatch="restart"),
    )
    data = write_patch_course(result, folder)
    ckpt.unlink(missing_ok=True)
    return data


def write_patch_course(result: PatchCourseResult, folder: str | Path) -> dict[str, Any]:
    """Write a patch course into ``folder``; returns the JSON summary.

    Files: ``patch.zarr`` (fields, depth profiles, layer means, slices),
    ``depth_profile_<species>.png``, ``slice_<species>_z<depth>um_day<day>.png``
    at the end of the run, ``slices/`` (an image series of the last
    session's healing), ``patch_day<end>.vti`` (ParaView) and ``summary.json``.
    """
    from ..io import write_json
    from ..io.provenance import provenance

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config = result.config
    patch = result.patch
    patch.write_zarr(folder / "patch.zarr", attrs=provenance(config, config.simulation.seed))
    for species in PROFILE_SPECIES:
        plot_depth_profiles(patch, species, folder / f"depth_profile_{species}.png")
    for depth in result.slice_depths_um:
        plot_slice(
            patch,
            SLICE_SPECIES,
            depth,
            result.end_day,
            folder / f"slice_{SLICE_SPECIES}_z{depth:.0f}um_day{result.end_day:g}.png",
        )
        write_image_series(patch, SLICE_SPECIES, depth, folder / "slices")
    fields_to_vti(
        folder / f"patch_day{result.end_day:g}.vti",
        result.grid,
        patch.species,
        patch.field_at(result.end_day),
        day=result.end_day,
    )
    data = summary(result)
    write_json(folder / "summary.json", data)
    return data
