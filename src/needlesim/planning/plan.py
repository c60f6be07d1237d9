"""The treatment planner: screen the patient, search protocols, and explain the choice."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import __version__
from ..config import Patient
from ..scale.evaluator import BatchEvaluator, evaluator_name, is_test_double, resolve_evaluator
from .aftercare import aftercare
from .downtime import downtime_source
from .regions import DepthLimit, depth_limit
from .screening import Screening, screen
from .search import (
    BAND_COLUMNS,
    N_VIRTUAL,
    Limits,
    Prediction,
    SearchGrid,
    Selection,
    limits_for,
    search,
)
from .targets import INDICATION_TARGETS, Target

DISCLAIMER = (
    "In-silico decision support from a simulation model, for clinicians and educators; "
    "not a substitute for clinical judgement. Predictions are means and 95% intervals over "
    "virtual patients of this profile."
)
TEST_DOUBLE_NOTE = (
    "These numbers come from a TEST DOUBLE (an evaluator that declares is_model_result = False, "
    "such as needlesim.testing.analytic), not from the healing model: they are invented and "
    "only exercise the planner."
)


@dataclass(frozen=True)
class TreatmentPlan:
    """Everything the planner decided, ready for the terminal, JSON and HTML."""

    patient: Patient
    history: tuple[str, ...]
    screening: Screening
    target: Target
    depth: DepthLimit
    override_depth: bool
    limits: Limits | None
    selection: Selection | None
    rationale: tuple[str, ...]
    evaluator: str
    test_double: bool
    n_virtual: int
    seed: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def refused(self) -> bool:
        return self.screening.refused

    def _plan_dict(self, p: Prediction, why: str) -> dict[str, Any]:
        c = p.candidate
        flags = [p.depth_flag] if p.depth_flag else []
        if self.limits is not None and p.pih_risk is not None:
            if p.pih_risk > self.limits.max_pih_risk + 1e-12:
                flags.append(
                    f"predicted PIH risk above the limit of {self.limits.max_pih_risk:.0%}"
                )
        if p.pih_risk is None:
            flags.append("no PIH prediction from the model")
        items = aftercare(self.patient.fitzpatrick, self.patient.indication, c.interval_days)
        return {
            "protocol": c.to_dict(),
            "predicted": {k: dict(v) for k, v in p.predicted.items()},
            "outcome_day": p.outcome_day,
            "expected_improvement": {
                "observable": self.target.observable.value,
                "better": self.target.better,
                "mean": p.predicted.get(self.target.observable.value, {}).get("mean"),
            },
            "band": {
                "observable": self.target.observable.value,
                "columns": list(BAND_COLUMNS),
                "rows": [list(row) for row in p.band],
            },
            "pih_risk": p.pih_risk,
            "downtime_days": round(p.downtime_days, 2),
            "flags": flags,
            "why": why,
            "aftercare": [a.to_dict() for a in items],
            "warnings": [w.to_dict() for w in self._warnings(c)],
        }

    def _warnings(self, c: Any) -> list[Any]:
        """The shared input warnings (:mod:`needlesim.safety`) for this course."""
        from ..config import RunConfig
        from ..safety import check_run

        return check_run(RunConfig(patient=self.patient, protocol=c.protocol()))

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``refused``, ``reasons``, ``precautions``, ``recommended``,
        ``alternatives`` and the context that explains them."""
        sel = self.selection
        recommended = None
        alternatives: list[dict[str, Any]] = []
        if sel is not None and sel.recommended is not None:
            recommended = self._plan_dict(sel.recommended, sel.recommended_why)
            alternatives = [self._plan_dict(p, why) for p, why in sel.alternatives]
        p = self.patient
        return {
            "needlesim_version": __version__,
            "patient": {
                "age_years": p.age_years,
                "sex": p.sex.value,
                "fitzpatrick": p.fitzpatrick,
                "region": p.region.value,
                "indication": p.indication.value,
                "baseline_severity": p.baseline_severity.value,
            },
            "history": list(self.history),
            "refused": self.refused,
            "reasons": [f.to_dict() for f in self.screening.reasons],
            "precautions": [f.to_dict() for f in self.screening.precautions],
            "objective": {
                "observable": self.target.observable.value,
                "better": self.target.better,
            },
            "depth_limit": {**self.depth.to_dict(), "override": self.override_depth},
            "limits": self.limits.to_dict() if self.limits else None,
            "downtime_source": downtime_source(),
            "recommended": recommended,
            "alternatives": alternatives,
            "rationale": list(self.rationale),
            "candidates": {
                "evaluated": sel.evaluated if sel else 0,
                "within_limits": sel.feasible if sel else 0,
                "excluded": dict(sel.excluded) if sel else {},
            },
            "virtual_patients": self.n_virtual,
            "seed": self.seed,
            "evaluator": self.evaluator,
            "test_double": self.test_double,
            "disclaimer": DISCLAIMER + (" " + TEST_DOUBLE_NOTE if self.test_double else ""),
        }


