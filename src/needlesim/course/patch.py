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

Observables: :func:`patch_observables` reads every observable of DESIGN.md
from the patch's layer means through the one implementation of the ``layered``
level (:func:`needlesim.outcomes.compute_observables` on a
:class:`~needlesim.outcomes.Trajectory` of layer means). The layer means are
saved on the save grid of the ``layered`` course (:func:`needlesim.course.save_days`:
the reported days plus a dense grid in the week after every session), so the
observables read from the whole trajectory (erythema, channel closure, the
running PIH peak) see the same days on both levels.

Spatial outputs (:mod:`needlesim.patch.spatial`), at every reported day: the
new collagen (I + III, change from rest) around the channels as a function of
the distance from the nearest channel axis and the depth
(:func:`new_collagen_radial`), and the share of dermal voxels remodelled
(:func:`dermis_remodelled`).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from ..anatomy import LAYER_NAMES, Layer, SkinProfile, skin_for
from ..biology import Covariates, Parameters, SessionInjury, default_parameters, index
from ..config import ConfigError, Problem, RunConfig
from ..device import DeviceResult, NeedleGeometry
from ..geometry.grid import PatchGrid
from ..io import config_hash
from ..outcomes import Trajectory, compute_observables
from ..patch import (
    Checkpointing,
    OutputSpec,
    PatchIntegrator,
    PatchModel,
    PatchResult,
    Progress,
    PunctureLike,
    Session,
    StepperOptions,
    channel_entries,
    fields_to_vti,
    layer_means,
    plot_depth_profiles,
    plot_radial_profile,
    plot_slice,
    simulate_patch,
    write_image_series,
)
from ..patch.checkpoint import discard
from ..patch.healing import HealingSetup, describe_assumptions, healing_damage, healing_setup
from ..patch.spatial import (
    RADIAL_BIN_UM,
    REMODELLED_THRESHOLD,
    axis_distance_um,
    radial_bins,
    radial_profile,
    remodelled_fraction,
)
from ..solve import simulate_layered
from ..solve.layered import Trajectory as LayeredTrajectory
from .layered import GRID_OBSERVABLES, course_trajectory, output_days, save_days, session_injuries

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
SPILL_NAME = ".fields"
"""Folder in the output folder where a run keeps its saved 3D fields on disk while it goes
(memory-mapped; their files are unlinked as soon as they are mapped)."""
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
COLLAGEN_SPECIES = ("collagen_III", "collagen_I")
"""The species summed into the new collagen of the spatial outputs (the collagen the
observables count; both in units of young-adult dermal collagen)."""
DERMAL_LAYERS = (Layer.papillary_dermis, Layer.reticular_dermis)
"""The layers of the dermis (the region of :func:`dermis_remodelled`)."""
DENSE_SAVE_GRID = True
"""Save the layer means on the ``layered`` level's dense grid in the week after every
session (:func:`needlesim.course.save_days`), so that the grid observables
(:data:`needlesim.course.GRID_OBSERVABLES`) are computed as on that level. Costs
about one step per extra save day (a step that lands on a save day does not shrink
the next one); ``False`` saves the reported days only and reports those observables
as ``NaN``."""


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
    reported_days: FloatArray
    """The days reported (summary, agreement, spatial outputs): the output days, the
    sessions, day 0 and the end. The layer means are saved on more days (the dense
    grid, see :data:`DENSE_SAVE_GRID`)."""
    dense_grid: bool = True

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
    progress: Callable[[Progress], None] | None = None,
    spill_dir: str | Path | None = None,
) -> PatchCourseResult:
    """Simulate one configured patient at the ``patch`` level (and ``layered`` alongside).

    ``spill_dir``: keep the saved 3D fields there on disk, memory-mapped, instead of in
    memory (:func:`needlesim.patch.simulate_patch`; ``needlesim simulate`` uses the output
    folder).

    ``progress`` is called after every compiled chunk of steps (about once a minute or
    more often) with the simulated day reached (:class:`needlesim.patch.Progress`).

    ``checkpoint``: write checkpoints there (after every session and every
    ``every_s`` wall-clock seconds) and resume from it (see
    :class:`needlesim.patch.Checkpointing`); the run is identified by the
    config's hash as well as by the grid, model, parameters and schedule.
    """
    started = time.perf_counter()
    params = params or default_parameters()
    skin = skin_for(config.patient)
    setup, integrator = patch_integrator(
        config, params, spacing_um=spacing_um, options=options, skin=skin
    )
    cov = setup.covariates
    grid = setup.grid

    days, injuries, devices = session_injuries(config)  # up to the end of the run
    end = float(config.end_day())
    has_sessions = bool(devices)
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
    reported = np.asarray([d for d in sorted({*wanted, *session_list, 0.0, end}) if d <= end])
    dense = DENSE_SAVE_GRID
    profile_days = save_days(reported, np.asarray(session_list, dtype=float), end, dense=dense)
    after = (0.0, 1.0, 3.0, 7.0, 14.0, 30.0)
    last = session_list[-1] if session_list else 0.0
    slice_days = sorted({min(last + a, end) for a in after} | {end})
    depths = _slice_depths(skin)
    outputs = OutputSpec(
        field_days=tuple(sorted({*session_list, end})),
        profile_days=tuple(float(d) for d in profile_days),
        slice_days=tuple(slice_days),
        slice_depths_um=depths,
        selected_days=tuple(float(d) for d in reported),
        selected_species=COLLAGEN_SPECIES,
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
        progress=progress,
        spill_dir=spill_dir,
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
        reported_days=reported,
        dense_grid=dense,
    )


