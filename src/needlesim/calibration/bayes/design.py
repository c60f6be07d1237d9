"""The emulator's design runs: Sobol points over the prior box, run through the real model,
cached in an ``.npz`` (the design does not depend on measured values, so calibration and
cross-validation share it)."""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ...io.provenance import source_hash
from .data import Datum
from .emulator import Emulator, design, fit_emulator
from .simulate import EMULATOR_PATIENTS, ModelOutputs, run_design
from .spec import Spec

FloatArray = NDArray[np.float64]

DEFAULT_DESIGN = 48
"""Training design points (default of ``needlesim calibrate --design``)."""
HOLDOUT_FRACTION = 0.25
"""Held-out design points, as a fraction of the training ones (at least 4)."""


@dataclass(frozen=True)
class DesignRuns:
    u_train: FloatArray
    y_train: FloatArray
    u_test: FloatArray
    y_test: FloatArray
    key: str
    seconds: float


def design_key(data: list[Datum], spec: Spec, n_design: int, n_patients: int, seed: int) -> str:
    """What the design runs depend on (not the measured values): the model's code and
    tables, the free parameters' priors, the studies and the design's size."""
    what = {
        "model": source_hash((".py", ".yaml")),
        "free": [(f.name, f.prior.lo, f.prior.hi) for f in spec.free],
        "data": [(d.study.name, d.observable, d.day, d.statistic, d.threshold) for d in data],
        "studies": sorted({d.study.model_dump_json() for d in data}),
        "n_design": n_design,
        "n_patients": n_patients,
        "seed": seed,
    }
    return hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()[:16]


def bounds(spec: Spec) -> tuple[FloatArray, FloatArray]:
    lo = np.array([np.log(f.prior.lo) for f in spec.free])
    hi = np.array([np.log(f.prior.hi) for f in spec.free])
    return lo, hi


def design_runs(
    data: list[Datum],
    spec: Spec,
    n_design: int = DEFAULT_DESIGN,
    n_patients: int = EMULATOR_PATIENTS,
    seed: int = 0,
    cache: str | Path | None = None,
) -> DesignRuns:
    """Run (or read from ``cache`` when its key matches) the training and held-out points."""
    import time

    key = design_key(data, spec, n_design, n_patients, seed)
    if cache is not None and Path(cache).is_file():
        saved = np.load(cache)
        if str(saved["key"]) == key:
            return DesignRuns(
                saved["u_train"],
                saved["y_train"],
                saved["u_test"],
                saved["y_test"],
                key,
                float(saved["seconds"]),
            )
    lo, hi = bounds(spec)
    n_test = max(4, round(HOLDOUT_FRACTION * n_design))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Sobol balance warning for n not a power of two
        u_train = design(lo, hi, n_design, seed)
        u_test = design(lo, hi, n_test, seed + 1)
    model = ModelOutputs(data, spec, n_patients)
    start = time.perf_counter()
    y_train = run_design(model, u_train, "emulator design (training)")
    y_test = run_design(model, u_test, "emulator design (held out)")
    seconds = time.perf_counter() - start
    runs = DesignRuns(u_train, y_train, u_test, y_test, key, seconds)
    if cache is not None:
        Path(cache).parent.mkdir(parents=True, exist_ok=True)
        np.savez(
            cache,
            u_train=u_train,
            y_train=y_train,
            u_test=u_test,
            y_test=y_test,
            key=key,
            seconds=seconds,
        )
    return runs


def build_emulator(runs: DesignRuns, data: list[Datum], spec: Spec) -> Emulator:
    """Emulators of the centre and log spread of every datum, on their relevant inputs."""
    lo, hi = bounds(spec)
    relevant = [spec.relevant(d.observable) for d in data]
    return fit_emulator(
        runs.u_train, runs.y_train, runs.u_test, runs.y_test, lo, hi, relevant + relevant
    )
