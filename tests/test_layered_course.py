"""Courses of sessions: what histology and clinical studies report.

* Zeitter 2014 (rat, 1 mm, 4 sessions, 10 weeks): collagen I up, collagen III
  down. The interval is not in the abstract; weekly sessions are assumed.
* El-Domyati 2015 (6 sessions two weeks apart, biopsy at 3 months): collagens I
  and III and tropoelastin up, total elastin (with elastotic material) down.
* Aust 2008: collagen up at 6 months, stratum spinosum +40 % at 1 year.
* Four sessions beat one; deeper needles reaching the reticular dermis beat
  0.5 mm; older skin responds less; post-inflammatory hyperpigmentation near
  zero in types I-III at standard depths, rising with type and depth.
"""

from __future__ import annotations

import numpy as np

from test_layered_support import PD, at, change, course, dermal_collagen_change

MONTHLY = (0.0, 30.0, 60.0, 90.0)


def test_zeitter_10_weeks_collagen_I_up_collagen_III_back_down() -> None:
    traj = course((0.0, 7.0, 14.0, 21.0))
    col1, col3 = change(traj, "collagen_I"), change(traj, "collagen_III")
    i = at(traj, 70.0)
    assert col1[i] > 0.03
    assert col3[i] < 0.01
    assert col3[i] < 0.1 * col3.max()


def test_el_domyati_six_sessions_two_weeks_apart_at_three_months() -> None:
    traj = course((0.0, 14.0, 28.0, 42.0, 56.0, 70.0))
    i = at(traj, 90.0)
    assert change(traj, "collagen_I")[i] > 0.03
    assert change(traj, "collagen_III")[i] > 0.0
    assert change(traj, "tropoelastin")[i] > 0.1
    elastin = np.asarray(traj.get("tropoelastin")) + np.asarray(traj.get("elastin_old"))
    rest = np.asarray(traj.baseline)[
        :, [list(traj.species).index(s) for s in ("tropoelastin", "elastin_old")]
    ]
    total_change = elastin[i, PD] / rest[PD].sum() - 1.0
    assert total_change < -0.01


def test_dermal_collagen_stays_raised_for_months_after_the_last_session() -> None:
    # new collagen is kept for months (Aust 2008: considerable increase at 6 months);
    # with fibroblasts back at rest within months the gain settles instead of growing on
    traj = course(MONTHLY)
    gain = dermal_collagen_change(traj)
    last = MONTHLY[-1]
    one, three, six = (gain[at(traj, last + d)] for d in (30.0, 90.0, 180.0))
    assert min(one, three, six) > 0.0
    assert 0.8 * one < three and 0.8 * one < six < 1.5 * one


def test_four_sessions_beat_one() -> None:
    four, one = course(MONTHLY), course((0.0,))
    for day in (180.0, 360.0):
        assert (
            dermal_collagen_change(four)[at(four, day)]
            > 1.5 * dermal_collagen_change(one)[at(one, day)]
        )


def test_deeper_needles_give_more_dermal_collagen() -> None:
    deep, shallow = course(MONTHLY, "1.5"), course(MONTHLY, "0.5")
    i = at(deep, 270.0)
    assert dermal_collagen_change(deep)[i] > 1.5 * dermal_collagen_change(shallow)[i] > 0.0
    # the reticular dermis responds only when reached
    assert change(deep, "collagen_I", 3)[i] > change(shallow, "collagen_I", 3)[i]


def test_older_skin_responds_less() -> None:
    young, old = course(MONTHLY, age=25.0), course(MONTHLY, age=70.0)
    i = at(young, 270.0)
    assert dermal_collagen_change(old)[i] < 0.9 * dermal_collagen_change(young)[i]
    f_young = np.asarray(young.baseline)[PD, list(young.species).index("fibroblasts")]
    f_old = np.asarray(old.baseline)[PD, list(old.species).index("fibroblasts")]
    assert f_old < f_young


def test_epidermis_thickens_and_stays_thicker() -> None:
    traj = course(MONTHLY)
    kera = change(traj, "keratinocytes", 1)
    assert kera[at(traj, 180.0)] > 0.1
    assert 0.0 < kera[at(traj, 360.0)] < 1.0


def _pigment_peak(depth: str, fitzpatrick: float) -> float:
    traj = course((0.0,), depth, fitzpatrick=fitzpatrick)
    return float(np.asarray(traj.get("pigment_response"))[:, 1].max())


def test_pigment_response_grows_with_fitzpatrick_type_and_depth() -> None:
    deep = [_pigment_peak("1.5", f) for f in (1, 2, 3, 4, 5, 6)]
    shallow = [_pigment_peak("0.5", f) for f in (1, 2, 3, 4, 5, 6)]
    assert np.all(np.diff(deep) > 0) and np.all(np.diff(shallow) > 0)
    assert all(d > s for d, s in zip(deep, shallow, strict=True))
    # near zero for types I-II at standard depth, against type VI (Cachafeiro 2016; the
    # half-point of the type susceptibility lies below type III: PIH is of the same
    # order in types III-VI, biology/pigment.py)
    assert deep[0] < 0.01 * deep[-1] and deep[1] < 0.1 * deep[-1]


def test_melanin_follows_the_pigment_response_then_settles_at_the_shedding_balance() -> None:
    """Type VI: melanin first rises with the pigment response (PIH drive); once that has
    gone, the melanocytes' rest output is shed with a thicker epidermis, ``Mel = 1 / E``."""
    traj = course((0.0,), "1.5", fitzpatrick=6.0)
    melanin = change(traj, "melanin", 1)
    epidermis = change(traj, "keratinocytes", 1)
    pigment = np.asarray(traj.get("pigment_response"))[:, 1]
    assert melanin.max() > 0.1
    i = at(traj, 360.0)
    assert pigment[i] < 1e-3 * pigment.max()
    assert epidermis[i] > 0.05  # still thicker a year on (Aust 2008)
    assert epidermis[i] < epidermis[at(traj, 300.0)]  # thinning back towards rest
    # melanin follows 1 / E, which rises as the epidermis thins, with the lag of its ~4-week
    # clearance: just below it
    assert -0.05 < (1.0 + melanin[i]) * (1.0 + epidermis[i]) - 1.0 < 0.0
    assert melanin[i] < 0.0  # lighter than before the course: the direction after needling


def test_needling_without_a_pigment_response_lowers_melanin() -> None:
    """Type I (no pigment response to speak of): melanin only falls, as the epidermis
    renews faster (Al Qarqaz 2018: pigmentation index improved; Lima 2017: lighter skin)."""
    traj = course(MONTHLY[:3], "1.5", fitzpatrick=1.0)
    melanin = change(traj, "melanin", 1)
    assert melanin.max() < 1e-3
    assert melanin[at(traj, 90.0)] < -0.05
