"""Protocol search: screen a grid of courses, then predict the shortlist on a virtual cohort.

Two stages (:func:`search`), both through the batch evaluator with every course of
the stage solved together (:func:`needlesim.scale.evaluate_protocols`):

1. **Screen.** Every candidate (device x needle length x sessions x interval) on
   the *expected patient* of the profile: the patient's demographics, the mean over
   the dominant individual factor at two Gauss-Hermite nodes, the other factors at
   their mean (:func:`needlesim.studies.evaluate.expected_patient_nodes`): two rows
   per course, solved at a looser tolerance (:data:`SCREEN_OPTIONS`). Selection
   (below) on these predictions gives a shortlist: the recommended course, its two
   alternatives, the course with the largest improvement regardless of risk, and
   the next safest courses near the best
   (:func:`safest_near_best`).
2. **Predict.** The shortlist on ``n_virtual`` virtual copies of the patient (same
   demographics, different per-patient seeds: common random numbers across
   courses); selection again, among the shortlist, on these predictions.

The screen ranks the courses; the cohort gives what is reported. On the
acne-scar grid the expected patient's improvement is within 2 points of the
32-patient mean (a typical patient, every factor at 1, is up to 11 points off:
it saturates sooner) and its PIH risk equals the cohort's (the individual
factors act on the fibroblast response, not on pigment). The screen costs two
solves per course instead of ``n_virtual`` (``benchmarks/bench_plan.py``).

At the last output day of each course (the end of follow-up):

* ``predicted``: mean, p2_5 and p97_5 over the virtual cohort of every observable;
* ``improvement``: the mean of the indication's primary observable, signed so that
  larger is better (:mod:`.targets`);
* ``pih_risk``: the highest cohort mean of ``pih_incidence`` over the output days
  (the expected fraction of such patients with PIH), in [0, 1];
* ``downtime_days``: from the needle length (:mod:`.downtime`);
* ``band``: the primary observable over the output days (:func:`band`).

Selection (:func:`select`): keep the candidates within the limits (region depth
unless overridden, PIH risk, downtime); among those whose improvement is within
``tolerance`` of the best, recommend the one with the lowest PIH risk (then
downtime, then fewer sessions): more risk is not taken for a negligible gain.
Darker skin (types 4-6) gets a lower PIH limit and a wider tolerance.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..config import Patient, Protocol
from ..scale.evaluator import OBSERVABLES, PATIENT_COLUMNS, BatchEvaluator, evaluate_protocols
from ..solve import SolverOptions
from ..studies.population import sample_patients
from .downtime import downtime_days
from .regions import DepthLimit
from .targets import Target

FloatArray = NDArray[np.float64]

PIH_LIMIT_LIGHTER = 0.10
PIH_LIMIT_DARKER = 0.05
TOLERANCE_LIGHTER = 0.05
TOLERANCE_DARKER = 0.10
MAX_DOWNTIME_DAYS = 7.0
SCREEN_OPTIONS = SolverOptions(rtol=1e-3, atol=1e-7, dtmax=2.0)
"""The screen's solver settings: it only ranks, so it solves 100-fold looser than the
default (rtol 1e-5, atol 1e-8, steps of at most 1 day). A course then takes 230-360
steps instead of 830-890 (most of the default's steps are set by its tolerance, not by
its step cap). On the 108-course acne-scar grid (types II and V) the screen's
improvement differs from the default's by at most 1e-4 points, its PIH risk by 1e-6,
the ranking not at all; only the erythema duration, which the screen does not use,
moves by up to 5 % (docs/planning.md). The shortlist, which is reported, is solved at
the default."""
N_VIRTUAL = 32
"""Virtual copies of the patient per shortlisted course. PIH risk is each copy's
probability (a smooth function of the pigment response), so 32 estimate the mean
well; the shortlist of 4-6 courses takes 1-2 s on 2 cores."""


@dataclass(frozen=True)
class Candidate:
    """One course in the search: device, needle length, sessions and interval."""

    device: str
    needle_length_mm: float
    sessions: int
    interval_days: float

    def protocol(self) -> Protocol:
        return Protocol.model_validate(
            {
                "device": {"type": self.device, "needle_length_mm": self.needle_length_mm},
                "sessions": self.sessions,
                "interval_days": self.interval_days,
            }
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "needle_length_mm": self.needle_length_mm,
            "sessions": self.sessions,
            "interval_days": self.interval_days,
        }

    def label(self) -> str:
        return (
            f"{self.device} {self.needle_length_mm:g} mm x {self.sessions} "
            f"every {self.interval_days:g} d"
        )


@dataclass(frozen=True)
class SearchGrid:
    """The candidate courses (defaults span the published ranges: 0.25-2.5 mm needles,
    pen and roller; the review median of 3 sessions 4 weeks apart at 1.5 mm, Harris 2015)."""

    devices: tuple[str, ...] = ("roller", "pen")
    needle_lengths_mm: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5)
    sessions: tuple[int, ...] = (3, 4, 6)
    intervals_days: tuple[float, ...] = (14.0, 28.0, 42.0)

    def candidates(self, max_needle_length_mm: float | None = None) -> list[Candidate]:
        """Every combination, needle lengths up to ``max_needle_length_mm`` (None: all)."""
        lengths = [
            length
            for length in self.needle_lengths_mm
            if max_needle_length_mm is None or length <= max_needle_length_mm + 1e-9
        ]
        return [
            Candidate(d, length, s, i)
            for d in self.devices
            for length in lengths
            for s in self.sessions
            for i in self.intervals_days
        ]


@dataclass(frozen=True)
class Prediction:
    """A candidate with its predicted outcome, risk and downtime."""

    candidate: Candidate
    predicted: Mapping[str, Mapping[str, float]]
    outcome_day: float
    improvement: float
    pih_risk: float | None
    downtime_days: float
    depth_flag: str | None = None
    band: tuple[tuple[float, ...], ...] = ()


def virtual_patients(patient: Patient, n: int, seed: int) -> pd.DataFrame:
    """``n`` copies of ``patient`` (columns of the patient table), each with its own model
    seed: patients ``0 .. n-1`` of :func:`needlesim.studies.population.sample_patients`."""
    return sample_patients(patient, seed, range(n)).loc[:, list(PATIENT_COLUMNS)]


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


BAND_COLUMNS = ("day", "mean", "p2_5", "p97_5", "mean_lo", "mean_hi")
"""Columns of a prediction's band: per output day, the virtual patients' mean and 95 %
range of the primary observable, and the 95 % interval of their mean (mean +- 1.96 SE)."""


def _by_patient_and_day(outcomes: pd.DataFrame, name: str, n_days: int) -> FloatArray:
    """``[patient, day]`` of one observable from a normalised table (sorted by patient, day)."""
    return outcomes[name].to_numpy(dtype=np.float64).reshape(-1, n_days)


def band(outcomes: pd.DataFrame, observable: str) -> tuple[tuple[float, ...], ...]:
    """Rows of :data:`BAND_COLUMNS` for ``observable`` from a normalised table (days without a
    finite value left out)."""
    days = np.unique(outcomes["day"].to_numpy(dtype=np.float64))
    values = _by_patient_and_day(outcomes, observable, days.size)
    rows = []
    for k, day in enumerate(days):
        v = values[:, k][np.isfinite(values[:, k])]
        if v.size == 0:
            continue
        mean = float(v.mean())
        half = 1.96 * float(v.std(ddof=1) / np.sqrt(v.size)) if v.size > 1 else 0.0
        lo, hi = np.quantile(v, [0.025, 0.975])
        rows.append((float(day), mean, float(lo), float(hi), mean - half, mean + half))
    return tuple(rows)


def predict(
    candidate: Candidate, outcomes: pd.DataFrame, target: Target, depth: DepthLimit
) -> Prediction:
    """A candidate's :class:`Prediction` from its normalised outcomes on the virtual cohort."""
    days = np.unique(outcomes["day"].to_numpy(dtype=np.float64))
    final = outcomes[list(OBSERVABLES)].to_numpy(dtype=np.float64)[days.size - 1 :: days.size]
    finite = np.isfinite(final)
    complete = finite.all(axis=0)
    means = final.mean(axis=0)
    quantiles = np.quantile(final, [0.025, 0.975], axis=0)
    predicted: dict[str, dict[str, float]] = {}
    for j, name in enumerate(OBSERVABLES):
        if complete[j]:
            mean, lo, hi = means[j], quantiles[0, j], quantiles[1, j]
        elif finite[:, j].any():  # some patients without a value: over the others
            values = final[finite[:, j], j]
            mean, (lo, hi) = values.mean(), np.quantile(values, [0.025, 0.975])
        else:
            continue
        predicted[name] = {"mean": float(mean), "p2_5": float(lo), "p97_5": float(hi)}
    primary = predicted.get(target.observable.value)
    improvement = target.improvement(primary["mean"]) if primary else float("nan")
    pih_by_day = _by_patient_and_day(outcomes, "pih_incidence", days.size)
    seen = np.isfinite(pih_by_day).any(axis=0)
    pih = float(np.nanmean(pih_by_day[:, seen], axis=0).max()) if seen.any() else math.nan
    return Prediction(
        candidate=candidate,
        predicted=predicted,
        outcome_day=float(days[-1]),
        improvement=improvement,
        pih_risk=_finite(min(max(pih, 0.0), 1.0)) if math.isfinite(pih) else None,
        downtime_days=downtime_days(candidate.needle_length_mm),
        depth_flag=depth.flag(candidate.needle_length_mm),
        band=band(outcomes, target.observable.value),
    )


