"""Effect sizes between arms, paired over the same virtual patients, with bootstrap intervals.

For an arm ``A`` against the reference arm ``R``, per observable and day, over the
patients with a finite value in both arms:

* ``diff`` = mean(A) - mean(R) (= the mean of the paired differences);
* ``smd`` = diff / sqrt((sd(A)^2 + sd(R)^2) / 2), the standardized mean difference
  with the average of the two arms' variances (Cohen's d_av);

with percentile bootstrap intervals (default 95 %, 2000 resamples). Resampling is
paired: a patient is drawn with both of its arm values. Up to ``groups_max``
patients each patient is its own resampling unit; beyond, patients are pooled
into ``groups_max`` equal groups of consecutive ids and groups are resampled
(the patients are independent draws, so the groups are too; the statistics are
smooth functions of group sums, so the interval matches the per-patient
bootstrap to Monte-Carlo error while the cost stays independent of ``n``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .evaluator import OBSERVABLES
from .parts import cohort_dataset

GROUPS_MAX = 2000
N_BOOT = 2000


def paired_bootstrap(
    a: NDArray[np.float64],
    b: NDArray[np.float64],
    *,
    rng: np.random.Generator,
    n_boot: int = N_BOOT,
    conf_level: float = 0.95,
    groups_max: int = GROUPS_MAX,
) -> dict[str, float]:
    """Difference of means and SMD of paired samples ``a`` vs ``b``, with bootstrap intervals."""
    n = a.size
    if n != b.size or n < 2:
        raise ValueError(f"need two paired samples of the same size >= 2, got {n} and {b.size}")
    ma, mb = float(a.mean()), float(b.mean())
    va, vb = float(a.var(ddof=1)), float(b.var(ddof=1))
    diff = ma - mb
    pooled = np.sqrt((va + vb) / 2.0)
    # A spread at rounding level (a constant outcome) has no meaningful SMD.
    degenerate = pooled <= 1e-9 * max(abs(ma), abs(mb), 1e-300)
    smd = np.nan if degenerate else diff / pooled
    g = min(n, groups_max)
    group = (np.arange(n) * g) // n
    ca, cb = a - ma, b - mb
    sums = np.stack(
        [
            np.bincount(group, minlength=g).astype(np.float64),
            np.bincount(group, ca, minlength=g),
            np.bincount(group, ca * ca, minlength=g),
            np.bincount(group, cb, minlength=g),
            np.bincount(group, cb * cb, minlength=g),
        ],
        axis=1,
    )
    diffs = np.empty(n_boot)
    smds = np.empty(n_boot)
    chunk = max(1, 4_000_000 // g)
    for start in range(0, n_boot, chunk):
        stop = min(n_boot, start + chunk)
        draws = rng.integers(0, g, size=(stop - start, g))
        tot = sums[draws].sum(axis=1)  # (reps, 5)
        count = tot[:, 0]
        mean_a, mean_b = tot[:, 1] / count, tot[:, 3] / count
        var_a = np.maximum(tot[:, 2] - count * mean_a**2, 0.0) / (count - 1)
        var_b = np.maximum(tot[:, 4] - count * mean_b**2, 0.0) / (count - 1)
        d = mean_a - mean_b + (ma - mb)
        diffs[start:stop] = d
        with np.errstate(divide="ignore", invalid="ignore"):
            smds[start:stop] = d / np.sqrt((var_a + var_b) / 2.0)
    alpha = (1.0 - conf_level) / 2.0
    lo_d, hi_d = np.quantile(diffs, [alpha, 1.0 - alpha])
    if np.isfinite(smd):
        lo_s, hi_s = np.nanquantile(smds, [alpha, 1.0 - alpha])
    else:
        lo_s = hi_s = np.nan
    return {
        "n": float(n),
        "mean_arm": ma,
        "mean_reference": mb,
        "diff": diff,
        "diff_lo": float(lo_d),
        "diff_hi": float(hi_d),
        "smd": float(smd),
        "smd_lo": float(lo_s),
        "smd_hi": float(hi_s),
    }


def compare_arms(
    out_dir: Path,
    *,
    reference: str | None = None,
    observables: Sequence[str] | None = None,
    n_boot: int = N_BOOT,
    conf_level: float = 0.95,
    seed: int = 0,
    groups_max: int = GROUPS_MAX,
) -> pd.DataFrame:
    """Effect sizes of every arm against ``reference`` (default: the first arm in the data).

    One row per arm, observable and output visit: ``arm, reference, observable,
    visit, day, day_reference, n, mean_arm, mean_reference, diff, diff_lo, diff_hi,
    smd, smd_lo, smd_hi``. Visits are the output days of each patient in order
    (0 = first): arms whose courses differ in length can have different days for
    the same visit (e.g. 180 days after each arm's last session); both are given.
    """
    dataset = cohort_dataset(out_dir)
    if "arm" not in dataset.schema.names:
        raise ValueError(f"{out_dir} holds a single-protocol cohort: no arms to compare")
    arms = list(pd.unique(dataset.to_table(columns=["arm"]).column("arm").to_numpy()))
    ref = reference if reference is not None else arms[0]
    if ref not in arms:
        raise ValueError(f"reference {ref!r} is not an arm; arms: {arms}")
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0xA125,)))
    names = [o for o in (observables or OBSERVABLES) if o in dataset.schema.names]
    rows: list[dict[str, Any]] = []
    for name in names:
        frame = dataset.to_table(columns=["arm", "patient_id", "day", name]).to_pandas()
        frame = frame.sort_values(["arm", "patient_id", "day"], kind="stable")
        frame["visit"] = frame.groupby(["arm", "patient_id"]).cumcount()
        days = frame.groupby(["arm", "visit"])["day"].median()
        wide = frame.pivot(index=["visit", "patient_id"], columns="arm", values=name)
        for visit, block in wide.groupby(level="visit", sort=True):
            for arm in arms:
                if arm == ref or (arm, visit) not in days or (ref, visit) not in days:
                    continue
                pair = block[[arm, ref]].dropna()
                if len(pair) < 2:
                    continue
                stats = paired_bootstrap(
                    pair[arm].to_numpy(dtype=np.float64),
                    pair[ref].to_numpy(dtype=np.float64),
                    rng=rng,
                    n_boot=n_boot,
                    conf_level=conf_level,
                    groups_max=groups_max,
                )
                rows.append(
                    {
                        "arm": arm,
                        "reference": ref,
                        "observable": name,
                        "visit": int(visit),
                        "day": float(days[(arm, visit)]),
                        "day_reference": float(days[(ref, visit)]),
                        **stats,
                    }
                )
    result = pd.DataFrame.from_records(rows)
    if not result.empty:
        result["n"] = result["n"].astype(np.int64)
    return result


def plot_effects(effects: pd.DataFrame, path: Path, title: str) -> Path:
    """Forest plot: SMD with its interval per observable, at the last visit."""
    from matplotlib.figure import Figure

    from .plots import save_figure

    last = effects.loc[effects.groupby(["arm", "observable"])["visit"].idxmax()]
    arms = list(pd.unique(last["arm"]))
    names = list(pd.unique(last["observable"]))
    fig = Figure(figsize=(8, 0.35 * len(names) * max(1, len(arms)) + 1.5), layout="constrained")
    ax = fig.subplots()
    offsets = np.linspace(-0.25, 0.25, len(arms)) if len(arms) > 1 else np.zeros(1)
    for off, arm in zip(offsets, arms, strict=True):
        sub = last[last["arm"] == arm].set_index("observable").reindex(names)
        y = np.arange(len(names)) + off
        err = np.vstack([sub["smd"] - sub["smd_lo"], sub["smd_hi"] - sub["smd"]])
        ax.errorbar(sub["smd"], y, xerr=err, fmt="o", capsize=3, label=f"{arm} vs reference")
    ax.axvline(0.0, color="grey", lw=0.8)
    ax.set_yticks(np.arange(len(names)), names, fontsize=7)
    ax.set_xlabel("standardized mean difference (95% bootstrap interval)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7)
    return save_figure(fig, path)
