"""``needlesim device``: needle punctures and the injury they leave."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from .common import ConfigArg, JsonOption, OutOption, default_out, handles_errors, out


def device(
    config: ConfigArg,
    out_dir: OutOption = None,
    as_json: JsonOption = False,
    session: Annotated[
        int, typer.Option("--session", min=0, help="Which session of the protocol (0 = first).")
    ] = 0,
) -> None:
    """Needle punctures and the injury they leave: density, depth, layers reached, bleeding.

    Writes device_summary.json, puncture_map.png and depth_profile.png.
    """
    from .. import api

    run = api.load(config, kind="run")
    folder = api.check_output_dir(out_dir or default_out(config, "-device"))
    result = api.simulate_device(run, session=session, source=str(config))
    summary = {"config": str(config), **result.summary}
    result.save(folder, summary)
    if as_json:
        # The density map stays in the file; stdout gets the scalar summary.
        brief = {k: v for k, v in summary.items() if not k.startswith("density_")}
        sys.stdout.write(json.dumps(brief) + "\n")
        return
    _print_device_summary(summary, result.device, folder)


def _print_device_summary(summary: dict[str, Any], dev: Any, folder: Path) -> None:
    from rich.table import Table

    table = Table(title=f"needlesim device: {dev.type}, {dev.needle_length_mm} mm needles")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    rows: list[tuple[str, str]] = [
        ("punctures in sample", f"{summary['n_punctures']}"),
        ("channel density", f"{summary['channel_density_per_cm2']:.1f} /cm²"),
        ("coverage of the surface", f"{100 * summary['coverage_fraction']:.2f} %"),
        ("penetration depth (mean)", f"{summary['effective_depth_um']:.0f} µm"),
        ("residual channel depth (mean)", f"{summary['channel_depth_um']:.0f} µm"),
        ("channel surface diameter", f"{summary['surface_diameter_um']:.0f} µm"),
        ("layers reached", ", ".join(summary["layers_reached"]) or "none"),
        ("channels with pinpoint bleeding", f"{100 * summary['bleeding_fraction']:.0f} %"),
    ]
    if summary.get("punctures_per_second") is not None:
        rows.append(("punctures per second", f"{summary['punctures_per_second']:.0f}"))
    for layer, frac in summary["injured_volume_fraction"].items():
        rows.append((f"injured volume, {layer.replace('_', ' ')}", f"{100 * frac:.3f} %"))
    for name, value in rows:
        table.add_row(name, value)
    out.print(table)
    out.print(f"wrote {folder}/device_summary.json, puncture_map.png, depth_profile.png")


def register(app: typer.Typer) -> None:
    """Add ``device`` to a Typer app."""
    app.command("device")(handles_errors(device))