def predict_all(
    evaluator: BatchEvaluator,
    patients: pd.DataFrame,
    candidates: Sequence[Candidate],
    target: Target,
    depth: DepthLimit,
    *,
    expected: bool = False,
    options: SolverOptions | None = None,
) -> list[Prediction]:
    """Every candidate on ``patients``, all courses in one batched evaluation
    (:func:`needlesim.scale.evaluate_protocols`; ``expected``: the expected patient;
    ``options``: the solver's settings, default :class:`~needlesim.solve.SolverOptions`)."""
    protocols = [c.protocol() for c in candidates]
    tables = evaluate_protocols(evaluator, patients, protocols, expected=expected, options=options)
    return [predict(c, t, target, depth) for c, t in zip(candidates, tables, strict=True)]


@dataclass(frozen=True)
class Limits:
    """Constraints of the search and how near-equivalent plans are separated."""

    max_pih_risk: float
    max_downtime_days: float
    tolerance: float
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "max_pih_risk": self.max_pih_risk,
            "max_downtime_days": self.max_downtime_days,
            "near_equivalence_tolerance": self.tolerance,
            "notes": list(self.notes),
        }


def limits_for(
    fitzpatrick: int,
    *,
    max_pih_risk: float | None = None,
    max_downtime_days: float | None = None,
    tolerance: float | None = None,
) -> Limits:
    """Default limits for a skin type, with any explicit value taking precedence.

    Types 4-6 (darker skin, PIH risk: Chu 2021 asks for conservative depth) get a
    PIH limit of 5 % instead of 10 % and a near-equivalence tolerance of 10 %
    instead of 5 %. These numbers are planner settings, not data.
    """
    darker = fitzpatrick >= 4
    notes: list[str] = []
    if max_pih_risk is None:
        max_pih_risk = PIH_LIMIT_DARKER if darker else PIH_LIMIT_LIGHTER
        if darker:
            notes.append(
                f"Fitzpatrick {fitzpatrick}: darker skin carries a PIH risk and calls for a "
                "conservative depth (Chu 2021), so the predicted PIH risk is limited to "
                f"{PIH_LIMIT_DARKER:.0%} instead of {PIH_LIMIT_LIGHTER:.0%} (planner setting)"
            )
        else:
            notes.append(
                f"Fitzpatrick {fitzpatrick}: predicted PIH risk limited to "
                f"{PIH_LIMIT_LIGHTER:.0%} (planner setting)"
            )
    else:
        notes.append(f"PIH risk limited to {max_pih_risk:.0%} (given)")
    if tolerance is None:
        tolerance = TOLERANCE_DARKER if darker else TOLERANCE_LIGHTER
    notes.append(
        f"among plans within {tolerance:.0%} of the best predicted improvement, the one with "
        "the lowest predicted PIH risk is recommended"
        + (" (wider margin for darker skin: a conservative choice)" if darker else "")
    )
    if max_downtime_days is None:
        max_downtime_days = MAX_DOWNTIME_DAYS
    return Limits(float(max_pih_risk), float(max_downtime_days), float(tolerance), tuple(notes))