def patch_integrator(
    config: RunConfig,
    params: Parameters | None = None,
    *,
    spacing_um: float | None = None,
    options: StepperOptions | None = None,
    skin: SkinProfile | None = None,
) -> tuple[HealingSetup, PatchIntegrator]:
    """The healing kinetics' setup on the patch of ``config``'s patient (grid, model, rest
    state, parameters) and its compiled integrator, as :func:`simulate_patch_course`
    runs them (``spacing_um`` default :data:`DEFAULT_SPACING_UM`; ``skin``: the patient's,
    if the caller has it already)."""
    spacing_um = DEFAULT_SPACING_UM if spacing_um is None else float(spacing_um)
    params = params or default_parameters()
    patient = config.patient
    skin = skin or skin_for(patient)
    cov = Covariates.of(
        np.asarray(skin.thickness_um), patient.age_years, float(patient.fitzpatrick)
    )
    side_um = 1000.0 * config.simulation.sample_area_mm
    depth_um = patch_grid_depth_um(skin)
    _check_size(config, side_um, depth_um, spacing_um)
    setup = healing_setup(
        skin, params, cov, side_um=side_um, spacing_um=spacing_um, depth_um=depth_um
    )
    return _compiled(setup, options or StepperOptions(rtol=RTOL, atol=1e-6))


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
    """:func:`layered_agreement` (headline and change) at every reported day."""
    rows = []
    for day in result.reported_days:
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


# -- observables ---------------------------------------------------------------------------------


def rest_layer_means(result: PatchCourseResult) -> FloatArray:
    """``(S, 5)``: the layer means of the rest state (``NaN`` for layers not on the grid)."""
    grid = result.grid
    y0 = np.asarray(result.setup.y0).reshape(len(result.patch.species), *grid.shape)
    means: FloatArray = layer_means(grid, y0.mean(axis=(1, 2)))
    return means


def patch_trajectory(result: PatchCourseResult) -> Trajectory:
    """The patch's layer means as the :class:`~needlesim.outcomes.Trajectory` the
    observation models read: ``state[0, t, layer, species]`` the layer means at the
    saved profile days, ``baseline`` those of the rest state, the patient's layer
    thicknesses (the skin profile's, as on the ``layered`` level, not the grid's
    voxel-rounded ones) and the session days. Layers not on the grid are ``NaN``; no
    observable reads them (the stratum corneum, and the hypodermis, of which the grid
    holds only the top)."""
    days, means = result.patch.layer_means()  # (T, S, 5)
    return Trajectory(
        days=np.asarray(days, dtype=np.float64),
        state=np.transpose(means, (0, 2, 1))[None],
        baseline=rest_layer_means(result).T[None],
        thickness_um=np.asarray(result.skin.thickness_um, dtype=np.float64)[None],
        session_days=np.asarray(result.session_days, dtype=np.float64),
    )


