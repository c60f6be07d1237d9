"""Sobol indices with SALib: Sobol-sequence (Saltelli) sampling, batched evaluation, analysis.

For ``D`` parameters and ``n_base`` = N (a power of 2), SALib draws N (D + 2)
points (N (2D + 2) with second order); the function is evaluated on them in
batches on the chosen executor (:func:`needlesim.scale.map_ordered`), and
:func:`SALib.analyze.sobol.analyze` estimates, per output,

* ``S1``: first-order index, Var(E[Y | X_i]) / Var(Y);
* ``ST``: total index, E[Var(Y | X_~i)] / Var(Y);

with bootstrap confidence intervals (``S1_conf``, ``ST_conf``: half-widths at
``conf_level``).

Failed evaluations: a point whose solve fails (:func:`is_solver_failure`, e.g.
the stiff solver reaching its step limit at an extreme corner of the parameter
ranges) is isolated by bisecting its block and given NaN; the Saltelli group it
belongs to (the rows ``A_j``, ``AB_j^(i)``, ``B_j`` of one base point ``j``) is
dropped as a whole, so the estimators stay those of a smaller sample. The count
is in ``attrs["failed_points"]`` and ``attrs["base_points_used"]``. A block in
which every point fails is an error, not a corner case, and is raised.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..scale.executor import INLINE, map_ordered
from .problem import ProblemSpec, as_ranges, salib_problem

SobolFunction = Callable[[NDArray[np.float64]], Any]
"""``f(X)`` for a sample matrix ``X`` of shape (N, D): an array (N,) or (N, K), or a
DataFrame with N rows and one column per output."""

INDEX_COLUMNS = ("output", "parameter", "S1", "S1_conf", "ST", "ST_conf", "rank")


SOLVER_FAILURES = (
    "maximum number of solver steps",
    "non-finite",
    "nonfinite",
    "failed to converge",
    "did not converge",
)
"""Fragments of the messages of diffrax/equinox runtime failures of a solve (JAX raises
them as RuntimeError, or as ValueError when they pass through a host callback)."""


def is_solver_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is a failed solve (not a bug or bad input)."""
    from ..solve.errors import SolveError

    if isinstance(exc, SolveError):
        return True
    text = str(exc).lower()
    return any(fragment in text for fragment in SOLVER_FAILURES)


@dataclass(frozen=True)
class _Chunk:
    """Evaluate ``fn`` on one block of rows (picklable, so it can run on a worker)."""

    fn: SobolFunction

    def __call__(self, block: NDArray[np.float64]) -> pd.DataFrame:
        try:
            return as_output_frame(self.fn(block), len(block))
        except (RuntimeError, ValueError) as exc:
            if len(block) == 1 or not is_solver_failure(exc):
                raise
        halves = [self._isolate(part) for part in np.array_split(block, 2)]
        frame = pd.concat(halves, ignore_index=True)
        if frame.isna().all(axis=None):
            raise RuntimeError(f"every one of {len(block)} points failed to evaluate")
        return frame

    def _isolate(self, block: NDArray[np.float64]) -> pd.DataFrame:
        """Evaluate ``block``; a point that raises on its own becomes a row of NaN."""
        try:
            return as_output_frame(self.fn(block), len(block))
        except (RuntimeError, ValueError) as exc:
            if not is_solver_failure(exc):
                raise
            if len(block) == 1:
                return pd.DataFrame(index=pd.RangeIndex(1))
        return pd.concat([self._isolate(p) for p in np.array_split(block, 2)], ignore_index=True)


def as_output_frame(result: Any, n: int, names: Sequence[str] | None = None) -> pd.DataFrame:
    """An evaluation result as a float DataFrame with ``n`` rows and named outputs."""
    if isinstance(result, pd.DataFrame):
        frame = result.reset_index(drop=True).astype(np.float64)
    else:
        array = np.asarray(result, dtype=np.float64)
        if array.ndim == 1:
            array = array[:, None]
        if array.ndim != 2:
            raise ValueError(f"function output must be 1-D or 2-D, got shape {array.shape}")
        cols = list(names) if names else (["y"] if array.shape[1] == 1 else None)
        cols = cols or [f"y{k}" for k in range(array.shape[1])]
        frame = pd.DataFrame(array, columns=cols)
    if len(frame) != n:
        raise ValueError(f"function returned {len(frame)} rows for {n} samples")
    return frame


