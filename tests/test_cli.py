"""The command line: JSON contract, files written, exit codes, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from needlesim.cli import app

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_device_json_contract(examples: Path, tmp_path: Path) -> None:
    result = invoke(
        "device", str(examples / "roller-15-passes.yaml"), "--json", "--out", str(tmp_path)
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    for key in (
        "channel_density_per_cm2",
        "coverage_fraction",
        "effective_depth_um",
        "layers_reached",
        "bleeding_fraction",
    ):
        assert key in data
    # The published figure: ~250 holes/cm2 after 15 rolls (Doddaballapur 2009).
    assert 225 <= data["channel_density_per_cm2"] <= 255
    assert "reticular_dermis" in data["layers_reached"]
    for name in ("device_summary.json", "puncture_map.png", "depth_profile.png"):
        assert (tmp_path / name).stat().st_size > 0
    saved = json.loads((tmp_path / "device_summary.json").read_text())
    assert saved["channel_density_per_cm2"] == data["channel_density_per_cm2"]
    assert len(saved["density_map_per_cm2"]) == 20


def test_same_seed_same_output(examples: Path, tmp_path: Path) -> None:
    args = ("device", str(examples / "roller-cheek.yaml"), "--json", "--out")
    first = json.loads(invoke(*args, str(tmp_path / "a")).stdout)
    second = json.loads(invoke(*args, str(tmp_path / "b")).stdout)
    assert first == {**second, "config": first["config"]}


def test_pen_punctures_per_second(examples: Path, tmp_path: Path) -> None:
    data = json.loads(
        invoke(
            "device", str(examples / "pen-forehead.yaml"), "--json", "--out", str(tmp_path)
        ).stdout
    )
    assert data["punctures_per_second"] == pytest.approx(990.0)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("patient: {age_years: 12}\n", "patient.age_years"),
        ("patient: {region: cheeks}\n", "'cheeks'"),
        ("protocol: {device: {type: roller, speed: 1}}\n", "protocol.device.speed"),
        ("patient: [1, 2\n", "malformed YAML"),
    ],
)
def test_bad_input_exit_2_names_the_field(
    write_yaml, tmp_path: Path, text: str, needle: str
) -> None:
    result = invoke("device", str(write_yaml(text)), "--out", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert needle in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_missing_file_exit_2(tmp_path: Path) -> None:
    result = invoke("device", str(tmp_path / "absent.yaml"))
    assert result.exit_code == 2 and "file not found" in result.stderr


def test_bad_input_keeps_earlier_results(examples: Path, write_yaml, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert invoke("device", str(examples / "roller-cheek.yaml"), "--out", str(out)).exit_code == 0
    before = (out / "device_summary.json").read_bytes()
    bad = write_yaml("patient: {fitzpatrick: 9}\n")
    assert invoke("device", str(bad), "--out", str(out)).exit_code == 2
    assert (out / "device_summary.json").read_bytes() == before


def test_session_out_of_range(examples: Path, tmp_path: Path) -> None:
    result = invoke(
        "device", str(examples / "roller-cheek.yaml"), "--session", "7", "--out", str(tmp_path)
    )
    assert result.exit_code == 2 and "--session" in result.stderr


def test_schema_command(tmp_path: Path) -> None:
    target = tmp_path / "study.schema.json"
    assert invoke("schema", "--kind", "study", "--out", str(target)).exit_code == 0
    schema = json.loads(target.read_text())
    assert "measurements" in schema["properties"]


def test_console_script_exit_code_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("simulation: {seed: -4}\n")
    proc = subprocess.run(
        [sys.executable, "-m", "needlesim", "device", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "simulation.seed" in proc.stderr and "Traceback" not in proc.stderr
