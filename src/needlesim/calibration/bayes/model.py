r"""The statistical model and its NUTS sampler (NumPyro), on the emulator.

Parameters: ``u = ln theta`` (prior :class:`~.spec.Prior`), per instrument
``k`` a between-study heterogeneity ``tau_k ~ HalfNormal(tau_scale_k)``, per
(group, instrument) pair a standardised study effect ``z_gk ~ N(0, 1)``:
measurements of one instrument in one group (one trial) share it. With the
emulated centre ``c_i(u)`` and between-patient SD ``s_i(u)`` of datum ``i``
(emulator errors ``e_i``, ``e^s_i`` from held-out design points):

* normal (a continuous mean): ``y_i ~ N(c_i + tau_k z_gk, sqrt(se_i^2 + e_i^2))``,
  ``se_i = sd_i / sqrt(n_i)``;
* binomial (incidence, logit centre): ``y_i n_i ~ Bin(n_i, sigmoid(c_i + tau_k z_gk + e_i w_i))``;
  (fraction, probit centre): ``p_i = Phi(c_i -+ tau_k z_gk / s_i + e_i w_i)`` (a study effect
  shifts the cohort's mean by ``tau_k z_gk``: ``-`` for ``fraction_at_most``);
  ``w_i ~ N(0, 1)``; the log likelihood ``n (y ln p + (1 - y) ln(1 - p))`` is the
  binomial one and also holds for 0 events;
* spread (a reported SD): ``y_i ~ N(s_i, sqrt(y_i^2 / (2 (n_i - 1)) + (s_i e^s_i)^2))``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import ndtr
from numpy.typing import NDArray

from .data import INCIDENCES, Datum
from .emulator import Emulator
from .spec import Spec

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Layout:
    """The data of one fit as arrays: which emulator outputs, families, instruments, pairs."""

    rows: IntArray  # index of each datum among the emulator's data
    y: FloatArray
    n: FloatArray
    se: FloatArray
    kind: IntArray  # 0 normal, 1 incidence (logit), 2 fraction (probit), 3 spread
    sign: FloatArray  # fractions: -1 at_most, +1 at_least
    inst: IntArray  # instrument index of each datum
    pair: IntArray  # (group, instrument) index of each datum
    instruments: tuple[str, ...]
    tau_scale: FloatArray
    n_pairs: int


def kind_of(d: Datum) -> int:
    if d.statistic == "sd":
        return 3
    if d.statistic.startswith("fraction_"):
        return 2
    if d.observable in INCIDENCES:
        return 1
    return 0


def layout(data: Sequence[Datum], spec: Spec) -> Layout:
    """Arrays of all the data (a fit on part of them masks the others: :class:`Sampler`)."""
    instruments = tuple(sorted({d.instrument for d in data}))
    pairs = sorted({(d.group, d.instrument) for d in data})
    return Layout(
        rows=np.arange(len(data), dtype=np.int64),
        y=np.array([d.value for d in data]),
        n=np.array([float(d.n) for d in data]),
        se=np.array([d.standard_error(spec.default_cv) for d in data]),
        kind=np.array([kind_of(d) for d in data], dtype=np.int64),
        sign=np.array([1.0 if d.statistic == "fraction_at_least" else -1.0 for d in data]),
        inst=np.array([instruments.index(d.instrument) for d in data], dtype=np.int64),
        pair=np.array([pairs.index((d.group, d.instrument)) for d in data], dtype=np.int64),
        instruments=instruments,
        tau_scale=np.array([spec.instruments[k].tau_scale for k in instruments]),
        n_pairs=len(pairs),
    )


def log_likelihood(
    c: jax.Array,
    s: jax.Array,
    e: jax.Array,
    e_s: jax.Array,
    delta: jax.Array,
    w: jax.Array,
    lay: Layout,
    mask: jax.Array,
) -> jax.Array:
    """Sum of the log likelihoods of the data with ``mask`` 1 (see the module docstring)."""
    y, n, kind = jnp.asarray(lay.y), jnp.asarray(lay.n), jnp.asarray(lay.kind)
    var = lay.se**2 + e**2
    normal = -0.5 * (y - c - delta) ** 2 / var - 0.5 * jnp.log(2 * jnp.pi * var)
    eta_inc = c + delta + e * w
    eta_frac = c + jnp.asarray(lay.sign) * delta / s + e * w
    p = jnp.where(kind == 1, jax.nn.sigmoid(eta_inc), ndtr(eta_frac))
    p = jnp.clip(p, 1e-12, 1 - 1e-12)
    binom = n * (y * jnp.log(p) + (1 - y) * jnp.log1p(-p))
    var_s = y**2 / (2 * jnp.maximum(n - 1, 1)) + (s * e_s) ** 2 + 1e-12
    spread = -0.5 * (y - s) ** 2 / var_s - 0.5 * jnp.log(2 * jnp.pi * var_s)
    ll = jnp.where(kind == 0, normal, jnp.where(kind == 3, spread, binom))
    return jnp.sum(mask * ll)


def likelihood_of(emulator: Emulator, lay: Layout) -> Callable[..., jax.Array]:
    """The compiled log likelihood ``(u, tau, z, w, mask) -> float`` through the emulator
    (one compiled function: NumPyro's initialisation runs it outside the sampler's jit)."""
    k = lay.y.size
    e = jnp.asarray(emulator.holdout_rmse[:k])
    e_s = jnp.asarray(emulator.holdout_rmse[k:])
    inst, pair = jnp.asarray(lay.inst), jnp.asarray(lay.pair)

    @jax.jit
    def loglik(
        u: jax.Array, tau: jax.Array, z: jax.Array, w: jax.Array, mask: jax.Array
    ) -> jax.Array:
        out = emulator.jax(u)
        c, s = out[:k], jnp.exp(out[k:])
        delta = tau[inst] * z[pair]
        return log_likelihood(c, s, e, e_s, delta, w, lay, mask)

    return loglik


def numpyro_model(
    spec: Spec, lay: Layout, loglik: Callable[..., jax.Array], mask: jax.Array
) -> None:
    """The joint model (NumPyro): priors, study effects, likelihood through the emulator."""
    import numpyro
    import numpyro.distributions as dist

    lo = np.array([np.log(f.prior.lo) for f in spec.free])
    hi = np.array([np.log(f.prior.hi) for f in spec.free])
    mu = np.array([f.prior.mu for f in spec.free])
    sig = np.array([f.prior.sigma for f in spec.free])
    u = numpyro.sample("u", dist.TruncatedNormal(mu, sig, low=lo, high=hi).to_event(1))
    tau = numpyro.sample("tau", dist.HalfNormal(jnp.asarray(lay.tau_scale)).to_event(1))
    z = numpyro.sample("z", dist.Normal(jnp.zeros(lay.n_pairs), 1.0).to_event(1))
    w = numpyro.sample("w", dist.Normal(jnp.zeros(lay.y.size), 1.0).to_event(1))
    numpyro.factor("likelihood", loglik(u, tau, z, w, mask))


@dataclass(frozen=True)
class Posterior:
    """Posterior draws: ``u[S, d]`` (``ln theta``), ``tau[S, K]`` of :attr:`instruments`,
    and the sampler's diagnostics per parameter (``r_hat``, ``ess``), divergences."""

    names: tuple[str, ...]
    u: FloatArray
    instruments: tuple[str, ...]
    tau: FloatArray
    r_hat: dict[str, float]
    ess: dict[str, float]
    divergences: int

    @property
    def theta(self) -> FloatArray:
        return np.exp(self.u)

    def tau_of(self, instrument: str, scale: float) -> FloatArray:
        """Draws of an instrument's tau (from its prior when no datum informed it)."""
        if instrument in self.instruments:
            return self.tau[:, self.instruments.index(instrument)]
        rng = np.random.default_rng(0)
        return np.abs(rng.normal(0.0, scale, self.u.shape[0]))


