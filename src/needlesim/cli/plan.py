"""``needlesim plan``: screening, protocol search and after-care for one patient."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from .common import EvaluatorOption, err, handles_errors, out, print_warnings, warn_test_double

N_VIRTUAL = 32
"""Virtual patients per shortlisted course (:data:`needlesim.planning.search.N_VIRTUAL`)."""


def build_patient(
    age: float,
    sex: str,
    fitzpatrick: int,
    region: str,
    indication: str,
    severity: str,
    history: list[str] | None = None,
) -> Any:
    """A validated patient from command-line values; a ConfigError names every bad option
    (including unknown ``--history`` ids)."""
    from .. import api

    problems: list[Any] = []
    try:
        api.check_history(history or [])
    except api.ConfigError as exc:
        problems += exc.problems
    if not 16.0 <= age <= 90.0:
        problems.append(api.Problem("--age", f"{age:g} is out of range; allowed: 16 to 90"))
    if not 1 <= fitzpatrick <= 6:
        problems.append(
            api.Problem("--fitzpatrick", f"{fitzpatrick} is out of range; allowed: 1 to 6")
        )
    for option, value, enum in (
        ("--sex", sex, api.Sex),
        ("--region", region, api.Region),
        ("--indication", indication, api.Indication),
        ("--severity", severity, api.Severity),
    ):
        allowed = [member.value for member in enum]
        if value not in allowed:
            problems.append(api.Problem(option, f"unknown {value!r}; valid: {', '.join(allowed)}"))
    if problems:
        raise api.ConfigError(problems)
    return api.PatientSpec(
        age_years=age,
        sex=api.Sex(sex),
        fitzpatrick=fitzpatrick,
        region=api.Region(region),
        indication=api.Indication(indication),
        baseline_severity=api.Severity(severity),
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
        int, typer.Option("--n-virtual", min=2, help="Virtual patients per shortlisted course.")
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
    from .. import api

    patient = build_patient(age, sex, fitzpatrick, region, indication, severity, history)
    if out_dir is not None:
        api.check_output_dir(out_dir)
    result = api.plan(
        patient,
        history=history or [],
        evaluator=evaluator,
        override_depth=override_depth,
        max_pih=max_pih,
        max_downtime=max_downtime,
        n_virtual=n_virtual,
        seed=seed,
    )
    data = result.to_json()
    if data["test_double"]:
        warn_test_double()
    if data["recommended"] is not None:
        print_warnings(data["recommended"]["warnings"])
    if out_dir is not None:
        result.save(out_dir)
    if as_json:
        sys.stdout.write(json.dumps(data) + "\n")
        return
    api.print_plan(data, out)
    if out_dir is not None:
        err.print(f"wrote {out_dir}/plan.json, plan.html")


def register(app: typer.Typer) -> None:
    """Add ``plan`` to a Typer app."""
    app.command("plan")(handles_errors(plan))
