"""``needlesim plan``: screening, protocol search and after-care for one patient."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from ..config import ConfigError, Indication, Patient, Problem, Region, Severity, Sex
from ..io import check_output_dir, write_json
from ..scale.clitools import EvaluatorOption, err, out, warn_test_double, with_errors
from ..scale.evaluator import ModelUnavailableError
from .plan import plan_treatment
from .report import print_plan, write_html
from .screening import check_history
from .search import N_VIRTUAL


def _choice(option: str, value: str, allowed: list[str], problems: list[Problem]) -> str:
    if value not in allowed:
        problems.append(Problem(option, f"unknown {value!r}; valid: {', '.join(allowed)}"))
    return value


def build_patient(
    age: float,
    sex: str,
    fitzpatrick: int,
    region: str,
    indication: str,
    severity: str,
    history: list[str] | None = None,
) -> Patient:
    """A validated patient from command-line values; a ConfigError names every bad option
    (including unknown ``--history`` ids)."""
    problems: list[Problem] = []
    try:
        check_history(history or [])
    except ConfigError as exc:
        problems += exc.problems
    if not 16.0 <= age <= 90.0:
        problems.append(Problem("--age", f"{age:g} is out of range; allowed: 16 to 90"))
    if not 1 <= fitzpatrick <= 6:
        problems.append(Problem("--fitzpatrick", f"{fitzpatrick} is out of range; allowed: 1 to 6"))
    _choice("--sex", sex, [s.value for s in Sex], problems)
    _choice("--region", region, [r.value for r in Region], problems)
    _choice("--indication", indication, [i.value for i in Indication], problems)
    _choice("--severity", severity, [s.value for s in Severity], problems)
    if problems:
        raise ConfigError(problems)
    return Patient(
        age_years=age,
        sex=Sex(sex),
        fitzpatrick=fitzpatrick,
        region=Region(region),
        indication=Indication(indication),
        baseline_severity=Severity(severity),
    )


def plan(
    age: Annotated[float, typer.Option("--age", help="Age in years (16-90).")],
    sex: Annotated[str, typer.Option("--sex", help="female or male.")],
    fitzpatrick: Annotated[int, typer.Option("--fitzpatrick", help="Fitzpatrick type 1-6.")],
    region: Annotated[str, typer.Option("--region", help="Treated region, e.g. cheek.")],
    indication: Annotated[
        str, typer.Option("--indication", help="What is treated, e.g. atrophic_acne_scars.")
    ],
    severity: Annotated[
        str, typer.Option("--severity", help="mild, moderate or severe.")
    ] = "moderate",
    history: Annotated[
        list[str] | None,
        typer.Option("--history", help="Screening id from safety.yaml (repeat for several)."),
    ] = None,
    override_depth: Annotated[
        bool,
        typer.Option("--override-depth", help="Allow needles beyond the region's limit (flagged)."),
    ] = False,
    max_pih: Annotated[
        float | None,
        typer.Option("--max-pih", min=0.0, max=1.0, help="PIH risk limit (default by type)."),
    ] = None,
    max_downtime: Annotated[
        float | None, typer.Option("--max-downtime", min=0.0, help="Downtime limit in days.")
    ] = None,
    n_virtual: Annotated[
        int, typer.Option("--n-virtual", min=2, help="Virtual patients per candidate course.")
    ] = N_VIRTUAL,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the virtual cohort.")] = 0,
    evaluator: EvaluatorOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object on stdout instead of tables.")
    ] = False,
    out_dir: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write plan.json and plan.html here.")
    ] = None,
) -> None:
    """Plan a microneedling course for one patient: screen, search protocols, explain.

    A refusal (absolute contraindication) is a normal answer: exit 0, refused: true.
    """
    patient = build_patient(age, sex, fitzpatrick, region, indication, severity, history)
    if out_dir is not None:
        check_output_dir(out_dir)
    try:
        result = plan_treatment(
            patient,
            history or [],
            evaluator=evaluator,
            override_depth=override_depth,
            max_pih_risk=max_pih,
            max_downtime_days=max_downtime,
            n_virtual=n_virtual,
            seed=seed,
        )
    except ModelUnavailableError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    data = result.to_dict()
    if data["test_double"]:
        warn_test_double()
    if data["recommended"] is not None:
        for w in data["recommended"]["warnings"]:
            err.print(
                f"[bold yellow]warning:[/] [yellow]{w['field']}: {w['message']}[/]",
                highlight=False,
                soft_wrap=True,
            )
    if out_dir is not None:
        write_json(out_dir / "plan.json", data)
        write_html(data, out_dir / "plan.html")
    if as_json:
        sys.stdout.write(json.dumps(data) + "\n")
        return
    print_plan(data, out)
    if out_dir is not None:
        err.print(f"wrote {out_dir}/plan.json, plan.html")


def register(app: typer.Typer) -> None:
    """Add ``plan`` to a Typer app."""
    app.command("plan")(with_errors(plan))