@dataclass(frozen=True)
class Selection:
    """The outcome of the search."""

    recommended: Prediction | None
    alternatives: tuple[tuple[Prediction, str], ...]
    recommended_why: str
    feasible: int
    evaluated: int
    excluded: Mapping[str, int] = field(default_factory=dict)
    best_unconstrained: Prediction | None = None


def _violations(p: Prediction, limits: Limits) -> list[str]:
    found = []
    if not math.isfinite(p.improvement):
        found.append("no prediction")
    if p.pih_risk is not None and p.pih_risk > limits.max_pih_risk + 1e-12:
        found.append("pih")
    if p.downtime_days > limits.max_downtime_days + 1e-12:
        found.append("downtime")
    return found


PIH_RESOLUTION = 1e-3
"""PIH risks closer than 0.1 % are ties in the safety ordering (32 virtual patients
cannot tell them apart; the next keys, downtime and sessions, then decide)."""


def _safety_key(p: Prediction) -> tuple[float, float, int, float, float]:
    pih = round((p.pih_risk or 0.0) / PIH_RESOLUTION) * PIH_RESOLUTION
    c = p.candidate
    return (pih, p.downtime_days, c.sessions, c.needle_length_mm, -p.improvement)


def _alternatives(
    recommended: Prediction, feasible: Sequence[Prediction]
) -> list[tuple[Prediction, str]]:
    """Two alternatives within the limits, best predicted improvement first.

    First the best plan of each other device and needle length; when fewer than
    two exist (e.g. only one needle length is within a tight PIH limit), the
    best other schedules (sessions, interval) of the same device and needle.
    """
    ranked = sorted(feasible, key=lambda p: (-p.improvement, _safety_key(p)))
    chosen: list[tuple[Prediction, str]] = []
    used = {(recommended.candidate.device, recommended.candidate.needle_length_mm)}
    for p in ranked:
        key = (p.candidate.device, p.candidate.needle_length_mm)
        if key not in used and len(chosen) < 2:
            used.add(key)
            chosen.append((p, f"best plan within the limits with {p.candidate.device} and "
                              f"{p.candidate.needle_length_mm:g} mm needles"))  # fmt: skip
    taken = {recommended.candidate} | {p.candidate for p, _ in chosen}
    for p in ranked:
        if len(chosen) == 2:
            break
        if p.candidate not in taken:
            taken.add(p.candidate)
            c = p.candidate
            chosen.append((p, f"another schedule within the limits: {c.sessions} sessions "
                              f"every {c.interval_days:g} days"))  # fmt: skip
    return [
        (
            p,
            f"{text} (predicted improvement {p.improvement - recommended.improvement:+.3g} "
            "vs the recommended plan)",
        )
        for p, text in chosen
    ]