class Sampler:
    """NUTS on the emulator for one set of data; :meth:`run` fits the data a mask keeps.

    One compiled sampler serves every mask (NumPyro ``jit_model_args``): the
    cross-validation's refits do not recompile.
    """

    def __init__(
        self,
        spec: Spec,
        emulator: Emulator,
        lay: Layout,
        samples: int = 1000,
        warmup: int = 500,
        chains: int = 2,
    ):
        from functools import partial

        from numpyro.infer import MCMC, NUTS, init_to_value

        self.spec, self.lay = spec, lay
        model = partial(numpyro_model, spec, lay, likelihood_of(emulator, lay))
        start = {
            "u": jnp.asarray([f.prior.mu for f in spec.free]),
            "tau": 0.5 * jnp.asarray(lay.tau_scale),
            "z": jnp.zeros(lay.n_pairs),
            "w": jnp.zeros(lay.y.size),
        }
        kernel = NUTS(model, init_strategy=init_to_value(values=start), target_accept_prob=0.9)
        self.mcmc = MCMC(
            kernel,
            num_warmup=warmup,
            num_samples=samples,
            num_chains=chains,
            chain_method="sequential",
            progress_bar=False,
            jit_model_args=True,
        )

    def run(self, mask: FloatArray | None = None, seed: int = 0) -> Posterior:
        """Posterior given the data with ``mask`` 1 (default: all)."""
        from numpyro.diagnostics import summary

        lay = self.lay
        mask = np.ones(lay.y.size) if mask is None else np.asarray(mask, dtype=np.float64)
        self.mcmc.run(jax.random.PRNGKey(seed), jnp.asarray(mask))
        grouped = self.mcmc.get_samples(group_by_chain=True)
        stats = summary({k: np.asarray(grouped[k]) for k in ("u", "tau")}, group_by_chain=True)
        names = tuple(self.spec.names)
        r_hat = {n: float(stats["u"]["r_hat"][j]) for j, n in enumerate(names)}
        ess = {n: float(stats["u"]["n_eff"][j]) for j, n in enumerate(names)}
        for j, k in enumerate(lay.instruments):
            r_hat[f"tau[{k}]"] = float(stats["tau"]["r_hat"][j])
            ess[f"tau[{k}]"] = float(stats["tau"]["n_eff"][j])
        flat = self.mcmc.get_samples()
        div = int(np.sum(np.asarray(self.mcmc.get_extra_fields()["diverging"])))
        return Posterior(
            names, np.asarray(flat["u"]), lay.instruments, np.asarray(flat["tau"]), r_hat, ess, div
        )


def sample(
    spec: Spec,
    emulator: Emulator,
    lay: Layout,
    mask: FloatArray | None = None,
    samples: int = 1000,
    warmup: int = 500,
    chains: int = 2,
    seed: int = 0,
) -> Posterior:
    """NUTS (``chains`` chains run one after another, ``samples`` draws each)."""
    return Sampler(spec, emulator, lay, samples, warmup, chains).run(mask, seed)
