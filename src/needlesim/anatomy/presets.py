"""Regional skin presets by sex and age, built from the packaged anatomy data.

For a region ``r``, sex ``s`` and age ``a`` (years), each layer thickness is

    h(r, s, a) = h_ref(r, s) * (1 + p_layer(s) / 100) ** ((a - a_ref) / 10)

with ``p`` the published change per decade (epidermis -7.2 %/decade in men,
-5.7 % in women; dermis -6 %; Gerontology 1990) and ``a_ref`` the reference age
of the thickness tables. The stratum corneum and hypodermis are not aged.
``h_ref`` comes from ``data/anatomy.yaml``; every layer's provenance is kept in
:attr:`SkinProfile.sources`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..config.enums import Region, Sex
from ..config.patient import Patient, SkinOverride
from ..data import load_table
from .layers import LAYER_NAMES, Layer, SkinProfile

_FACE_SITES_FOR_BODY = "ultrasound_face_meng_2022"


def anatomy_data() -> dict[str, Any]:
    """The packaged anatomy table (``needlesim/data/anatomy.yaml``)."""
    data: dict[str, Any] = load_table("anatomy.yaml")
    return data


def _sex_index(sex: Sex) -> int:
    return 0 if sex == Sex.male else 1


def _site_mean(sites: dict[str, Any], names: str | list[str], key: str, sex: Sex) -> float:
    names = [names] if isinstance(names, str) else names
    return float(np.mean([sites[n][key][_sex_index(sex)] for n in names]))


def _male_to_female_dermis_ratio(data: dict[str, Any]) -> float:
    sites = data[_FACE_SITES_FOR_BODY]["sites"]
    return float(np.mean([s["dermis"][0] / s["dermis"][1] for s in sites.values()]))


def _reference_thickness(region: Region, sex: Sex) -> tuple[list[float], dict[str, str]]:
    """Layer thicknesses (um) at the reference age, with their provenance."""
    data = anatomy_data()
    spec = data["regions"][region.value]
    us = data[_FACE_SITES_FOR_BODY]
    sites = us["sites"]
    sc = data["stratum_corneum_egawa_2007"]
    papillary_fraction = data["papillary_fraction_textbook"]["papillary_fraction_of_dermis"]
    sources: dict[str, str] = {}
    if "dermis_site" in spec:
        dermis = 1000.0 * _site_mean(sites, spec["dermis_site"], "dermis", sex)
        echo = _site_mean(sites, spec["epidermis_site"], "epidermis", sex)
        mean_echo = float(np.mean([s["epidermis"][_sex_index(sex)] for s in sites.values()]))
        lo, hi = data["histology_face_selcuk"]["viable_epidermis_um_range"][sex.value]
        epidermis = 0.5 * (lo + hi) * echo / mean_echo
        stratum = sc["cheek_um"]
        site_text = spec["dermis_site"]
        sources["viable_epidermis"] = (
            f"Selcuk histology midpoint ({sex.value}) x ultrasound echo ratio of {site_text} "
            f"(Meng 2022)"
        )
        sources["dermis"] = f"Meng 2022 ultrasound, {site_text}, {sex.value}"
        sources["stratum_corneum"] = "Egawa 2007, cheek"
    else:
        body = data["histology_body_lee_hwang_2002"]
        if spec["body_dermis"] == "back":
            neutral = float(body["back_dermis_um"])
            how = "Lee & Hwang 2002, back"
        else:
            neutral = float(np.mean(body["relatively_thick_sites_dermis_um"]))
            how = "Lee & Hwang 2002, midpoint of the 'relatively thick' sites (derived)"
        ratio = _male_to_female_dermis_ratio(data)
        dermis = neutral * (2 * ratio / (1 + ratio) if sex == Sex.male else 2 / (1 + ratio))
        epidermis = float(data["epidermis_meta_xu_2017"]["epidermal_thickness_um"])
        stratum = sc["volar_forearm_um"]
        sources["viable_epidermis"] = "Xu 2017 meta-analysis, all sites"
        sources["dermis"] = f"{how}; sex split by the mean facial men/women ratio of Meng 2022"
        sources["stratum_corneum"] = "Egawa 2007, volar forearm (body proxy)"
    if "derived" in spec:
        sources["dermis"] += f"; {spec['derived']}"
    sources["papillary_dermis"] = f"{papillary_fraction:.0%} of {sources['dermis']} (textbook, S)"
    sources["reticular_dermis"] = f"{1 - papillary_fraction:.0%} of {sources.pop('dermis')}"
    sources["hypodermis"] = spec["hypodermis_from"]
    thickness = [
        float(stratum),
        float(epidermis),
        papillary_fraction * dermis,
        (1.0 - papillary_fraction) * dermis,
        float(spec["hypodermis_um"]),
    ]
    return thickness, sources


def ageing_factors(sex: Sex, age_years: float) -> tuple[float, float]:
    """Multipliers of (viable epidermis, dermis) thickness at ``age_years`` vs the reference."""
    ageing = anatomy_data()["ageing_gerontology_1990"]
    decades = (age_years - ageing["reference_age_years"]) / 10.0
    epi = (1.0 + ageing["epidermis_pct_per_decade"][sex.value] / 100.0) ** decades
    derm = (1.0 + ageing["dermis_pct_per_decade"] / 100.0) ** decades
    return float(epi), float(derm)


def skin_profile(
    region: Region | str,
    sex: Sex | str = Sex.female,
    age_years: float = 40.0,
    override: SkinOverride | None = None,
) -> SkinProfile:
    """The layer stack of a region for a given sex and age, optionally overridden."""
    region, sex = Region(region), Sex(sex)
    thickness, sources = _reference_thickness(region, sex)
    epi, derm = ageing_factors(sex, age_years)
    thickness[Layer.viable_epidermis] *= epi
    thickness[Layer.papillary_dermis] *= derm
    thickness[Layer.reticular_dermis] *= derm
    stiffness = 1.0
    if override is not None:
        for i, name in enumerate(LAYER_NAMES):
            value = getattr(override, f"{name}_um")
            if value is not None:
                thickness[i] = float(value)
                sources[name] = "given in the configuration"
        stiffness = override.stiffness_relative
    return SkinProfile(
        thickness_um=(thickness[0], thickness[1], thickness[2], thickness[3], thickness[4]),
        stiffness_relative=stiffness,
        sources=sources,
    )


def skin_for(patient: Patient) -> SkinProfile:
    """The skin of a configured patient."""
    return skin_profile(patient.region, patient.sex, patient.age_years, patient.skin)
