"""Checkpoints: an interrupted and resumed patch run equals an uninterrupted one, bit for bit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from needlesim.patch import (
    Checkpoint,
    Checkpointing,
    OutputSpec,
    PatchGrid,
    PatchIntegrator,
    Progress,
    Session,
    StepperOptions,
    channel_damage,
    simulate_patch,
)
from needlesim.patch.checkpoint import discard
from needlesim.patch.output import spilled_name
from needlesim.testing.patch_problems import HealingParameters, healing_model

GRID = PatchGrid.with_layers((8, 8, 8), 20.0, [1, 1, 2, 2, 3, 3, 3, 3])
PARAMETERS = HealingParameters(d_c=2.0e4, k_c=4.0, p_c=4.0, d_n=500.0, chi=500.0)
MODEL, PARAMS = healing_model(np.zeros(GRID.shape), PARAMETERS)
Y0 = PARAMETERS.baseline(GRID)
OUTPUTS = OutputSpec(field_days=(1.0, 6.0), profile_days=(0.0, 1.0, 2.0, 5.0, 6.0))
OPTIONS = StepperOptions(rtol=1e-4, atol=1e-7, steps_per_chunk=3)


def _punctures(grid: PatchGrid, rng: np.random.Generator) -> np.ndarray:
    n = 3
    side = grid.lengths_um[0]
    return channel_damage(
        grid, rng.uniform(0, side, n), rng.uniform(0, side, n), rng.uniform(40, 120, n), [40.0]
    )


SESSIONS = (Session(0.0, _punctures), Session(2.0, _punctures))


@pytest.fixture(scope="module")
def integrator() -> PatchIntegrator:
    return PatchIntegrator(GRID, MODEL, OPTIONS)


def _run(integrator: PatchIntegrator, **kwargs: object):  # type: ignore[no-untyped-def]
    kwargs.setdefault("outputs", OUTPUTS)
    return simulate_patch(
        GRID,
        MODEL,
        Y0,
        PARAMS,
        t_end=6.0,
        sessions=SESSIONS,
        seed=11,
        integrator=integrator,
        **kwargs,  # type: ignore[arg-type]
    )


class Crash(Exception):
    pass


def _crash_after(n: int):  # type: ignore[no-untyped-def]
    calls = {"n": 0}

    def progress(info: Progress) -> None:
        calls["n"] += 1
        if calls["n"] == n:
            raise Crash(f"simulated crash at t={info.t}")

    return progress


def _crash_past(day: float):  # type: ignore[no-untyped-def]
    def progress(info: Progress) -> None:
        if info.t > day:
            raise Crash(f"simulated crash at t={info.t}")

    return progress


@pytest.mark.parametrize("crash_after", [2, 9])
def test_resumed_run_equals_uninterrupted_run_bit_for_bit(
    integrator: PatchIntegrator, tmp_path: Path, crash_after: int
) -> None:
    reference = _run(integrator)
    path = tmp_path / "run.ckpt.npz"
    with pytest.raises(Crash):
        _run(
            integrator,
            checkpoint=Checkpointing(path, every_s=0.0),
            progress=_crash_after(crash_after),
        )
    assert path.exists()
    saved = Checkpoint.load(path)
    assert 0.0 < saved.t < 6.0
    resumed = _run(integrator, checkpoint=Checkpointing(path, every_s=0.0))
    assert resumed.stats["resumed_from_day"] == saved.t
    assert resumed.t_final == reference.t_final
    assert np.array_equal(resumed.y_final, reference.y_final)
    for kind in ("field", "profile"):
        assert resumed.times[kind] == reference.times[kind]
        for a, b in zip(resumed.data[kind], reference.data[kind], strict=True):
            assert np.array_equal(a, b)
    assert resumed.stats["accepted_steps"] == reference.stats["accepted_steps"]
    assert resumed.stats["sessions"] == 2
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_checkpoint_of_another_run_is_refused(integrator: PatchIntegrator, tmp_path: Path) -> None:
    path = tmp_path / "run.ckpt.npz"
    _run(integrator, checkpoint=Checkpointing(path, every_s=1e9))  # saves after each session
    assert path.exists()
    with pytest.raises(ValueError, match="another run"):
        simulate_patch(
            GRID,
            MODEL,
            Y0,
            PARAMS,
            t_end=6.0,
            sessions=SESSIONS,
            outputs=OUTPUTS,
            seed=12,  # a different seed: a different run
            integrator=integrator,
            checkpoint=Checkpointing(path),
        )


def test_sessions_jump_the_state_and_outputs_are_right_continuous(
    integrator: PatchIntegrator,
) -> None:
    result = _run(integrator)
    days, profiles = result.profiles()
    assert list(days) == [0.0, 1.0, 2.0, 5.0, 6.0]
    # day 0 output is after the first session: collagen is already destroyed
    baseline = PARAMETERS.m0
    assert profiles[0, 2].min() < baseline
    assert result.stats["sessions"] == 2
    # the growth factor released at day 2 shows in the day-2 output
    assert profiles[2, 0].max() > profiles[1, 0].max()


def test_profiles_recorded_inside_the_loop_equal_stopping_at_every_profile_day(
    integrator: PatchIntegrator,
) -> None:
    # A dense profile grid (more days between two stops than one compiled call records,
    # RECORD_SLOTS = 64) recorded inside the loop gives the steps, states and profiles of
    # returning to Python at each profile day, in far fewer compiled calls.
    dense = tuple(float(d) for d in np.round(np.geomspace(1e-3, 6.0, 200), 6))
    outputs = OutputSpec(field_days=(1.0, 6.0), profile_days=(0.0, *dense))
    runs = {
        flag: _run(integrator, outputs=outputs, profiles_in_loop=flag) for flag in (True, False)
    }
    inside, stopping = runs[True], runs[False]
    np.testing.assert_array_equal(inside.y_final, stopping.y_final)
    for key in ("accepted_steps", "rejected_steps", "krylov_iterations"):
        assert inside.stats[key] == stopping.stats[key], key
    assert inside.times["profile"] == stopping.times["profile"] == [0.0, *dense]
    np.testing.assert_allclose(
        np.stack(inside.data["profile"]), np.stack(stopping.data["profile"]), rtol=1e-13, atol=0
    )
    assert inside.stats["chunks"] < stopping.stats["chunks"] / 2, (  # chunks of 3 steps
        inside.stats["chunks"],
        stopping.stats["chunks"],
    )


def test_chunks_bounded_in_wall_time_change_nothing(integrator: PatchIntegrator) -> None:
    # chunk_wall_s only sets how often the runner returns to Python (progress,
    # checkpoints): with a tiny bound every chunk is one step attempt, and the run is
    # the same bit for bit.
    seen: list[float] = []
    short = _run(integrator, chunk_wall_s=1e-9, progress=lambda p: seen.append(p.t))
    long = _run(integrator)
    np.testing.assert_array_equal(short.y_final, long.y_final)
    attempts = short.stats["accepted_steps"] + short.stats["rejected_steps"]
    # the first chunk runs before a step's cost is known
    assert short.stats["chunks"] >= attempts - OPTIONS.steps_per_chunk > long.stats["chunks"]
    assert seen == sorted(seen) and len(seen) == short.stats["chunks"]


def test_spilled_fields_equal_fields_held_in_memory_and_leave_no_files(
    integrator: PatchIntegrator, tmp_path: Path
) -> None:
    """With a ``spill_dir`` the saved 3D fields are written to disk as they are made and
    memory-mapped: the same numbers, not in the process's heap, no files left behind. A
    checkpointed run keeps them as files its checkpoint refers to instead of copying them
    into it; resumed, it maps them back; ``discard`` removes checkpoint and files."""
    outputs = OutputSpec(
        field_days=(1.0, 6.0),
        profile_days=(1.0, 6.0),
        selected_days=(2.0, 6.0),
        selected_species=(MODEL.species[0],),
    )
    reference = _run(integrator, outputs=outputs)
    spill_dir = tmp_path / "fields"
    spilled = _run(integrator, outputs=outputs, spill_dir=spill_dir)
    path = tmp_path / "run.ckpt.npz"
    with pytest.raises(Crash):
        _run(
            integrator,
            outputs=outputs,
            spill_dir=spill_dir,
            checkpoint=Checkpointing(path, every_s=0.0),
            progress=_crash_after(9),
        )
    resumed = _run(
        integrator,
        outputs=outputs,
        spill_dir=spill_dir,
        checkpoint=Checkpointing(path, every_s=0.0),
    )
    saved = Checkpoint.load(path)
    assert saved.t > 1.0  # the field of day 1 came from the checkpoint
    # the checkpoint counts the fields it kept on disk and holds no copy of them
    assert saved.spilled == {k: len(saved.output_times[k]) for k in ("field", "selected")}
    assert saved.spilled["field"] > 0
    assert set(saved.outputs) == {"profile", "slice"}
    with np.load(path) as stored:
        assert not [k for k in stored.files if k.startswith(("out_field", "out_selected"))]
    for run in (spilled, resumed):
        for kind in ("field", "selected", "profile"):
            assert run.times[kind] == reference.times[kind]
            for a, b in zip(run.data[kind], reference.data[kind], strict=True):
                assert np.array_equal(a, b)
                assert isinstance(a, np.memmap) == (kind != "profile")
        assert np.array_equal(run.field_at(6.0), reference.field_at(6.0))
        ds = run.to_dataset()
        assert np.array_equal(ds["field"].values, np.stack(reference.data["field"]))
    kept = sorted(p.name for p in spill_dir.iterdir())
    assert kept == [spilled_name(k, i) for k in ("field", "selected") for i in range(2)]
    discard(path, spill_dir)
    assert not path.exists() and not spill_dir.exists()
    assert np.array_equal(resumed.field_at(6.0), reference.field_at(6.0))  # still mapped


def test_checkpoint_missing_its_fields_is_refused_or_restarted(
    integrator: PatchIntegrator, tmp_path: Path
) -> None:
    """A checkpoint whose kept fields are gone cannot continue its run: refused with the
    file named, or (``mismatch="restart"``) the run starts over and still gets it right."""
    reference = _run(integrator)
    path, spill_dir = tmp_path / "run.ckpt.npz", tmp_path / "fields"
    with pytest.raises(Crash):
        _run(
            integrator,
            spill_dir=spill_dir,
            checkpoint=Checkpointing(path, every_s=0.0),
            progress=_crash_past(day=2.5),
        )
    assert Checkpoint.load(path).spilled["field"] == 1
    (spill_dir / spilled_name("field", 0)).unlink()
    with pytest.raises(ValueError, match=r"missing from .*field-00000\.npy"):
        _run(integrator, spill_dir=spill_dir, checkpoint=Checkpointing(path))
    with pytest.raises(ValueError, match="has none"):
        _run(integrator, checkpoint=Checkpointing(path))
    again = _run(
        integrator, spill_dir=spill_dir, checkpoint=Checkpointing(path, mismatch="restart")
    )
    assert again.stats["resumed_from_day"] == -1.0  # started over
    assert np.array_equal(again.y_final, reference.y_final)
    for a, b in zip(again.data["field"], reference.data["field"], strict=True):
        assert np.array_equal(a, b)


def test_compiled_memory_accounts_for_the_state_and_the_krylov_storage(
    integrator: PatchIntegrator,
) -> None:
    """XLA's buffer assignment of a compiled chunk, as ``compiled_memory`` reports it: the
    state comes in as an argument and goes out, and the temporaries hold at least the
    GMRES basis and directions (``2 restart + 1`` vectors in the preconditioner's
    precision) without any copy per step (no more than 40 state-sized arrays)."""
    state = integrator.initial_state(Y0, 0.0)
    memory = integrator.compiled_memory(state, PARAMS)
    o = integrator.options
    state_bytes = Y0.size * 8
    krylov = (2 * o.krylov_restart + 1) * Y0.size * np.dtype(o.preconditioner_dtype).itemsize
    assert memory["arguments"] >= state_bytes
    assert memory["output"] >= state_bytes
    assert krylov <= memory["temp"] <= 40 * state_bytes