def select(predictions: Sequence[Prediction], limits: Limits) -> Selection:
    """Recommend a plan and two alternatives (see the module docstring)."""
    excluded = {"pih": 0, "downtime": 0, "no prediction": 0}
    feasible: list[Prediction] = []
    for p in predictions:
        bad = _violations(p, limits)
        for b in bad:
            excluded[b] += 1
        if not bad:
            feasible.append(p)
    finite = [p for p in predictions if math.isfinite(p.improvement)]
    best_any = max(finite, key=lambda p: p.improvement) if finite else None
    if not feasible:
        fallback = min(finite, key=_safety_key) if finite else None
        return Selection(
            fallback,
            (),
            "no candidate meets the limits: this is the lowest-risk candidate, NOT within them",
            0,
            len(predictions),
            excluded,
            best_any,
        )
    best = max(p.improvement for p in feasible)
    threshold = best - limits.tolerance * abs(best)
    near = [p for p in feasible if p.improvement >= threshold]
    recommended = min(near, key=_safety_key)
    why = (
        "highest predicted improvement within the limits"
        if recommended.improvement >= best
        else f"lowest predicted PIH risk among plans within {limits.tolerance:.0%} of the best "
        "predicted improvement within the limits"
    )
    alternatives = _alternatives(recommended, feasible)
    return Selection(
        recommended, tuple(alternatives), why, len(feasible), len(predictions), excluded, best_any
    )