def _check_n_base(n_base: int) -> None:
    if n_base < 2 or n_base & (n_base - 1):
        raise ValueError(
            f"n_base must be a power of 2 >= 2 (balance of the Sobol sequence), got {n_base}; "
            f"try {1 << max(1, int(n_base - 1).bit_length())}"
        )


def _drop_failed_groups(
    y: pd.DataFrame, n_params: int, second_order: bool
) -> tuple[pd.DataFrame, int, int]:
    """Drop every Saltelli group with a NaN output: ``(y, failed points, groups kept)``."""
    group = 2 * n_params + 2 if second_order else n_params + 2
    bad_rows = y.isna().any(axis=1).to_numpy()
    groups = bad_rows.reshape(-1, group).any(axis=1)
    keep = np.repeat(~groups, group)
    return y[keep].reset_index(drop=True), int(bad_rows.sum()), int((~groups).sum())


def sobol_indices(
    problem: ProblemSpec,
    evaluator_fn: SobolFunction,
    n_base: int,
    *,
    outputs: Sequence[str] | None = None,
    calc_second_order: bool = False,
    seed: int = 0,
    num_resamples: int = 1000,
    conf_level: float = 0.95,
    batch_size: int = 4096,
    scheduler: Any = INLINE,
    workers: int | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """First-order and total Sobol indices of every output of ``evaluator_fn``.

    ``problem``: ``[(name, lo, hi), ...]``, :class:`ParameterRange` objects or a
    SALib problem dict. ``outputs`` names the columns of an array output.
    ``scheduler``/``workers``: where the batches run (``"inline"`` by default; ``None``
    for a local Dask cluster, an address, or a Client).

    Returns one row per output and parameter, columns :data:`INDEX_COLUMNS`
    (``rank`` 1 = largest ``ST``); ``attrs`` holds ``n_evaluations``, ``n_base``,
    ``conf_level`` and, with second order, ``S2`` per output.
    """
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    ranges = as_ranges(problem)
    _check_n_base(n_base)
    spec = salib_problem(ranges)
    x = sobol_sample.sample(spec, n_base, calc_second_order=calc_second_order, seed=seed)
    blocks = [x[i : i + batch_size] for i in range(0, len(x), batch_size)]
    parts = map_ordered(
        _Chunk(evaluator_fn),
        blocks,
        scheduler=scheduler,
        workers=workers,
        progress=progress,
        description="sobol samples",
    )
    y = pd.concat(parts, ignore_index=True)
    if outputs is not None:
        if len(outputs) != y.shape[1]:
            raise ValueError(f"{len(outputs)} output names for {y.shape[1]} outputs")
        y.columns = list(outputs)
    y, failed, used = _drop_failed_groups(y, len(ranges), calc_second_order)
    rows: list[dict[str, Any]] = []
    second: dict[str, Any] = {}
    for name in y.columns:
        values = y[name].to_numpy(dtype=np.float64)
        if not np.isfinite(values).all():
            raise ValueError(f"output {name!r} has {int((~np.isfinite(values)).sum())} NaN/inf")
        if np.var(values) == 0.0:
            rows += [
                {"output": name, "parameter": r.name, "S1": 0.0, "S1_conf": 0.0, "ST": 0.0,
                 "ST_conf": 0.0}
                for r in ranges
            ]  # fmt: skip
            continue
        res = sobol_analyze.analyze(
            spec,
            values,
            calc_second_order=calc_second_order,
            num_resamples=num_resamples,
            conf_level=conf_level,
            seed=seed,
        )
        for i, r in enumerate(ranges):
            rows.append(
                {
                    "output": name,
                    "parameter": r.name,
                    "S1": float(res["S1"][i]),
                    "S1_conf": float(res["S1_conf"][i]),
                    "ST": float(res["ST"][i]),
                    "ST_conf": float(res["ST_conf"][i]),
                }
            )
        if calc_second_order:
            second[str(name)] = np.asarray(res["S2"]).tolist()
    table = pd.DataFrame.from_records(rows)
    table["rank"] = (
        table.groupby("output", sort=False)["ST"].rank(ascending=False, method="first").astype(int)
    )
    table = table.loc[:, list(INDEX_COLUMNS)]
    table.attrs.update(
        n_evaluations=len(x), n_base=n_base, conf_level=conf_level, parameters=spec["names"],
        failed_points=failed, base_points_used=used,
    )  # fmt: skip
    if second:
        table.attrs["S2"] = second
    return table
