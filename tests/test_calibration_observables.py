"""One observables implementation: its NumPy and JAX paths agree (what `validate`,
`study run` and calibration use)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from needlesim.calibration.cohort import pad_cohort
from needlesim.calibration.model import CohortArrays, Setup, solve
from needlesim.config import Observable
from needlesim.config.defaults import with_study_defaults
from needlesim.outcomes import OutcomeParameters, Trajectory, observe
from needlesim.outcomes.observables import episode_duration
from needlesim.studies import evaluate_batch, patient_table
from test_calibration_support import problem


def _on_jax(traj: Trajectory) -> Trajectory:
    return Trajectory(*(jnp.asarray(getattr(traj, f)) for f in traj.__dataclass_fields__))


def test_episode_duration_numpy_and_jax_agree_on_synthetic_signals() -> None:
    t = np.concatenate([[0.0], np.geomspace(0.01, 7.0, 40)])
    rng = np.random.default_rng(3)
    decay = 1.0 + rng.uniform(0.5, 3.0, (6, 1)) * np.exp(-t[None, :] / rng.uniform(0.1, 3, (6, 1)))
    signal = np.vstack([decay, np.full((1, t.size), 5.0), np.ones((1, t.size))])
    threshold = np.full(signal.shape[0], 1.5)
    expected = episode_duration(t, signal, threshold)
    got = episode_duration(jnp.asarray(t), jnp.asarray(signal), jnp.asarray(threshold))
    assert isinstance(got, jax.Array) and isinstance(expected, np.ndarray)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert expected[-2] == pytest.approx(7.0) and expected[-1] == 0.0  # censored, absent


def test_a_window_is_the_same_as_its_days_alone() -> None:
    """Masking a window of the saved days equals cutting the days out (same bits)."""
    t = np.linspace(0.0, 10.0, 41)
    rng = np.random.default_rng(5)
    signal = 1.0 + rng.uniform(0.5, 3.0, (4, 1)) * np.exp(-np.abs(t[None, :] - 4.0))
    threshold = np.full(4, 1.8)
    window = (t >= 3.0) & (t < 8.0)
    cut = episode_duration(t[window], signal[:, window], threshold)
    masked = episode_duration(t, signal, threshold, window)
    assert np.array_equal(cut, masked)
    assert np.all(cut > 0.0) and np.all(cut < 5.0)  # crossed inside the window


def test_observe_numpy_and_jax_agree_on_a_simulated_course() -> None:
    """Every observable on every saved day, for a padded two-session course: the NumPy
    path (simulate, study run) and the traced JAX path (calibration), and padding with
    sessions after the last saved day changes no bit."""
    prob = problem()
    cohort = prob.cohorts[0]  # two sessions, padded to three
    assert cohort.n_sessions < cohort.session_days.size
    arrays = CohortArrays.of(cohort, [cohort.out_days[0]])
    setup = Setup((), (), cohort.factor_names)
    solved = np.asarray(solve(prob.base, jnp.zeros(0), setup, arrays))
    states, rest = solved[:, :-1], solved[:, -1]
    params = OutcomeParameters.from_data(fitted=False).at(cohort.severity)
    traj = Trajectory(
        days=cohort.save_days,
        state=states,
        baseline=rest,
        thickness_um=cohort.thickness_um,
        session_days=cohort.session_days[: cohort.n_sessions],
    )
    expected = observe(traj, params)
    padded = observe(Trajectory(**{**traj.__dict__, "session_days": cohort.session_days}), params)
    jax_params = type(params)(*(jnp.asarray(x) for x in params))
    fields = tuple(_on_jax(traj).__dict__.values())
    got = jax.jit(lambda arrays, q: observe(Trajectory(*arrays), q))(fields, jax_params)
    assert set(got) == set(expected) == {o.value for o in Observable}
    for name, value in expected.items():
        assert isinstance(value, np.ndarray) and isinstance(got[name], jax.Array)
        assert np.array_equal(padded[name], value, equal_nan=True), name
        np.testing.assert_allclose(got[name], value, rtol=1e-12, atol=1e-12, err_msg=name)
    ery = expected[Observable.erythema_duration_days]
    assert ery.max() > 0.1  # the durations are exercised, not all zero
    assert expected[Observable.channel_closure_hours].max() > 1.0


def test_padding_is_inert() -> None:
    prob = problem()
    cohort = prob.cohorts[2]
    wider = pad_cohort(cohort, cohort.weights.size + 2, cohort.session_days.size + 1, 256)
    assert wider.weights[-2:].sum() == 0.0
    assert np.all(wider.session_days[cohort.session_days.size :] > cohort.save_days.max())


def test_calibration_cohort_means_equal_the_study_runner() -> None:
    """The fit evaluates the same cohort and model as `needlesim study run` / `validate`."""
    prob = problem()
    before = prob.predictions(prob.start)
    for target, value in zip(prob.targets, before, strict=True):
        if target.study.name != "scar-score":
            continue
        study = with_study_defaults(target.study)
        table = evaluate_batch(
            patient_table(study),
            study.protocol,
            days=[target.day],
            params=prob.base,
            outcome_params=prob.outcome_base,
        )
        assert value == pytest.approx(table[target.observable].mean(), rel=1e-6, abs=1e-9)
