"""Sobol pipeline checks on functions with known indices, and on the analytic test double."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from needlesim.cli import sensitivity as sensitivity_cli
from needlesim.config import ConfigError, Study
from needlesim.sensitivity import model_sobol, parse_param, sobol_indices, typical_patient
from needlesim.testing.analytic import ANALYTIC_PARAMETERS, analytic_evaluator
from needlesim.testing.sobol_functions import (
    ISHIGAMI_PROBLEM,
    Linear,
    ishigami,
    ishigami_indices,
    linear_indices,
)

TOLERANCE = 0.02
"""Largest allowed |estimate - analytic| at n_base = 4096 (observed errors are < 0.005)."""


def test_ishigami_indices_match_the_analytic_values() -> None:
    s1, st = ishigami_indices()
    assert s1 == pytest.approx([0.3139, 0.4424, 0.0], abs=1e-4)
    assert st == pytest.approx([0.5576, 0.4424, 0.2437], abs=1e-4)
    table = sobol_indices(ISHIGAMI_PROBLEM, ishigami, 4096, seed=1, num_resamples=200)
    assert table.attrs["n_evaluations"] == 4096 * 5
    assert list(table["parameter"]) == ["x1", "x2", "x3"]
    assert np.abs(table["S1"].to_numpy() - s1).max() < TOLERANCE
    assert np.abs(table["ST"].to_numpy() - st).max() < TOLERANCE
    # The analytic values lie within the reported confidence intervals.
    assert (np.abs(table["S1"] - s1) <= table["S1_conf"]).all()
    assert (np.abs(table["ST"] - st) <= table["ST_conf"]).all()
    assert list(table.sort_values("rank")["parameter"]) == ["x1", "x2", "x3"]


def test_failed_points_drop_their_saltelli_groups() -> None:
    """A point that raises (a solver at its step limit) is isolated; its group is dropped."""

    def fragile(x: np.ndarray) -> np.ndarray:
        if np.any((x[:, 0] > 3.0) & (x[:, 1] > 3.0)):  # a corner, about 0.5 % of points
            raise RuntimeError("maximum number of solver steps was reached")
        return ishigami(x)

    s1, st = ishigami_indices()
    table = sobol_indices(ISHIGAMI_PROBLEM, fragile, 4096, seed=1, num_resamples=100,
                          batch_size=512)  # fmt: skip
    failed, used = table.attrs["failed_points"], table.attrs["base_points_used"]
    assert 0 < failed < 0.02 * 4096 * 5
    assert used < 4096 and used >= 4096 - failed
    assert np.abs(table["S1"].to_numpy() - s1).max() < 2 * TOLERANCE
    assert np.abs(table["ST"].to_numpy() - st).max() < 2 * TOLERANCE

    def broken(x: np.ndarray) -> np.ndarray:
        raise ValueError("INTERNAL: callback: The maximum number of solver steps was reached")

    with pytest.raises(RuntimeError, match="every one of 40 points"):
        sobol_indices(ISHIGAMI_PROBLEM, broken, 8, seed=1)

    def buggy(x: np.ndarray) -> np.ndarray:
        raise ValueError("operands could not be broadcast together")

    with pytest.raises(ValueError, match="broadcast"):  # a bug is not a failed solve
        sobol_indices(ISHIGAMI_PROBLEM, buggy, 8, seed=1)


def test_linear_additive_model() -> None:
    coefficients = [1.0, -2.0, 0.5, 0.0]
    ranges = [(0.0, 1.0), (0.0, 2.0), (-3.0, 3.0), (0.0, 1.0)]
    problem = [(f"p{i}", lo, hi) for i, (lo, hi) in enumerate(ranges)]
    expected = linear_indices(coefficients, ranges)
    table = sobol_indices(problem, Linear(coefficients), 2048, seed=3, num_resamples=100)
    assert np.abs(table["S1"].to_numpy() - expected).max() < TOLERANCE
    assert np.abs(table["ST"].to_numpy() - expected).max() < TOLERANCE
    assert table.loc[table["parameter"] == "p3", "ST"].abs().item() < 1e-9
    assert table.loc[table["rank"] == 1, "parameter"].item() == "p1"


def test_several_outputs_and_batching_do_not_change_the_numbers() -> None:
    def two(x: np.ndarray) -> np.ndarray:
        return np.column_stack([ishigami(x), x[:, 0] + 2 * x[:, 2]])

    a = sobol_indices(ISHIGAMI_PROBLEM, two, 256, outputs=["ish", "lin"], batch_size=10_000)
    b = sobol_indices(ISHIGAMI_PROBLEM, two, 256, outputs=["ish", "lin"], batch_size=97)
    assert list(a["output"].unique()) == ["ish", "lin"]
    np.testing.assert_array_equal(a[["S1", "ST"]].to_numpy(), b[["S1", "ST"]].to_numpy())


def test_sobol_on_a_local_dask_cluster_matches_inline() -> None:
    inline = sobol_indices(ISHIGAMI_PROBLEM, ishigami, 512, seed=2, batch_size=500)
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                 dashboard_address=None, silence_logs=logging.ERROR) as lc,
        distributed.Client(lc) as client,
    ):  # fmt: skip
        on_dask = sobol_indices(
            ISHIGAMI_PROBLEM, ishigami, 512, seed=2, batch_size=500, scheduler=client
        )
    np.testing.assert_array_equal(inline[["S1", "ST"]].to_numpy(), on_dask[["S1", "ST"]].to_numpy())


def test_bad_problems_are_refused() -> None:
    with pytest.raises(ValueError, match="power of 2"):
        sobol_indices(ISHIGAMI_PROBLEM, ishigami, 1000)
    with pytest.raises(ValueError, match="unique"):
        sobol_indices([("a", 0, 1), ("a", 0, 2)], ishigami, 64)
    with pytest.raises(ValueError, match="lo < hi"):
        sobol_indices([("a", 1, 0)], ishigami, 64)
    assert parse_param("k:0.5:2").hi == 2.0
    for text in ("k:1", "k:a:b", "k:2:1", ":0:1"):
        with pytest.raises(ConfigError, match="--param"):
            parse_param(text)


def test_model_sobol_through_the_evaluator_interface() -> None:
    study = Study(name="s", population={"fitzpatrick": [2, 4, 5]})
    patient = typical_patient(study)
    assert patient["fitzpatrick"].item() == 4 and len(patient) == 1
    table = model_sobol(
        study, list(ANALYTIC_PARAMETERS), ["dermal_collagen_change_pct", "pih_incidence"], 512,
        analytic_evaluator, num_resamples=100,
    )  # fmt: skip
    top = table[table["rank"] == 1].set_index("output")["parameter"]
    assert top["dermal_collagen_change_pct"] == "collagen_gain_pct"
    assert top["pih_incidence"] in ("pih_depth_slope", "pih_type_slope")
    pih = table[table["output"] == "pih_incidence"].set_index("parameter")
    assert pih.loc["collagen_gain_pct", "ST"] == pytest.approx(0.0, abs=1e-9)


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """test app"""

    sensitivity_cli.register(app)
    return app


def test_sensitivity_command(write_yaml, tmp_path) -> None:
    study = write_yaml("name: sens\npopulation: {fitzpatrick: [3]}\n")
    args = [
        "sensitivity",
        str(study),
        "--observable",
        "dermal_collagen_change_pct",
        "--observable",
        "pih_incidence",
        "--n-base",
        "128",
        "--scheduler",
        "inline",
        "--evaluator",
        "needlesim.testing.analytic:analytic_evaluator",
        "--out",
        str(tmp_path),
    ]
    args += [f"--param={n}:{lo}:{hi}" for n, lo, hi in ANALYTIC_PARAMETERS]  # fmt: skip
    result = CliRunner().invoke(_app(), [*args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["test_double"] is True and len(data["indices"]) == 10
    for name in ("sobol.csv", "sobol.json", "sobol.png"):
        assert (tmp_path / name).is_file()
    table = CliRunner().invoke(_app(), args)
    assert table.exit_code == 0 and "collagen_gain_pct" in table.stdout


def test_sensitivity_bad_input_exits_2(write_yaml, monkeypatch) -> None:
    monkeypatch.setattr("needlesim.sensitivity.problem.registry_ranges", lambda: None)
    study = str(write_yaml("name: sens\n"))
    base = ["sensitivity", study, "--evaluator", "needlesim.testing.analytic:analytic_evaluator"]
    cases = {
        "--observable": [*base, "--observable", "collagen", "--param", "a:0:1"],
        "--n-base": [*base, "--observable", "pih_incidence", "--param", "a:0:1", "--n-base", "100"],
        "--param": [*base, "--observable", "pih_incidence", "--param", "a:1"],
        "--param ": [*base, "--observable", "pih_incidence"],  # no registry, no ranges
    }
    for option, args in cases.items():
        result = CliRunner().invoke(_app(), args)
        assert result.exit_code == 2, (option, result.output)
        assert option.strip() in result.stderr
    unknown = CliRunner().invoke(_app(), cases["--observable"])
    assert "dermal_collagen_change_pct" in unknown.stderr  # lists the valid names


def test_registry_adapters(monkeypatch) -> None:
    import sys
    import types
    from collections import namedtuple

    from needlesim.sensitivity import registry_ranges

    Row = namedtuple("Row", "name value lo hi")
    fake = types.ModuleType("needlesim.biology")
    fake.registry = lambda: (Row("a", 1.0, 0.5, 2.0), Row("fixed", 1.0, 1.0, 1.0))
    monkeypatch.setitem(sys.modules, "needlesim.biology", fake)
    assert [(r.name, r.lo, r.hi) for r in registry_ranges()] == [("a", 0.5, 2.0)]
    other = types.ModuleType("needlesim.biology")
    other.PARAMETERS = {"k": {"range": [0.0, 3.0]}, "m": {"low": 1, "high": 2}}
    monkeypatch.setitem(sys.modules, "needlesim.biology", other)
    assert [r.name for r in registry_ranges()] == ["k", "m"]
    monkeypatch.setitem(sys.modules, "needlesim.biology", types.ModuleType("needlesim.biology"))
    assert registry_ranges() is None
