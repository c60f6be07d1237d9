r"""``mean_p2_5``/``mean_p97_5`` of ``study run``: the 95 % interval of the study mean.

For a study of ``n`` patients whose virtual cohort gave the mean ``m`` and the
between-patient SD ``s`` of an observable, the study mean is drawn as

    m + (m_k - m_0) + tau_k z + s / sqrt(n) eps          (continuous)
    Bin(n, sigmoid(logit(m + m_k - m_0) + tau_k z)) / n  (an incidence)

``m_k - m_0``: parameter uncertainty, from :data:`POSTERIOR_RUNS` real-model
runs of a sub-cohort (the study's first :data:`SUB_COHORT` patients) at
posterior draws ``k`` against the same sub-cohort at the posterior median
(common patients, so the difference is the parameters' effect, not sampling);
``tau_k z``: a new study's effect, with the instrument's posterior
heterogeneity ``tau``; the last term: sampling ``n`` patients. Without a
packaged posterior (``needlesim/data/posterior.npz``) only the last term is
left. Each posterior run is replicated :data:`REPLICATES` times.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from ...config import Study
from .output import POSTERIOR_FILE
from .spec import Spec, load_spec

POSTERIOR_RUNS = 8
"""Posterior draws run through the real model per study."""
SUB_COHORT = 8
"""Patients of those runs (the study's first ones)."""
REPLICATES = 500
"""Simulated studies per posterior run."""


@cache
def packaged_posterior() -> dict[str, Any] | None:
    """The packaged posterior draws (``names``, ``u``, ``instruments``, ``tau``), or None."""
    path = resources.files("needlesim.data").joinpath(POSTERIOR_FILE)
    if not path.is_file():
        return None
    with path.open("rb") as fh, np.load(fh) as saved:
        return {k: saved[k] for k in saved.files}


def _posterior_means(
    study: Study, wanted: Sequence[tuple[str, float]], spec: Spec, post: dict[str, Any]
) -> np.ndarray:
    """``[K, M]``: sub-cohort means at :data:`POSTERIOR_RUNS` draws minus at the median."""
    from ...studies import evaluate_batch, patient_table
    from .simulate import model_parameters

    names = [str(n) for n in post["names"]]
    free = spec.subset(names)
    order = [names.index(f.name) for f in free.free]
    u = np.asarray(post["u"])[:, order]
    rng = np.random.default_rng(study.simulation.seed)
    picks = rng.choice(u.shape[0], size=min(POSTERIOR_RUNS, u.shape[0]), replace=False)
    thetas = [np.exp(np.median(u, axis=0))] + [np.exp(u[i]) for i in picks]
    patients = patient_table(study, min(SUB_COHORT, study.population.n))
    days = sorted({d for _, d in wanted})
    observables = {o for o, _ in wanted}
    means = []
    for theta in thetas:
        params, outcome = model_parameters(free, theta)
        table = evaluate_batch(
            patients,
            study.protocol,
            days=days,
            params=params,
            outcome_params=outcome,
            observables=observables,
        )
        means.append([float(table.loc[np.isclose(table["day"], d), o].mean()) for o, d in wanted])
    arr = np.asarray(means)
    return arr[1:] - arr[0]


def mean_intervals(
    study: Study, wanted: Sequence[tuple[str, float]], outcomes: pd.DataFrame
) -> list[tuple[float, float]]:
    """``(mean_p2_5, mean_p97_5)`` of each ``(observable, day)`` of ``wanted`` (see the module);
    ``outcomes``: the study's per-patient table (``run_study``)."""
    post = packaged_posterior()
    spec = load_spec()
    rng = np.random.default_rng(study.simulation.seed + 1)
    deltas = _posterior_means(study, wanted, spec, post) if post is not None else None
    result = []
    for j, (observable, day) in enumerate(wanted):
        values = outcomes.loc[np.isclose(outcomes["day"], day), observable].to_numpy(float)
        n, m, s = values.size, float(np.mean(values)), float(np.std(values))
        d = deltas[:, j] if deltas is not None else np.zeros(1)
        inst = spec.instrument_of(observable)
        if post is not None and inst.name in [str(k) for k in post["instruments"]]:
            tau_draws = np.asarray(post["tau"])[
                :, [str(k) for k in post["instruments"]].index(inst.name)
            ]
            tau = rng.choice(tau_draws, size=(d.size, REPLICATES))
        else:
            tau = np.zeros((d.size, REPLICATES))
        z, eps = rng.standard_normal((2, d.size, REPLICATES))
        if observable == "pih_incidence":
            p = np.clip(m + d[:, None], 1e-6, 1 - 1e-6)
            draws = rng.binomial(n, expit(logit(p) + tau * z)) / n
        else:
            draws = m + d[:, None] + tau * z + s / np.sqrt(n) * eps
        lo, hi = np.percentile(draws, [2.5, 97.5])
        result.append((float(lo), float(hi)))
    return result


def with_posterior_intervals(result: Any) -> Any:
    """A study result (:class:`needlesim.studies.StudyResult`) whose mean predictions carry
    the posterior's interval of the study mean (:func:`mean_intervals`); unchanged when no
    posterior is packaged (the cohort-size interval of :mod:`needlesim.studies.statistics`
    stands)."""
    from dataclasses import replace

    if packaged_posterior() is None:
        return result
    means = [i for i, p in enumerate(result.predictions) if p.statistic == "mean"]
    if not means:
        return result
    wanted = [(result.predictions[i].observable, result.predictions[i].day) for i in means]
    bounds = mean_intervals(result.study, wanted, result.outcomes)
    predictions = list(result.predictions)
    for i, (lo, hi) in zip(means, bounds, strict=True):
        predictions[i] = replace(predictions[i], mean_p2_5=lo, mean_p97_5=hi)
    return replace(result, predictions=predictions)
