"""The Bayesian calibration's outputs: ``fitted.yaml`` + ``posterior.npz``, the report
(``calibration.json``, ``prior_posterior.png``) and the printed tables."""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml
from rich.console import Console
from rich.table import Table

from ... import __version__
from .model import Posterior
from .scales import natural, tolerance
from .spec import Spec

if TYPE_CHECKING:
    from .run import BayesCalibration

POSTERIOR_FILE = "posterior.npz"
"""The posterior draws, next to the fitted set (the packaged copy is what predictions use)."""

HEADER = """\
# The calibrated parameter set of needlesim, written by `needlesim calibrate`
# (Bayesian: NUTS on an emulator of the model; docs/calibration.md). Do not
# edit by hand. `value` is the posterior median; the draws are in posterior.npz
# next to this file. Where packaged (needlesim/data/fitted.yaml) the values
# replace those of parameters.yaml (kind: kinetic) and outcomes.yaml
# (kind: observation).
"""


def save_posterior(path: str | Path, spec: Spec, posterior: Posterior) -> None:
    """``names``, ``u`` (``ln theta`` draws), ``instruments``, ``tau`` draws, ``tau_scale``."""
    np.savez(
        path,
        names=np.asarray(posterior.names),
        u=posterior.u,
        instruments=np.asarray(spec.instruments and list(spec.instruments)),
        tau=_all_tau(spec, posterior),
    )


def _all_tau(spec: Spec, posterior: Posterior) -> np.ndarray:
    """Draws of every declared instrument's tau (prior draws for those without data)."""
    cols = [posterior.tau_of(k, inst.tau_scale) for k, inst in spec.instruments.items()]
    return np.stack(cols, axis=1)


def _informed_by(done: BayesCalibration, name: str) -> list[str]:
    f = next(f for f in done.spec.free if f.name == name)
    studies = [
        d.study.name for d in done.data if f.kind == "kinetic" or d.instrument == f.instrument
    ]
    return sorted(set(studies))


def write_fitted(
    done: BayesCalibration, out: str | Path, studies: str | Path, record: bool = True
) -> dict[str, Any]:
    """Write ``out`` (atomically) and ``posterior.npz`` beside it; return the document.

    ``record``: run the real model at the posterior median (each study's design cohort)
    for the targets' ``after`` (else ``null``)."""
    from .simulate import ModelOutputs

    med = np.array([p.median for p in done.parameters])
    full = ModelOutputs(done.data, done.spec, done.n_patients)(med) if record else None

    k = len(done.data)
    targets = []
    for i, (d, pred) in enumerate(zip(done.data, done.predictions, strict=True)):
        after = None if full is None else float(natural(d, full[i], full[k + i]))
        targets.append(
            {
                "study": d.study.name,
                "file": str(d.file),
                "group": d.group,
                "observable": d.observable,
                "instrument": d.instrument,
                "day": d.day,
                "statistic": d.statistic,
                "measured": d.value,
                "n": d.n,
                "after": after,
                "mean": pred.mean,
                "mean_p2_5": pred.lo,
                "mean_p97_5": pred.hi,
                "within_tolerance": bool(
                    pred.lo <= d.value <= pred.hi
                    or abs(d.value - pred.mean) <= 0.35 * abs(pred.mean)
                ),
                "tolerance": tolerance(d),
            }
        )
    params: dict[str, Any] = {}
    for j, p in enumerate(done.parameters):
        f = done.spec.free[j]
        params[p.name] = {
            "kind": p.kind,
            "unit": p.unit,
            "value": round(p.median, 6),
            "p2_5": round(p.p2_5, 6),
            "p97_5": round(p.p97_5, 6),
            "log_sd": round(float(np.std(done.posterior.u[:, j])), 4),
            "bounds": [f.prior.lo, f.prior.hi],
            "bounds_from": f.reason,
            "prior": "ln theta ~ Normal(ln sqrt(lo hi), ln(hi/lo)/3.92) truncated to the bounds",
            "at_bound": p.at_bound is not None,
            "at_bound_side": p.at_bound,
            "r_hat": round(p.r_hat, 4),
            "ess": round(p.ess, 1),
            "informed_by": _informed_by(done, p.name),
        }
    tau = {}
    for k_name, inst in done.spec.instruments.items():
        draws = done.posterior.tau_of(k_name, inst.tau_scale)
        q = np.percentile(draws, [2.5, 50, 97.5])
        tau[k_name] = {
            "unit": inst.unit,
            "prior_scale": inst.tau_scale,
            "median": round(float(q[1]), 5),
            "p2_5": round(float(q[0]), 5),
            "p97_5": round(float(q[2]), 5),
            "informed": k_name in done.posterior.instruments,
        }
    document = {
        "needlesim_version": __version__,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "studies": str(studies),
        "method": {
            "sampler": "NumPyro NUTS, 2 chains, on a polynomial emulator of the model",
            "draws": int(done.posterior.u.shape[0]),
            "divergences": done.posterior.divergences,
            "design_points": int(done.runs.u_train.shape[0]),
            "holdout_points": int(done.runs.u_test.shape[0]),
            "emulator_degree": done.emulator.degree,
            "seconds": {k: round(v, 1) for k, v in done.seconds.items()},
            "default_cv": done.spec.default_cv,
            "patients_per_study": done.n_patients,
        },
        "posterior_draws": POSTERIOR_FILE,
        "parameters": params,
        "heterogeneity": tau,
        "targets": targets,
    }
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    text = HEADER + yaml.safe_dump(document, sort_keys=False, width=100)
    fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, out)
    save_posterior(out.parent / POSTERIOR_FILE, done.spec, done.posterior)
    return document


