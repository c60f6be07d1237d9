"""``needlesim cohort`` on the command line (registered on a test app)."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from needlesim.cli import cohort as cohort_cli
from needlesim.scale import read_cohort

TEST_DOUBLE = "needlesim.testing.analytic:analytic_evaluator"
STUDY = "name: cli-cohort\npopulation: {fitzpatrick: [2, 3], n: 30}\nsimulation: {seed: 3}\n"
ARMS = """
name: cli-arms
population: {fitzpatrick: [3]}
arms:
  - {name: three, protocol: {sessions: 3, interval_days: 28}}
  - {name: six, protocol: {sessions: 6, interval_days: 28}}
"""


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """test app"""

    cohort_cli.register(app)
    return app


def test_cohort_on_a_local_cluster_then_rerun(write_yaml, tmp_path) -> None:
    pytest.importorskip("distributed")
    study, out = write_yaml(STUDY), tmp_path / "c"
    args = ["cohort", str(study), "--n", "250", "--out", str(out), "--workers", "1",
            "--batch-size", "100", "--evaluator", TEST_DOUBLE, "--no-plots", "--json"]  # fmt: skip
    first = CliRunner().invoke(_app(), args)
    assert first.exit_code == 0, first.output
    info = json.loads(first.stdout)
    assert info["evaluated"] == [0, 1, 2] and info["skipped"] == [] and info["n"] == 250
    assert read_cohort(out)["patient_id"].nunique() == 250
    again = json.loads(CliRunner().invoke(_app(), args).stdout)
    assert again["evaluated"] == [] and again["skipped"] == [0, 1, 2]
    assert json.loads((out / "summary.json").read_text())["test_double"] is True


def test_cohort_with_arms_prints_effect_sizes(write_yaml, tmp_path) -> None:
    result = CliRunner().invoke(
        _app(),
        ["cohort", str(write_yaml(ARMS)), "--n", "60", "--out", str(tmp_path / "a"),
         "--scheduler", "inline", "--evaluator", TEST_DOUBLE, "--no-plots"],
        env={"COLUMNS": "200"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "effect sizes vs three" in result.stdout and "TEST DOUBLE" in result.stdout
    assert (tmp_path / "a" / "comparison.json").is_file()


def test_cohort_bad_input_exits_2(write_yaml, tmp_path) -> None:
    study = str(write_yaml(STUDY))
    cases = {
        "--batch-size": ["--batch-size", "0"],
        "--n": ["--n", "0"],
        "--evaluator": ["--evaluator", "nowhere:fn"],
        "--workers": ["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"],
    }
    for option, extra in cases.items():
        args = ["cohort", study, "--out", str(tmp_path / option), "--scheduler", "inline"]
        if option == "--workers":
            args = ["cohort", study, "--out", str(tmp_path / "w")]
        extra = extra if option == "--evaluator" else [*extra, "--evaluator", TEST_DOUBLE]
        result = CliRunner().invoke(_app(), [*args, *extra])
        assert result.exit_code == 2, (option, result.output)
        assert option in result.stderr and "Traceback" not in result.output
    missing = CliRunner().invoke(_app(), ["cohort", str(tmp_path / "none.yaml")])
    assert missing.exit_code == 2 and "file not found" in missing.stderr
    bad_key = CliRunner().invoke(
        _app(), ["cohort", str(write_yaml("name: x\narmz: []\n", "b.yaml"))]
    )
    assert bad_key.exit_code == 2 and "armz" in bad_key.stderr