SHORTLIST_SAFEST = 3
"""Courses of the screen's near-best set that join the shortlist: the safest (the first is
the screen's recommendation; the next ones keep the cohort's choice among the predicted
ones when the cohort moves a course across the tolerance)."""


def safest_near_best(predictions: Sequence[Prediction], limits: Limits) -> list[Prediction]:
    """The :data:`SHORTLIST_SAFEST` lowest-risk courses within the limits whose improvement
    is within the tolerance of the best (ordered as :func:`select` orders near-equivalent
    courses)."""
    feasible = [p for p in predictions if not _violations(p, limits)]
    if not feasible:
        return []
    best = max(p.improvement for p in feasible)
    near = [p for p in feasible if p.improvement >= best - limits.tolerance * abs(best)]
    return sorted(near, key=_safety_key)[:SHORTLIST_SAFEST]


def search(
    evaluator: BatchEvaluator,
    patient: Patient,
    candidates: Sequence[Candidate],
    target: Target,
    depth: DepthLimit,
    limits: Limits,
    *,
    n_virtual: int = N_VIRTUAL,
    seed: int = 0,
) -> Selection:
    """Screen ``candidates`` on the expected patient, predict the shortlist on ``n_virtual``
    virtual patients and select among it (see the module docstring). The counts of the
    result (evaluated, within the limits, excluded) are the screen's."""
    screened = predict_all(
        evaluator, virtual_patients(patient, 1, seed), candidates, target, depth,
        expected=True, options=SCREEN_OPTIONS,
    )  # fmt: skip
    first = select(screened, limits)
    shortlist = list(dict.fromkeys(
        [p.candidate for p in (first.recommended, first.best_unconstrained) if p]
        + [p.candidate for p, _ in first.alternatives]
        + [p.candidate for p in safest_near_best(screened, limits)]
    ))  # fmt: skip
    if not shortlist:
        return first
    cohort = predict_all(
        evaluator, virtual_patients(patient, n_virtual, seed), shortlist, target, depth
    )
    final = select(cohort, limits)
    best = first.best_unconstrained
    best_in_cohort = [p for p in cohort if best is not None and p.candidate == best.candidate]
    return replace(
        final,
        feasible=first.feasible,
        evaluated=first.evaluated,
        excluded=first.excluded,
        best_unconstrained=best_in_cohort[0] if best_in_cohort else None,
    )
