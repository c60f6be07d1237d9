"""Named choices used across the configuration (regions, indications, ...)."""

from __future__ import annotations

from enum import StrEnum


class Region(StrEnum):
    """Treated body region. Anatomy presets exist for every member."""

    forehead = "forehead"
    periorbital = "periorbital"
    cheek = "cheek"
    perioral = "perioral"
    nose = "nose"
    chin = "chin"
    neck = "neck"
    abdomen = "abdomen"
    thigh = "thigh"
    back = "back"


class Indication(StrEnum):
    """What the course is meant to treat; selects the clinical observables."""

    atrophic_acne_scars = "atrophic_acne_scars"
    wrinkles = "wrinkles"
    photoaging = "photoaging"
    striae = "striae"
    melasma = "melasma"
    surgical_scar = "surgical_scar"
    rejuvenation = "rejuvenation"


class Sex(StrEnum):
    female = "female"
    male = "male"


class Severity(StrEnum):
    """Baseline severity of the indication, as a clinician would grade it."""

    mild = "mild"
    moderate = "moderate"
    severe = "severe"


class Fidelity(StrEnum):
    """Model level: one compartment per layer, or a channel-resolved 3D patch."""

    layered = "layered"
    patch = "patch"


class RollPattern(StrEnum):
    """Direction sequence of successive roller or pen passes.

    ``parallel``: every pass in the same direction; ``crosshatch``: alternating
    0 and 90 degrees; ``star``: cycling 0, 45, 90 and 135 degrees.
    """

    parallel = "parallel"
    crosshatch = "crosshatch"
    star = "star"


class NeedleMaterial(StrEnum):
    stainless_steel = "stainless_steel"
    titanium = "titanium"
    gold_plated = "gold_plated"
    silicon = "silicon"


class Observable(StrEnum):
    """Observable names: a public contract (see DESIGN.md, 'Observables').

    Changes are ``(after - baseline) / baseline * 100`` for the same subject;
    grades are ``after - baseline`` (negative = better).
    """

    epidermal_thickness_change_pct = "epidermal_thickness_change_pct"
    dermal_thickness_change_pct = "dermal_thickness_change_pct"
    papillary_collagen_change_pct = "papillary_collagen_change_pct"
    dermal_collagen_change_pct = "dermal_collagen_change_pct"
    collagen_I_change_pct = "collagen_I_change_pct"
    collagen_III_change_pct = "collagen_III_change_pct"
    total_elastin_change_pct = "total_elastin_change_pct"
    tropoelastin_change_pct = "tropoelastin_change_pct"
    elasticity_change_pct = "elasticity_change_pct"
    dermal_density_change_pct = "dermal_density_change_pct"
    scar_depth_change_pct = "scar_depth_change_pct"
    scar_score_change_pct = "scar_score_change_pct"
    scar_grade_change = "scar_grade_change"
    wrinkle_grade_change = "wrinkle_grade_change"
    melasma_index_change_pct = "melasma_index_change_pct"
    pih_incidence = "pih_incidence"
    erythema_duration_days = "erythema_duration_days"
    channel_closure_hours = "channel_closure_hours"


class Statistic(StrEnum):
    """What a measurement's value summarises over the study's patients.

    ``mean``: the mean of the observable; ``fraction_at_most`` /
    ``fraction_at_least``: the share of patients whose observable is
    ``<= threshold`` / ``>= threshold`` (0-1); ``sd``: the between-patient
    standard deviation of the observable.
    """

    mean = "mean"
    fraction_at_most = "fraction_at_most"
    fraction_at_least = "fraction_at_least"
    sd = "sd"


class Adjunct(StrEnum):
    """What a study added to needling (``protocol.adjuncts``).

    Those with a comparison against needling alone in the reference data have
    a documented effect (``needlesim.outcomes.adjuncts``); the others are named
    in the study output as ``not_modelled_adjuncts``.
    """

    vitamin_a_c_topical = "vitamin_a_c_topical"
    vitamin_c_topical = "vitamin_c_topical"
    prp = "prp"
    tranexamic_acid = "tranexamic_acid"
    glycolic_acid_peel = "glycolic_acid_peel"
    tca_cross = "tca_cross"
    triple_combination_cream = "triple_combination_cream"
    photoprotection = "photoprotection"
    dexpanthenol = "dexpanthenol"
    other = "other"
