"""Parameters of the observation models, from ``data/outcomes.yaml`` (+ fitted overrides).

The entries marked ``calibrate: true`` are refitted by ``needlesim calibrate``,
which writes them to ``data/fitted.yaml``; where that file exists its values
replace those of ``outcomes.yaml`` by default (``from_data(fitted=False)``: the
prior values). :func:`fitted_sources` says which values are fitted, to what.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Any, NamedTuple

import yaml

from ..biology.parameters import fitted_values
from ..config import Severity


@cache
def outcome_data() -> dict[str, Any]:
    """The packaged observation-model table."""
    text = resources.files("needlesim.data").joinpath("outcomes.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


@dataclass(frozen=True)
class OutcomeParameters:
    """Numbers that map model states to reported observables (see ``docs/outcomes.md``)."""

    scar_fill_gain: float
    scar_score_gain: float
    scar_grade_gain: float
    wrinkle_fill_gain: float
    echo_gain: float
    elasticity_exponent: float
    masi_exponent: float
    severity_depth_factor: dict[str, float]
    goodman_baron_grade: dict[str, float]
    lemperle_grade: dict[str, float]
    elasticity_weight_collagen_I: float
    elasticity_weight_tropoelastin: float
    cutometer_r0: float
    stained_area_papillary: float
    stained_area_reticular: float
    oedema_water_per_fold: float
    lesion_depth_log_sd: float
    lesion_visibility_depth: float
    lesion_visibility_blur: float
    goodman_baron_rater_sd: float
    lemperle_rater_sd: float
    fill_smoothing: float
    erythema_flare_threshold: float
    erythema_flare_time_constant_days: float
    erythema_inflammatory_fold: float
    channel_closed_fraction: float
    pih_threshold: float
    pih_log_sd: float

    @classmethod
    def from_data(
        cls, overrides: Mapping[str, Any] | None = None, fitted: bool = True
    ) -> OutcomeParameters:
        """``outcomes.yaml``, then the packaged fitted values (unless ``fitted=False``),
        then ``overrides``."""
        d = outcome_data()
        params = cls(
            scar_fill_gain=float(d["scar_fill_gain"]["value"]),
            scar_score_gain=float(d["scar_score_gain"]["value"]),
            scar_grade_gain=float(d["scar_grade_gain"]["value"]),
            wrinkle_fill_gain=float(d["wrinkle_fill_gain"]["value"]),
            echo_gain=float(d["echo_gain"]["value"]),
            elasticity_exponent=float(d["elasticity_exponent"]["value"]),
            masi_exponent=float(d["masi_exponent"]["value"]),
            severity_depth_factor={
                k: float(v) for k, v in d["severity_depth_factor"]["value"].items()
            },
            goodman_baron_grade={
                k: float(v) for k, v in d["baseline_grade"]["goodman_baron"].items()
            },
            lemperle_grade={k: float(v) for k, v in d["baseline_grade"]["lemperle"].items()},
            elasticity_weight_collagen_I=float(d["elasticity_weights"]["value"]["collagen_I"]),
            elasticity_weight_tropoelastin=float(d["elasticity_weights"]["value"]["tropoelastin"]),
            cutometer_r0=float(d["cutometer_r0"]["value"]),
            stained_area_papillary=float(d["stained_area_fraction"]["value"]["papillary"]),
            stained_area_reticular=float(d["stained_area_fraction"]["value"]["reticular"]),
            oedema_water_per_fold=float(d["oedema_water_per_fold"]["value"]),
            lesion_depth_log_sd=float(d["lesion_depth_log_sd"]["value"]),
            lesion_visibility_depth=float(d["lesion_visibility_depth"]["value"]),
            lesion_visibility_blur=float(d["lesion_visibility_blur"]["value"]),
            goodman_baron_rater_sd=float(d["goodman_baron_rater_sd"]["value"]),
            lemperle_rater_sd=float(d["lemperle_rater_sd"]["value"]),
            fill_smoothing=float(d["fill_smoothing"]["value"]),
            erythema_flare_threshold=float(d["erythema_flare_threshold"]["value"]),
            erythema_flare_time_constant_days=float(
                d["erythema_flare_time_constant_days"]["value"]
            ),
            erythema_inflammatory_fold=float(d["erythema_inflammatory_fold"]["value"]),
            channel_closed_fraction=float(d["channel_closed_fraction"]["value"]),
            pih_threshold=float(d["pih_threshold"]["value"]),
            pih_log_sd=float(d["pih_log_sd"]["value"]),
        )
        calibrated: dict[str, Any] = {k: v for k, (v, _) in fitted_values("observation").items()}
        unknown = sorted(set(calibrated) - {name for name, _, _ in calibratable()})
        if unknown:
            raise ValueError(f"fitted.yaml: {unknown} are not calibratable observation parameters")
        if fitted and calibrated:
            params = replace(params, **calibrated)
        return replace(params, **(overrides or {}))

    def depth_factor(self, severity: Severity | str) -> float:
        return self.severity_depth_factor[Severity(severity).value]

    def at(self, severity: Severity | str) -> ObservationParams:
        """The constants for one baseline severity (what the formulas read)."""
        sev = Severity(severity).value
        return ObservationParams(
            scar_fill_gain=self.scar_fill_gain,
            scar_score_gain=self.scar_score_gain,
            scar_grade_gain=self.scar_grade_gain,
            wrinkle_fill_gain=self.wrinkle_fill_gain,
            echo_gain=self.echo_gain,
            elasticity_exponent=self.elasticity_exponent,
            masi_exponent=self.masi_exponent,
            depth_factor=self.depth_factor(sev),
            goodman_baron_grade=self.goodman_baron_grade[sev],
            lemperle_grade=self.lemperle_grade[sev],
            elasticity_weight_collagen_I=self.elasticity_weight_collagen_I,
            elasticity_weight_tropoelastin=self.elasticity_weight_tropoelastin,
            cutometer_r0=self.cutometer_r0,
            stained_area_papillary=self.stained_area_papillary,
            stained_area_reticular=self.stained_area_reticular,
            oedema_water_per_fold=self.oedema_water_per_fold,
            lesion_depth_log_sd=self.lesion_depth_log_sd,
            lesion_visibility_depth=self.lesion_visibility_depth,
            lesion_visibility_blur=self.lesion_visibility_blur,
            goodman_baron_rater_sd=self.goodman_baron_rater_sd,
            lemperle_rater_sd=self.lemperle_rater_sd,
            fill_smoothing=self.fill_smoothing,
            erythema_flare_threshold=self.erythema_flare_threshold,
            erythema_flare_time_constant_days=self.erythema_flare_time_constant_days,
            erythema_inflammatory_fold=self.erythema_inflammatory_fold,
            channel_closed_fraction=self.channel_closed_fraction,
            pih_threshold=self.pih_threshold,
            pih_log_sd=self.pih_log_sd,
        )


class ObservationParams(NamedTuple):
    """:class:`OutcomeParameters` resolved for one baseline severity: the formulas' input.

    Same names; the severity-dependent entries become ``depth_factor``
    (``f_sev``), ``goodman_baron_grade`` and ``lemperle_grade`` (``G_0``). The
    values are floats (NumPy path) or JAX scalars (a pytree: calibration traces
    and differentiates them, one compiled map for every severity).
    """

    scar_fill_gain: Any
    scar_score_gain: Any
    scar_grade_gain: Any
    wrinkle_fill_gain: Any
    echo_gain: Any
    elasticity_exponent: Any
    masi_exponent: Any
    depth_factor: Any
    goodman_baron_grade: Any
    lemperle_grade: Any
    elasticity_weight_collagen_I: Any
    elasticity_weight_tropoelastin: Any
    cutometer_r0: Any
    stained_area_papillary: Any
    stained_area_reticular: Any
    oedema_water_per_fold: Any
    lesion_depth_log_sd: Any
    lesion_visibility_depth: Any
    lesion_visibility_blur: Any
    goodman_baron_rater_sd: Any
    lemperle_rater_sd: Any
    fill_smoothing: Any
    erythema_flare_threshold: Any
    erythema_flare_time_constant_days: Any
    erythema_inflammatory_fold: Any
    channel_closed_fraction: Any
    pih_threshold: Any
    pih_log_sd: Any


def calibratable() -> list[tuple[str, float, float]]:
    """``(name, lo, hi)`` of every observation parameter that calibration may refit."""
    return [
        (name, float(entry["range"][0]), float(entry["range"][1]))
        for name, entry in outcome_data().items()
        if isinstance(entry, dict) and entry.get("calibrate")
    ]


def fitted_sources() -> dict[str, str]:
    """``{name: provenance}`` of the observation parameters taken from ``data/fitted.yaml``."""
    return {k: f"fitted: {text}" for k, (_, text) in fitted_values("observation").items()}