def patch_observables(result: PatchCourseResult) -> dict[str, FloatArray]:
    """Every observable of DESIGN.md at the saved profile days, ``name -> (T,)``, from the
    patch's layer means (:func:`patch_trajectory`) through
    :func:`needlesim.outcomes.compute_observables`: the formulas of the ``layered``
    level, no second implementation. Without the dense save grid
    (``result.dense_grid`` false) the grid observables
    (:data:`needlesim.course.GRID_OBSERVABLES`) are ``NaN``: their episodes last hours
    to days and would be read off too few saved days."""
    severity = result.config.patient.baseline_severity
    observed = compute_observables(patch_trajectory(result), severity)
    out = {name: np.asarray(values[0], dtype=np.float64) for name, values in observed.items()}
    if not result.dense_grid:
        for name in GRID_OBSERVABLES:
            out[name] = np.full_like(out[name], np.nan)
    return out


def layered_observables(result: PatchCourseResult) -> dict[str, FloatArray]:
    """The same observables from the ``layered`` run of the same course (same save days),
    ``name -> (T,)``: what :func:`needlesim.course.simulate_course` reports."""
    severity = result.config.patient.baseline_severity
    traj = course_trajectory(result.layered, result.skin, result.session_days)
    observed = compute_observables(traj, severity)
    return {name: np.asarray(values[0], dtype=np.float64) for name, values in observed.items()}


def _day_index(saved: FloatArray, day: float) -> int:
    return int(np.argmin(np.abs(np.asarray(saved) - day)))


# -- spatial outputs -------------------------------------------------------------------------------


def channel_distance_um(result: PatchCourseResult, day: float) -> FloatArray:
    """``(nx, ny, nz)``: distance (um) of each voxel centre from the nearest axis of the
    channels made on or before ``day`` (every session's punctures on the patch, each
    with its needle's tilt; :func:`needlesim.patch.spatial.axis_distance_um`); ``inf``
    before the first session."""
    xs: list[FloatArray] = []
    ys: list[FloatArray] = []
    tilts: list[FloatArray] = []
    for session_day, dev in zip(result.session_days, result.devices, strict=True):
        if session_day > day:
            continue
        x, y = channel_entries(result.grid, cast(PunctureLike, dev.punctures))
        xs.append(x)
        ys.append(y)
        tilts.append(np.full(x.shape, NeedleGeometry.from_device(dev.device).tilt_deg))
    if not xs:
        return np.full(result.grid.shape, np.inf)
    x, y, tilt = np.concatenate(xs), np.concatenate(ys), np.concatenate(tilts)
    return axis_distance_um(result.grid, x, y, tilt)


def new_collagen(result: PatchCourseResult) -> tuple[FloatArray, FloatArray]:
    """``(days, change)``: collagen I + III minus its rest value in every voxel,
    ``(T, nx, ny, nz)`` at the reported days (units of young-adult dermal collagen, a
    concentration: new collagen per unit volume)."""
    days, fields = result.patch.selected()
    species = result.patch.selected_species
    idx = [species.index(s) for s in COLLAGEN_SPECIES]
    return days, fields[:, idx].sum(axis=1) - rest_collagen(result)


def rest_collagen(result: PatchCourseResult) -> FloatArray:
    """``(nx, ny, nz)``: collagen I + III of the rest state."""
    rest = np.asarray(result.setup.y0).reshape(len(result.patch.species), *result.grid.shape)
    total: FloatArray = np.sum([rest[result.patch.index(s)] for s in COLLAGEN_SPECIES], axis=0)
    return total


def dermal_mask(grid: PatchGrid) -> NDArray[np.bool_]:
    """``(nx, ny, nz)``: voxels of the papillary and reticular dermis."""
    rows = np.isin(grid.layer_of_z, [int(layer) for layer in DERMAL_LAYERS])
    mask: NDArray[np.bool_] = np.broadcast_to(rows, grid.shape)
    return mask


