"""``needlesim plan`` on the command line (registered on a test app)."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from needlesim.cli import plan as plan_cli

TEST_DOUBLE = "needlesim.testing.analytic:analytic_evaluator"
BASE = ["plan", "--age", "30", "--sex", "female", "--region", "cheek",
        "--indication", "atrophic_acne_scars", "--n-virtual", "40"]  # fmt: skip


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """test app"""

    plan_cli.register(app)
    return app


def _run(*args: str):
    return CliRunner().invoke(_app(), [*BASE, *args])


def test_plan_json_and_html(tmp_path) -> None:
    result = _run(
        "--fitzpatrick", "5", "--evaluator", TEST_DOUBLE, "--json", "--out", str(tmp_path)
    )
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["refused"] is False and plan["recommended"]["pih_risk"] <= 0.05
    assert {"reasons", "precautions", "alternatives"} <= set(plan)
    assert "TEST DOUBLE" in result.stderr
    html = (tmp_path / "plan.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<style>" in html
    assert "http" not in html and "<link" not in html and "<script" not in html  # self-contained
    assert "Chu S" in html and "practice" in html and "Test double" in html
    assert json.loads((tmp_path / "plan.json").read_text()) == plan


def test_plan_table_output() -> None:
    result = _run("--fitzpatrick", "2", "--evaluator", TEST_DOUBLE)
    assert result.exit_code == 0, result.output
    for text in ("recommended", "alternative 2", "after-care", "why", "TEST DOUBLE"):
        assert text in result.stdout


def test_refusal_exits_0() -> None:
    for history in ("isotretinoin_or_oral_retinoid_within_12_months",
                    "keloid_or_hypertrophic_scar_history"):  # fmt: skip
        result = _run("--fitzpatrick", "3", "--history", history, "--json")
        assert result.exit_code == 0, result.output
        plan = json.loads(result.stdout)
        assert plan["refused"] is True and plan["reasons"][0]["id"] == history
        assert "JAMA Dermatol 2014" in plan["reasons"][0]["source"]


def test_bad_input_exits_2_listing_valid_values() -> None:
    result = _run("--fitzpatrick", "3", "--history", "accutane", "--evaluator", TEST_DOUBLE)
    assert result.exit_code == 2
    assert "--history" in result.stderr and "'accutane'" in result.stderr
    assert "isotretinoin_or_oral_retinoid_within_12_months" in result.stderr
    assert "Traceback" not in result.output
    bad_region = CliRunner().invoke(_app(), [*[a if a != "cheek" else "face" for a in BASE],
                                             "--fitzpatrick", "3"])  # fmt: skip
    assert bad_region.exit_code == 2 and "perioral" in bad_region.stderr
    bad_indication = CliRunner().invoke(
        _app(), [*[a if a != "atrophic_acne_scars" else "acne" for a in BASE], "--fitzpatrick", "3"]
    )
    assert bad_indication.exit_code == 2 and "surgical_scar" in bad_indication.stderr
    for args in (["--fitzpatrick", "7"], ["--fitzpatrick", "3", "--sex", "x"]):
        assert _run(*args).exit_code == 2
    evaluator = _run("--fitzpatrick", "3", "--evaluator", "no_such_module:f")
    assert evaluator.exit_code == 2 and "--evaluator" in evaluator.stderr


def test_without_the_model_the_error_is_clear(monkeypatch) -> None:
    def missing() -> None:
        raise ImportError("No module named 'needlesim.studies'")

    monkeypatch.setattr("needlesim.scale.evaluator.model_evaluator", missing)
    result = _run("--fitzpatrick", "3")
    assert result.exit_code == 1
    assert "evaluate_batch" in result.stderr and "--evaluator" in result.stderr
