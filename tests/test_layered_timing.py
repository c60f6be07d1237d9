"""One session: the order and timing of the wound response.

Data: growth-factor peaks in porcine wound fluid, bFGF day 1, PDGF-AB day 3,
TGF-beta day 7 (Plast Reconstr Surg 1997); TGF-beta3 up for two weeks after
needling (Aust 2010); channels closed within hours to two days (Gupta 2011:
barrier in 2 h; Kalluri 2011: 12-18 h; 3D models 48 h, Wessollek 2023);
collagen III laid down before collagen I.
"""

from __future__ import annotations

import numpy as np

from test_layered_support import PD, at, change, course, peak_day


def single():
    return course((0.0,))


def test_growth_factor_peaks_in_order_fgf_pdgf_tgf_beta1() -> None:
    traj = single()
    fgf, pdgf, tgf = (peak_day(traj, s) for s in ("fgf_kgf", "pdgf", "tgf_beta1"))
    assert fgf < pdgf < tgf
    assert 0.3 <= fgf <= 2.0, fgf
    assert 2.0 <= pdgf <= 4.5, pdgf
    assert 5.0 <= tgf <= 9.0, tgf


def test_growth_factors_are_raised_at_their_peaks() -> None:
    traj = single()
    for species in ("fgf_kgf", "pdgf", "tgf_beta1", "tgf_beta3", "vegf"):
        assert change(traj, species).max() > 0.2, species


def test_vegf_rises_through_the_first_days() -> None:
    """Nissen 1998: VEGF lowest on day 0 and rising over the first days."""
    vegf = change(single(), "vegf")
    assert vegf[at(single(), 0.0)] == 0.0
    assert vegf[at(single(), 1.0)] < vegf[at(single(), 3.0)]


def test_tgf_beta3_stays_raised_about_two_weeks() -> None:
    traj = single()
    days = np.asarray(traj.days)
    excess = change(traj, "tgf_beta3")
    raised = days[excess > 0.5 * excess.max()]
    duration = raised.max() - raised.min()
    assert 8.0 <= duration <= 21.0, duration
    assert excess[at(traj, 42.0)] < 0.25 * excess.max()


def test_channels_close_within_hours_to_two_days() -> None:
    traj = single()
    days = np.asarray(traj.days)
    for layer, lo_h, hi_h in ((0, 1.0, 8.0), (1, 6.0, 48.0)):
        open_area = np.asarray(traj.get("open_channels"))[:, layer]
        assert open_area[0] > 0.0
        closed = days[np.argmax(open_area < 0.1 * open_area[0])] * 24.0
        assert lo_h <= closed <= hi_h, (layer, closed)


def test_inflammation_precedes_repair_macrophages() -> None:
    traj = single()
    assert peak_day(traj, "neutrophils") < peak_day(traj, "macrophages_inflammatory")
    assert peak_day(traj, "macrophages_inflammatory") < peak_day(traj, "macrophages_repair")
    assert np.asarray(traj.get("neutrophils"))[at(traj, 14.0), PD] < 0.01


def test_collagen_III_rises_before_collagen_I() -> None:
    traj = single()
    col3, col1 = change(traj, "collagen_III"), change(traj, "collagen_I")
    for day in (5.0, 7.0, 10.0):
        i = at(traj, day)
        assert col3[i] > 0.0 and col3[i] > col1[i], day
    assert col1[at(traj, 90.0)] > col1[at(traj, 30.0)] > 0.0