def dermis_remodelled(
    result: PatchCourseResult, threshold: float = REMODELLED_THRESHOLD
) -> tuple[FloatArray, FloatArray]:
    """``(days, fraction)``: the share of dermal voxels whose collagen (I + III) differs
    from rest by more than ``threshold`` times rest, at the reported days
    (:func:`needlesim.patch.spatial.remodelled_fraction`)."""
    days, change = new_collagen(result)
    rest_sum = rest_collagen(result)
    region = dermal_mask(result.grid)
    fractions = [remodelled_fraction(rest_sum + c, rest_sum, region, threshold) for c in change]
    return days, np.asarray(fractions, dtype=np.float64)


def dermis_change_quantiles(
    result: PatchCourseResult, quantiles: tuple[float, ...] = (0.1, 0.5, 0.9)
) -> dict[str, list[float | None]]:
    """Quantiles over the dermal voxels of the relative change of collagen I + III,
    ``(c - c_0) / c_0``, at each reported day (what the remodelled fraction thresholds),
    ``"p10" -> [...]`` etc."""
    _, change = new_collagen(result)
    region = dermal_mask(result.grid)
    relative = change[:, region] / rest_collagen(result)[region]
    values = np.quantile(relative, quantiles, axis=1) if relative.size else None
    return {
        f"p{round(100 * q)}": [_json_float(v) for v in values[n]] if values is not None else []
        for n, q in enumerate(quantiles)
    }


def new_collagen_radial(
    result: PatchCourseResult, bin_um: float = RADIAL_BIN_UM
) -> tuple[FloatArray, FloatArray, FloatArray, NDArray[np.int64]]:
    """``(days, edges_um, mean, count)``: the new collagen (:func:`new_collagen`) averaged
    over the voxels at each distance from the nearest channel axis (bins of ``bin_um``)
    and each depth (voxel row), at the reported days; ``mean`` ``(T, bins, nz)``
    (``NaN`` where a bin holds no voxel of a row, and before the first session),
    ``count`` the voxels per bin and row ``(T, bins, nz)``."""
    days, change = new_collagen(result)
    edges = radial_bins(result.grid, bin_um)
    means, counts = [], []
    for day, values in zip(days, change, strict=True):
        mean, count = radial_profile(values, channel_distance_um(result, float(day)), edges)
        means.append(mean)
        counts.append(count)
    return days, edges, np.stack(means), np.stack(counts)


def radial_by_layer(
    result: PatchCourseResult, day: float, bin_um: float = RADIAL_BIN_UM
) -> dict[str, Any]:
    """The radial profile of new collagen at the reported day nearest ``day``, per dermal
    layer and for the dermis as a whole (voxel means per distance bin), JSON-safe."""
    days, change = new_collagen(result)
    i = _day_index(days, day)
    grid = result.grid
    edges = radial_bins(grid, bin_um)
    distance = channel_distance_um(result, float(days[i]))
    groups = np.full(grid.nz, -1)
    for n, layer in enumerate(DERMAL_LAYERS):
        groups[grid.layer_of_z == layer] = n
    per_layer, _ = radial_profile(change[i], distance, edges, groups, len(DERMAL_LAYERS))
    dermis = np.where(groups >= 0, 0, -1)
    whole, whole_count = radial_profile(change[i], distance, edges, dermis, 1)
    keep = whole_count[:, 0] > 0
    out: dict[str, Any] = {
        "day": float(days[i]),
        "quantity": "collagen_I + collagen_III - rest (voxel mean)",
        "unit": result.patch.units[result.patch.index(COLLAGEN_SPECIES[0])],
        "bin_um": float(bin_um),
        "distance_um": [float(v) for v in 0.5 * (edges[:-1] + edges[1:])[keep]],
        "voxels": [int(v) for v in whole_count[keep, 0]],
        "dermis": [_json_float(v) for v in whole[keep, 0]],
    }
    for n, layer in enumerate(DERMAL_LAYERS):
        out[LAYER_NAMES[layer]] = [_json_float(v) for v in per_layer[keep, n]]
    return out


