"""From the device model to the healing response: depth decides how much dermis responds."""

from __future__ import annotations

import numpy as np

from needlesim.anatomy import skin_for
from needlesim.biology import Covariates, SessionInjury, default_parameters, stack_sessions
from needlesim.config import RunConfig, load
from needlesim.device import simulate_device
from needlesim.solve import simulate_layered
from test_layered_support import END_DAY, N_SESSIONS, SAVE_DAYS, one_save_width


def _course(needle_mm: float, examples) -> tuple[np.ndarray, np.ndarray]:
    config = load(RunConfig, examples / "roller-cheek.yaml")
    device = config.protocol.device.model_copy(update={"needle_length_mm": needle_mm})
    config = config.model_copy(
        update={"protocol": config.protocol.model_copy(update={"device": device})}
    )
    summary = simulate_device(config).summary
    injury = SessionInjury.from_summary(summary)
    sessions = stack_sessions([injury] * 3 + [SessionInjury.none()] * (N_SESSIONS - 3))
    days = np.array([0.0, 30.0, 60.0] + [END_DAY] * (N_SESSIONS - 3))
    skin = skin_for(config.patient)
    with one_save_width():  # the compiled solver of the other layered tests
        traj = simulate_layered(
            default_parameters(),
            Covariates.of(np.asarray(skin.thickness_um), config.patient.age_years, 3.0),
            days,
            sessions,
            SAVE_DAYS,
        )
    i = int(np.argmin(np.abs(np.asarray(traj.days) - 240.0)))
    col = list(traj.species).index("collagen_I")
    gain = np.asarray(traj.states)[i, :, col] / np.maximum(np.asarray(traj.baseline)[:, col], 1e-30)
    return np.asarray(summary.injured_fraction_array()), gain


def test_device_injury_drives_a_depth_dependent_dermal_response(examples) -> None:
    v_short, gain_short = _course(0.5, examples)
    v_long, gain_long = _course(1.5, examples)
    assert v_long[3] > v_short[3]  # 1.5 mm reaches the reticular dermis
    assert gain_long[2] > gain_short[2] > 1.0  # papillary collagen I up, more when deeper
    assert gain_long[3] > gain_short[3]
