"""The parameter registry: every value with unit, range and source; typed, batched pytrees."""

from __future__ import annotations

import math
import re
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import yaml

from needlesim.biology import (
    PARAMETER_NAMES,
    Parameters,
    check_constraints,
    default_parameters,
    parameter_ranges,
    registry,
)

CALIBRATION = Path(__file__).resolve().parents[2] / "shared" / "data" / "calibration.yaml"
LITERATURE = ("Menon", "Cumming", "Dale", "Segal", "Egberts", "Waugh", "Verzijl")


def test_every_row_has_value_unit_range_and_exactly_one_source() -> None:
    rows = registry()
    assert tuple(r.name for r in rows) == PARAMETER_NAMES
    for r in rows:
        assert r.unit, r.name
        assert r.lo <= r.value <= r.hi, r.name
        assert r.kind in ("source", "fitted", "assumption"), r.name
        assert r.source.startswith(f"{r.kind}: ") and len(r.source) > len(r.kind) + 12, r.name
        assert r.description, r.name


def test_sources_cite_calibration_data_or_named_literature() -> None:
    if not CALIBRATION.exists():
        pytest.skip(f"{CALIBRATION} is not beside this checkout")
    text = CALIBRATION.read_text("utf-8")
    for r in registry():
        if r.kind == "source":
            cited = "calibration.yaml" in r.source or any(a in r.source for a in LITERATURE)
            authors = re.findall(
                r"([A-Z][a-z]+(?:-[A-Z][a-z]+)?) (?:et al\.? )?\(?(?:19|20)\d\d", r.source
            )
            assert cited or any(a in text for a in authors), r.name


def test_collagen_half_life_is_fifteen_years() -> None:
    """Verzijl 2000: skin collagen half-life 15 years -> the rest turnover of type I."""
    p = default_parameters()
    half_life_years = math.log(2.0) / float(p.collagen_I_degradation_rate) / 365.25
    assert half_life_years == pytest.approx(15.0, rel=1e-3)


def test_ageing_slopes_reproduce_the_data() -> None:
    p = default_parameters()
    # Varani: -35 % fibroblasts at 80+ (mean ~85) against 18-29 (mean 23.5)
    assert float(p.fibroblast_ageing_slope) * (85.0 - 23.5) == pytest.approx(-0.35, abs=0.005)
    # collagen score 73.28 (25-34 y) -> 55.3 (65-74 y)
    assert 1.0 + float(p.collagen_ageing_slope) * 40.0 == pytest.approx(55.3 / 73.28, abs=0.005)


def test_registry_yaml_is_the_single_source_of_values() -> None:
    p = default_parameters()
    for r in registry():
        assert float(getattr(p, r.name)) == r.value
        assert getattr(p, r.name).dtype == jnp.float64


def test_replace_from_dict_from_array_round_trip() -> None:
    p = default_parameters()
    q = p.replace(damage_amplification=12.0)
    assert float(q.damage_amplification) == 12.0 and float(p.damage_amplification) != 12.0
    with pytest.raises(KeyError, match="unknown parameter"):
        p.replace(not_a_parameter=1.0)
    names = ["damage_amplification", "fibroblast_turnover_rate"]
    values = np.array([[5.0, 0.004], [6.0, 0.005], [7.0, 0.006]])
    batch = Parameters.from_array(values, names)
    assert batch.batch_shape == (3,)
    np.testing.assert_array_equal(batch.to_array(names), values)
    full = default_parameters().to_array()
    assert full.shape == (len(PARAMETER_NAMES),)
    again = Parameters.from_array(full)
    assert jax.tree.all(jax.tree.map(lambda a, b: bool(a == b), again, p))


def test_batched_parameters_vmap() -> None:
    batch = default_parameters().broadcast((4,))
    out = jax.vmap(lambda q: q.damage_amplification * 2.0)(batch)
    assert out.shape == (4,)


def test_ranges_and_constraints() -> None:
    ranges = parameter_ranges()
    assert ranges.shape == (len(PARAMETER_NAMES), 2) and np.all(ranges[:, 0] <= ranges[:, 1])
    check_constraints(default_parameters())
    with pytest.raises(ValueError, match="myofibroblast"):
        check_constraints(default_parameters().replace(fibroblast_turnover_rate=1e-4))
    with pytest.raises(ValueError, match="share"):
        check_constraints(default_parameters().replace(fgf_resident_share=1.5))


def test_yaml_file_lists_each_parameter_once() -> None:
    path = Path(__file__).resolve().parents[1] / "src" / "needlesim" / "data" / "parameters.yaml"
    names = re.findall(r"^  ([a-z0-9_A-Z]+):$", path.read_text("utf-8"), flags=re.M)
    assert len(names) == len(set(names)) == len(PARAMETER_NAMES)
    assert set(yaml.safe_load(path.read_text("utf-8"))["parameters"]) == set(PARAMETER_NAMES)