def observables_dataset(result: PatchCourseResult) -> xr.Dataset:
    """:func:`patch_observables` as an :class:`xarray.Dataset` over ``time_profile`` (the
    saved profile days), one variable per observable with its ``units``."""
    from ..outcomes.labels import observable_unit

    days, _ = result.patch.layer_means()
    data = {
        name: (("time_profile",), values, {"units": observable_unit(name)})
        for name, values in patch_observables(result).items()
    }
    coords = {"time_profile": ("time_profile", days, {"units": "days"})}
    attrs = {
        "dense_save_grid": int(result.dense_grid),
        "not_computed": [] if result.dense_grid else sorted(str(k) for k in GRID_OBSERVABLES),
    }
    return xr.Dataset(data, coords=coords, attrs=attrs)


def spatial_dataset(result: PatchCourseResult) -> xr.Dataset:
    """The observables (:func:`observables_dataset`) and the spatial outputs (at the
    reported days) as an :class:`xarray.Dataset` on the coordinates of
    :meth:`needlesim.patch.PatchResult.to_dataset`."""
    data: dict[str, Any] = {}
    t_sel, fraction = dermis_remodelled(result)
    _, edges, mean, count = new_collagen_radial(result)
    unit = result.patch.units[result.patch.index(COLLAGEN_SPECIES[0])]
    data["dermis_remodelled_fraction"] = (
        ("time_selected",),
        fraction,
        {
            "units": "1",
            "long_name": "share of dermal voxels whose collagen I + III changed by more "
            "than the threshold",
            "threshold_fraction_of_rest": REMODELLED_THRESHOLD,
        },
    )
    data["new_collagen_radial"] = (
        ("time_selected", "radial_distance", "z"),
        mean,
        {
            "units": unit,
            "long_name": "collagen I + III minus rest, mean over the voxels at each "
            "distance from the nearest channel axis and depth",
        },
    )
    data["new_collagen_radial_voxels"] = (("time_selected", "radial_distance", "z"), count)
    coords = {
        "time_selected": ("time_selected", t_sel, {"units": "days"}),
        "radial_distance": (
            "radial_distance",
            0.5 * (edges[:-1] + edges[1:]),
            {"units": "um", "long_name": "distance from the nearest channel axis (bin centre)"},
        ),
        "z": ("z", result.grid.z_um, {"units": "um"}),
    }
    observed = observables_dataset(result)
    spatial = xr.Dataset(data, coords=coords, attrs={"radial_bin_um": RADIAL_BIN_UM})
    return xr.merge([observed, spatial], combine_attrs="no_conflicts")


def to_dataset(result: PatchCourseResult, attrs: dict[str, Any] | None = None) -> xr.Dataset:
    """The patch outputs (:meth:`needlesim.patch.PatchResult.to_dataset`) with the
    observables and spatial outputs (:func:`spatial_dataset`): what ``patch.zarr`` holds."""
    base = result.patch.to_dataset(attrs=attrs)
    extra = spatial_dataset(result)
    merged = xr.merge([base, extra], combine_attrs="override", compat="override")
    merged.attrs.update({**base.attrs, **extra.attrs})
    return merged


def observables_summary(result: PatchCourseResult) -> dict[str, Any]:
    """Every observable at the reported days: the patch's (``values``) and the ``layered``
    level's on the same course (``layered``), JSON-safe (``None`` for ``NaN``)."""
    from ..outcomes.labels import observable_unit

    saved, _ = result.patch.layer_means()
    idx = [_day_index(saved, d) for d in result.reported_days]
    ours = patch_observables(result)
    theirs = layered_observables(result)
    lay_idx = [_day_index(np.asarray(result.layered.days), d) for d in result.reported_days]
    return {
        name: {
            "unit": observable_unit(name),
            "values": [_json_float(values[i]) for i in idx],
            "layered": [_json_float(theirs[name][i]) for i in lay_idx],
        }
        for name, values in ours.items()
    }


