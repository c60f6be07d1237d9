"""Skin anatomy: presets for every region, the data they come from, and ageing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from needlesim.anatomy import Layer, anatomy_data, skin_profile
from needlesim.config import Region, Sex, SkinOverride


@pytest.mark.parametrize("region", list(Region))
@pytest.mark.parametrize("sex", list(Sex))
def test_every_region_has_a_sourced_preset(region: Region, sex: Sex) -> None:
    skin = skin_profile(region, sex, 40)
    assert all(t > 0 for t in skin.thickness_um)
    assert set(skin.sources) == {layer.name for layer in Layer}
    assert all(text for text in skin.sources.values())
    # Plausible human skin: dermis 0.4-2.5 mm, viable epidermis 30-150 um.
    assert 400 < skin.dermis_um < 2500
    assert 30 < skin.thickness_um[Layer.viable_epidermis] < 150


def test_cheek_dermis_is_the_ultrasound_value() -> None:
    data = anatomy_data()["ultrasound_face_meng_2022"]["sites"]["zygoma_cheek"]["dermis"]
    for sex, mm in zip((Sex.male, Sex.female), data, strict=True):
        assert skin_profile("cheek", sex, 40).dermis_um == pytest.approx(1000 * mm)


def test_men_have_thicker_dermis_on_the_forehead() -> None:
    assert skin_profile("forehead", "male").dermis_um > skin_profile("forehead", "female").dermis_um


def test_eyelid_thinnest_back_thickest() -> None:
    dermis = {r: skin_profile(r, "female", 40).dermis_um for r in Region}
    assert min(dermis, key=dermis.__getitem__) == Region.periorbital
    assert max(dermis, key=dermis.__getitem__) == Region.back


def test_papillary_dermis_is_a_fifth_of_the_dermis() -> None:
    skin = skin_profile("neck", "male", 40)
    assert skin.thickness_um[Layer.papillary_dermis] == pytest.approx(0.2 * skin.dermis_um)


def test_ageing_follows_the_published_rate_per_decade() -> None:
    young, old = skin_profile("cheek", "male", 30), skin_profile("cheek", "male", 70)
    decades = 4
    epi = old.thickness_um[Layer.viable_epidermis] / young.thickness_um[Layer.viable_epidermis]
    assert epi == pytest.approx((1 - 0.072) ** decades)
    assert old.dermis_um / young.dermis_um == pytest.approx((1 - 0.06) ** decades)
    assert old.thickness_um[Layer.stratum_corneum] == young.thickness_um[Layer.stratum_corneum]


@given(st.floats(16, 89))
def test_skin_thins_monotonically_with_age(age: float) -> None:
    a, b = skin_profile("cheek", "female", age), skin_profile("cheek", "female", age + 1)
    assert b.dermis_um < a.dermis_um
    assert b.thickness_um[Layer.viable_epidermis] < a.thickness_um[Layer.viable_epidermis]


def test_override_replaces_given_layers_only() -> None:
    skin = skin_profile(
        "cheek", "female", 40, SkinOverride(viable_epidermis_um=30.0, stiffness_relative=0.5)
    )
    preset = skin_profile("cheek", "female", 40)
    assert skin.thickness_um[Layer.viable_epidermis] == 30.0
    assert skin.thickness_um[Layer.reticular_dermis] == preset.thickness_um[Layer.reticular_dermis]
    assert skin.stiffness_relative == 0.5
    assert skin.sources["viable_epidermis"] == "given in the configuration"


def test_layer_lookup() -> None:
    skin = skin_profile("cheek", "female", 40)
    edges = skin.boundaries_um
    assert skin.layer_at(0.0) == Layer.stratum_corneum
    mid = 0.5 * (edges[2] + edges[3])
    assert skin.layer_at(mid) == Layer.papillary_dermis
    assert skin.deepest_layer(0.0) is None
    assert skin.deepest_layer(float(edges[3]) + 1) == Layer.reticular_dermis
    np.testing.assert_allclose(np.diff(edges), skin.thickness_um)