def parameter_table(done: BayesCalibration) -> Table:
    table = Table(title="prior vs posterior (median [95 %])")
    for col in ("parameter", "kind", "prior", "posterior", "width ratio", "R-hat", "ESS", "bound"):
        table.add_column(col)
    for p in done.parameters:
        table.add_row(
            p.name,
            p.kind,
            f"{p.prior_median:.4g} [{p.prior_lo:.4g}, {p.prior_hi:.4g}]",
            f"{p.median:.4g} [{p.p2_5:.4g}, {p.p97_5:.4g}]",
            f"{p.shrinkage:.2f}",
            f"{p.r_hat:.3f}",
            f"{p.ess:.0f}",
            p.at_bound or "-",
        )
    return table


def markdown_parameter_table(done: BayesCalibration) -> str:
    lines = [
        "| parameter | kind | prior median [range] | posterior median [95 %] "
        "| width ratio | R-hat | ESS | at bound |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for p in done.parameters:
        lines.append(
            f"| `{p.name}` | {p.kind} | {p.prior_median:.4g} [{p.prior_lo:.4g}, {p.prior_hi:.4g}] "
            f"| {p.median:.4g} [{p.p2_5:.4g}, {p.p97_5:.4g}] | {p.shrinkage:.2f} | {p.r_hat:.3f} "
            f"| {p.ess:.0f} | {p.at_bound or '-'} |"
        )
    return "\n".join(lines)


def print_report(done: BayesCalibration, console: Console) -> None:
    console.print(parameter_table(done))
    table = Table(title="targets: posterior predictive of the study mean")
    for col in ("study", "observable", "measured", "mean", "95 % interval", "emulator rmse/tol"):
        table.add_column(col)
    for d, pred, e in zip(done.data, done.predictions, done.emulator_report, strict=True):
        table.add_row(
            d.study.name,
            d.observable,
            f"{d.value:.4g}",
            f"{pred.mean:.4g}",
            f"[{pred.lo:.4g}, {pred.hi:.4g}]",
            f"{e['rmse_over_tolerance']:.3f}",
        )
    console.print(table)
    console.print(
        f"design {done.seconds['design']:.0f} s, sampling {done.seconds['sampling']:.0f} s, "
        f"divergences {done.posterior.divergences}"
    )


def plot_prior_posterior(done: BayesCalibration, path: Path) -> Path:
    """One panel per free parameter: prior and posterior densities of ln theta."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
    from scipy.stats import gaussian_kde, truncnorm

    n = len(done.spec.free)
    cols = min(3, max(n, 1))
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows), squeeze=False)
    for ax, f, j in zip(axes.flat, done.spec.free, range(n), strict=False):
        lo, hi = np.log(f.prior.lo), np.log(f.prior.hi)
        x = np.linspace(lo, hi, 200)
        a, b = (lo - f.prior.mu) / f.prior.sigma, (hi - f.prior.mu) / f.prior.sigma
        ax.plot(np.exp(x), truncnorm.pdf(x, a, b, f.prior.mu, f.prior.sigma), "k--", label="prior")
        u = done.posterior.u[:, j]
        if np.std(u) > 0:
            ax.plot(np.exp(x), gaussian_kde(u)(x), "C0", label="posterior")
        ax.set_xscale("log")
        # labels at 10^k (1, 2, 5 x 10^k under two decades) in plain numbers: the default
        # also labels the minor ticks of a short range, and they overlap
        decades = np.log10(f.prior.hi / f.prior.lo)
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0,) if decades > 2 else (1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_title(f.name, fontsize=9)
        ax.set_yticks([])
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_report(done: BayesCalibration, folder: str | Path) -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    doc = {
        "parameters": [p.__dict__ for p in done.parameters],
        "heterogeneity": done.document.get("heterogeneity", {}),
        "emulator": {
            "degree": done.emulator.degree,
            "design_points": int(done.runs.u_train.shape[0]),
            "holdout_points": int(done.runs.u_test.shape[0]),
            "errors": done.emulator_report,
        },
        "targets": done.document.get("targets", []),
        "diagnostics": {
            "r_hat": done.posterior.r_hat,
            "ess": done.posterior.ess,
            "divergences": done.posterior.divergences,
        },
        "seconds": done.seconds,
    }
    json_path = folder / "calibration.json"
    json_path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    (folder / "prior_posterior.md").write_text(markdown_parameter_table(done) + "\n", "utf-8")
    png = plot_prior_posterior(done, folder / "prior_posterior.png")
    return [json_path, folder / "prior_posterior.md", png]