def summary(result: PatchCourseResult) -> dict[str, Any]:
    """The JSON summary of a patch course (the run's warnings as the layered level's)."""
    from ..io.provenance import provenance
    from ..safety import check_run

    config = result.config
    agreement = result.agreement()
    remodelled_days, remodelled = dermis_remodelled(result)
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
        "warnings": [w.to_dict() for w in check_run(config)],
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
        "days": [float(d) for d in result.reported_days],
        "observables": observables_summary(result),
        "observables_save_grid": (
            "the layered level's (reported days + a dense grid in the week after every "
            "session): every observable computed"
            if result.dense_grid
            else "reported days only: erythema_duration_days, channel_closure_hours and "
            "pih_incidence are null (they need the dense grid)"
        ),
        "dermis_remodelled": {
            "threshold_fraction_of_rest": REMODELLED_THRESHOLD,
            "days": [float(d) for d in remodelled_days],
            "fraction": [_json_float(v) for v in remodelled],
            "relative_change_quantiles": dermis_change_quantiles(result),
        },
        "new_collagen_radial_profile": radial_by_layer(result, result.end_day),
    }


def folder_run(
    folder: str | Path, every_s: float | None = None, resume: bool = True
) -> tuple[Checkpointing, Path]:
    """The checkpointing and the fields' spill folder of a run written into ``folder``
    (created): :data:`CHECKPOINT_NAME` every ``every_s`` wall-clock seconds (default
    :data:`CHECKPOINT_EVERY_S`) and after every session, resumed if it is of the same run
    and replaced if not; the fields in :data:`SPILL_NAME`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    every = CHECKPOINT_EVERY_S if every_s is None else float(every_s)
    ckpt = Checkpointing(folder / CHECKPOINT_NAME, every_s=every, resume=resume, mismatch="restart")
    return ckpt, folder / SPILL_NAME


def finish_folder_run(folder: str | Path) -> None:
    """Remove what :func:`folder_run` left in ``folder`` for resuming: the checkpoint, then
    the fields it kept (the arrays already mapped stay readable)."""
    folder = Path(folder)
    discard(folder / CHECKPOINT_NAME, folder / SPILL_NAME)


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
    ckpt, spill_dir = folder_run(folder, checkpoint_every_s, resume)
    result = simulate_patch_course(config, checkpoint=ckpt, spill_dir=spill_dir)
    data = write_patch_course(result, folder)
    finish_folder_run(folder)
    return data


def write_patch_course(result: PatchCourseResult, folder: str | Path) -> dict[str, Any]:
    """Write a patch course into ``folder``; returns the JSON summary.

    Files: ``patch.zarr`` (fields, depth profiles, layer means, slices, collagen
    fields at the reported days, observables, spatial outputs: :func:`to_dataset`),
    ``depth_profile_<species>.png`` (at the reported days),
    ``radial_new_collagen_day<end>.png`` (:func:`new_collagen_radial` at the end),
    ``slice_<species>_z<depth>um_day<day>.png`` at the end of the run, ``slices/``
    (an image series of the last session's healing), ``patch_day<end>.vti``
    (ParaView) and ``summary.json``.
    """
    from ..io import write_json, write_zarr
    from ..io.provenance import provenance

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config = result.config
    patch = result.patch
    write_zarr(
        to_dataset(result, attrs=provenance(config, config.simulation.seed)),
        folder / "patch.zarr",
    )
    reported = [float(d) for d in result.reported_days]
    for species in PROFILE_SPECIES:
        plot_depth_profiles(patch, species, folder / f"depth_profile_{species}.png", reported)
    if result.session_days.size:
        _, edges, mean, _ = new_collagen_radial(result)
        has_collagen = np.asarray((rest_collagen(result) > 0).any(axis=(0, 1)), dtype=bool)
        no_collagen = ~has_collagen  # the rows of the epidermis
        plot_radial_profile(
            result.grid,
            edges,
            np.where(no_collagen[None, :], np.nan, mean[-1]),
            f"new collagen I + III around the channels, day {result.end_day:g}",
            f"change from rest ({patch.units[patch.index(COLLAGEN_SPECIES[0])]})",
            folder / f"radial_new_collagen_day{result.end_day:g}.png",
        )
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