def _rationale(
    patient: Patient,
    target: Target,
    depth: DepthLimit,
    override: bool,
    limits: Limits,
    selection: Selection,
    n_virtual: int,
) -> list[str]:
    lines = [
        f"Objective: the largest predicted improvement of {target.observable.value} "
        f"({target.better} is better) for {patient.indication.value.replace('_', ' ')}, "
        "at the end of follow-up of each course.",
        f"Region {patient.region.value}: needles up to {depth.max_needle_length_mm:g} mm "
        f"({depth.source}, ver {depth.ver})"
        + ("; override given: longer needles were searched and are flagged." if override else "."),
        *[note[0].upper() + note[1:] + "." for note in limits.notes],
        f"Every candidate course was screened on the expected patient aged "
        f"{patient.age_years:g} ({patient.sex.value}, Fitzpatrick {patient.fitzpatrick}); "
        f"the shortlist was then predicted for {n_virtual} virtual patients of that profile, "
        "and those predictions are shown. Age and type enter the model, so they change the "
        "predicted benefit and PIH risk of each course.",
    ]
    excluded = selection.excluded
    if excluded.get("pih"):
        lines.append(
            f"{excluded['pih']} of {selection.evaluated} candidate courses were excluded on the "
            f"screen because their predicted PIH risk exceeded {limits.max_pih_risk:.0%}."
        )
    if excluded.get("downtime"):
        lines.append(
            f"{excluded['downtime']} candidate courses were excluded for downtime over "
            f"{limits.max_downtime_days:g} days."
        )
    best, rec = selection.best_unconstrained, selection.recommended
    if best is not None and rec is not None and best.candidate != rec.candidate:
        pih = f"{best.pih_risk:.1%}" if best.pih_risk is not None else "unknown"
        lines.append(
            f"The course with the largest predicted improvement regardless of risk "
            f"({best.candidate.label()}) has a predicted PIH risk of {pih}; the recommended "
            f"course trades {best.improvement - rec.improvement:.3g} of predicted improvement "
            f"for lower PIH risk, downtime or fewer sessions ({rec.candidate.label()}, "
            f"downtime {rec.downtime_days:.3g} vs {best.downtime_days:.3g} days)."
        )
    return lines


def plan_treatment(
    patient: Patient,
    history: Sequence[str] = (),
    *,
    evaluator: BatchEvaluator | str | None = None,
    override_depth: bool = False,
    max_pih_risk: float | None = None,
    max_downtime_days: float | None = None,
    tolerance: float | None = None,
    n_virtual: int = N_VIRTUAL,
    seed: int = 0,
    grid: SearchGrid | None = None,
) -> TreatmentPlan:
    """Screen ``patient`` with ``history`` (safety.yaml ids) and, unless refused, plan a course.

    ``override_depth`` allows needles beyond the region's limit (flagged in the
    plan). ``max_pih_risk``, ``max_downtime_days`` and ``tolerance`` replace the
    defaults of :func:`~needlesim.planning.search.limits_for`. The search:
    :func:`~needlesim.planning.search.search`.
    """
    screening = screen(history, patient.fitzpatrick)
    target = INDICATION_TARGETS[patient.indication]
    depth = depth_limit(patient.region)
    common: dict[str, Any] = {
        "patient": patient,
        "history": tuple(dict.fromkeys(history)),
        "screening": screening,
        "target": target,
        "depth": depth,
        "override_depth": override_depth,
        "n_virtual": n_virtual,
        "seed": seed,
    }
    if screening.refused:
        reasons = [f"Refused: {f.text()} (absolute; {f.rule.source})" for f in screening.reasons]
        given = resolve_evaluator(evaluator) if isinstance(evaluator, str) else evaluator
        return TreatmentPlan(
            **common, limits=None, selection=None, rationale=tuple(reasons),
            evaluator="" if given is None else evaluator_name(given),
            test_double=given is not None and is_test_double(given),
        )  # fmt: skip
    fn = resolve_evaluator(evaluator)
    limits = limits_for(
        patient.fitzpatrick,
        max_pih_risk=max_pih_risk,
        max_downtime_days=max_downtime_days,
        tolerance=tolerance,
    )
    candidates = (grid or SearchGrid()).candidates(
        None if override_depth else depth.max_needle_length_mm
    )
    selection = search(
        fn, patient, candidates, target, depth, limits, n_virtual=n_virtual, seed=seed
    )
    rationale = _rationale(patient, target, depth, override_depth, limits, selection, n_virtual)
    return TreatmentPlan(
        **common,
        limits=limits,
        selection=selection,
        rationale=tuple(rationale),
        evaluator=evaluator_name(fn),
        test_double=is_test_double(fn),
    )
