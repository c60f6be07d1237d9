"""The on-disk export cache of the layered solve: same numbers as the plain path, keyed by
shape, and a damaged file falls back silently (:mod:`needlesim.solve.export_cache`)."""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import numpy as np
import pytest

import needlesim
from needlesim.course.layered import simulate_course
from needlesim.solve import SolverOptions, export_cache

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "acne-scars.yaml"


@pytest.fixture
def cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The export cache switched on in a folder of its own, nothing loaded in memory."""
    monkeypatch.delenv("NEEDLESIM_NO_CACHE", raising=False)
    monkeypatch.setenv("NEEDLESIM_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(export_cache, "_LOADED", {})
    return tmp_path / "export"


def _observables(config: needlesim.RunConfig) -> dict[str, np.ndarray]:
    return simulate_course(config).observables


def _files(folder: Path) -> list[Path]:
    return sorted(folder.glob("layered_segments-*.bin"))


def test_cached_solve_gives_the_plain_observables_bit_for_bit(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = needlesim.load(EXAMPLE)
    monkeypatch.setenv("NEEDLESIM_NO_CACHE", "1")
    plain = _observables(config)  # first, so the export must not reuse its trace
    monkeypatch.delenv("NEEDLESIM_NO_CACHE")
    exported = _observables(config)  # exports, stores, runs the exported program
    (stored,) = _files(cache)
    export_cache._LOADED.clear()
    from_disk = _observables(config)  # what a new process does: load, no tracing
    stored.write_bytes(b"not an export")  # a damaged file: exported again, silently
    export_cache._LOADED.clear()
    after_garbage = _observables(config)
    assert _files(cache) == [stored] and export_cache._read(stored) is not None  # rewritten
    assert exported.keys() == plain.keys() and len(plain) > 10
    for name, values in plain.items():
        for cached in (exported, from_disk, after_garbage):
            assert np.array_equal(cached[name], values, equal_nan=True), name
    assert plain["dermal_collagen_change_pct"][-1] > 0  # the course builds collagen


def test_a_truncated_file_is_refused(cache: Path) -> None:
    import jax.numpy as jnp

    out = export_cache.cached_call("double", lambda x: 2.0 * x, (jnp.arange(3.0),), None)
    assert np.array_equal(np.asarray(out), [0.0, 2.0, 4.0])
    (stored,) = cache.glob("double-*.bin")
    assert export_cache._read(stored) is not None
    stored.write_bytes(stored.read_bytes()[:-100])
    assert export_cache._read(stored) is None
    stale = cache / "double-000000000000-0123.bin"  # another version's file
    stale.write_bytes(b"old")
    export_cache._LOADED.clear()
    again = export_cache.cached_call("double", lambda x: 2.0 * x, (jnp.arange(3.0),), None)
    assert np.array_equal(np.asarray(again), [0.0, 2.0, 4.0])
    assert export_cache._read(stored) is not None and not stale.exists()


def test_a_file_naming_other_classes_is_refused_not_run(tmp_path: Path) -> None:
    payload = pickle.dumps(Path("x"))  # a valid checksum, but not JAX's classes
    path = tmp_path / "bad.bin"
    path.write_bytes(export_cache.MAGIC + hashlib.sha256(payload).digest() + payload)
    assert export_cache._read(path) is None
    path.write_bytes(export_cache.MAGIC + b"\0" * 32 + payload)  # checksum mismatch
    assert export_cache._read(path) is None


def test_the_key_follows_shapes_dtypes_and_options() -> None:
    import jax

    default = SolverOptions()

    def key(*leaves: object, options: SolverOptions = default) -> str:
        flat, tree = jax.tree_util.tree_flatten(leaves)
        return export_cache.cache_key("f", flat, tree, options)

    base = key(np.zeros(3), np.zeros((2, 2)))
    assert key(np.ones(3), np.ones((2, 2))) == base  # values are arguments, not the key
    assert key(np.zeros(4), np.zeros((2, 2))) != base  # a changed shape misses
    assert key(np.zeros(3, dtype=np.int64), np.zeros((2, 2))) != base
    assert key(np.zeros(3), np.zeros((2, 2)), options=SolverOptions(rtol=1e-6)) != base


def test_the_switch_turns_the_export_cache_off(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEEDLESIM_NO_CACHE", "1")
    assert export_cache.export_dir() is None
    assert export_cache.cached_call("f", lambda x: x, (np.zeros(2),), None) is None
    assert not cache.exists()


def test_cached_batch_solve_matches_the_plain_batch(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from needlesim.anatomy import skin_for
    from needlesim.biology import Covariates, default_parameters
    from needlesim.course.layered import session_injuries
    from needlesim.solve import simulate_layered_batch

    config = needlesim.load(EXAMPLE)
    days, injuries, _ = session_injuries(config)
    thickness = np.asarray(skin_for(config.patient).thickness_um, dtype=float)
    patients = Covariates.of(np.stack([thickness, 1.2 * thickness]), np.array([26.0, 60.0]), 3.0)
    save = np.array([1.0, 30.0, 90.0, 200.0])
    cached = simulate_layered_batch(default_parameters(), patients, days, injuries, save)
    assert len(list(cache.glob("layered_segments_batch-*.bin"))) == 1
    monkeypatch.setenv("NEEDLESIM_NO_CACHE", "1")
    plain = simulate_layered_batch(default_parameters(), patients, days, injuries, save)
    assert np.asarray(plain.states).shape[0] == 2
    assert np.array_equal(np.asarray(cached.states), np.asarray(plain.states))
    assert np.array_equal(np.asarray(cached.steps), np.asarray(plain.steps))
