"""The public API (``needlesim.load``, ``simulate``, ...), its laziness and the user folders."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import needlesim
from needlesim.cli import app

SRC = Path(__file__).resolve().parents[1] / "src" / "needlesim"


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter with ``env`` added (no inherited cache settings)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("NEEDLESIM_", "JAX_"))}
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**base, "PYTHONPATH": str(SRC.parent), **env},
        capture_output=True,
        text=True,
        check=True,
    )


def test_simulate_gives_the_observables_of_the_cli_summary(examples: Path, tmp_path: Path) -> None:
    config = examples / "acne-scars.yaml"
    result = CliRunner().invoke(app, ["simulate", str(config), "--out", str(tmp_path / "cli")])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "cli" / "summary.json").read_text())

    course = needlesim.simulate(needlesim.load(config))
    assert course.fidelity == "layered" and course.summary == summary
    observables = course.observables
    assert set(observables.data_vars) == set(summary["observables"])
    for name, entry in summary["observables"].items():
        got = [float(observables[name].sel(day=day)) for day in summary["days"]]
        assert got == entry["values"], name  # exact: the same numbers
        assert observables[name].attrs["units"] == entry["unit"]
    assert observables.attrs["config_hash"] == summary["config_hash"]
    assert {"collagen_I", "layer"} <= set(course.trajectories.variables)

    course.save(tmp_path / "api")
    assert json.loads((tmp_path / "api" / "summary.json").read_text()) == summary


def test_load_sniffs_run_configs_and_studies(examples: Path, write_yaml) -> None:
    assert isinstance(needlesim.load(examples / "acne-scars.yaml"), needlesim.RunConfig)
    study = write_yaml("name: s\npopulation: {n: 12}\n", "study.yaml")
    assert isinstance(needlesim.load(study), needlesim.Study)
    arms = write_yaml(
        "name: a\narms:\n  - {name: x, protocol: {}}\n  - {name: y, protocol: {}}\n", "arms.yaml"
    )
    assert type(needlesim.load(arms)).__name__ == "ArmsStudy"
    with pytest.raises(needlesim.ConfigError, match="population"):
        needlesim.load(write_yaml("name: s\npopulation: {n: -1}\n", "bad.yaml"))


def test_run_study_returns_predictions_and_patients(write_yaml) -> None:
    study = needlesim.load(
        write_yaml(
            "name: s\npopulation: {n: 6, fitzpatrick: [2]}\nmeasurements:\n"
            "  - {observable: dermal_collagen_change_pct, after_last_session_days: 30}\n"
        )
    )
    result = needlesim.run_study(study)
    (prediction,) = result.predictions
    assert prediction["p2_5"] <= prediction["mean"] <= prediction["p97_5"]
    assert result.patients["patient_id"].nunique() == 6
    assert result.to_json()["predictions"] == result.predictions


def test_import_needlesim_does_not_import_jax_and_still_gives_float64() -> None:
    lazy = "import sys, needlesim; print('jax' in sys.modules, 'needlesim.api' in sys.modules)"
    assert _python(lazy, NEEDLESIM_NO_CACHE="1").stdout.split() == ["False", "False"]
    for first in ("import needlesim, jax", "import jax, needlesim"):
        code = f"{first}; import jax.numpy as jnp; print(jnp.ones(2).dtype)"
        assert _python(code, NEEDLESIM_NO_CACHE="1").stdout.strip() == "float64"


def test_version_and_help_do_not_import_the_model() -> None:
    code = (
        "import sys\nfrom typer.testing import CliRunner\nfrom needlesim.cli import app\n"
        "r = CliRunner()\nassert r.invoke(app, ['--version']).stdout.startswith('needlesim ')\n"
        "assert 'simulate' in r.invoke(app, ['--help']).stdout\n"
        "print(sorted(m for m in ('jax', 'pydantic', 'xarray', 'pandas', 'matplotlib')"
        " if m in sys.modules))"
    )
    assert _python(code, NEEDLESIM_NO_CACHE="1").stdout.strip() == "[]"


def test_persistent_cache_folder_and_switch(tmp_path: Path) -> None:
    code = (
        "import needlesim, jax, jax.numpy as jnp\n"
        "jax.jit(lambda x: x * 2.0)(jnp.ones(3)).block_until_ready()\n"
        "print(jax.config.jax_compilation_cache_dir)"
    )
    used = _python(code, NEEDLESIM_CACHE_DIR=str(tmp_path)).stdout.strip()
    assert used == str(tmp_path / "jax")
    assert any((tmp_path / "jax").iterdir())  # the compiled function was written
    off = _python(code, NEEDLESIM_CACHE_DIR=str(tmp_path / "off"), NEEDLESIM_NO_CACHE="1")
    assert off.stdout.strip() == "None" and not (tmp_path / "off").exists()


def test_tests_do_not_use_the_home_cache() -> None:
    from needlesim.io.paths import jax_cache_dir

    assert jax_cache_dir() is None


def test_user_folders_follow_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    from needlesim.io.paths import default_fitted_out, user_cache_dir

    monkeypatch.setenv("NEEDLESIM_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("NEEDLESIM_CACHE_DIR", raising=False)
    assert default_fitted_out() == tmp_path / "d" / "fitted.yaml"
    assert user_cache_dir() == tmp_path / "xdg" / "needlesim"


def test_a_user_fitted_set_is_used_only_when_pointed_to(tmp_path: Path) -> None:
    packaged = yaml.safe_load((SRC / "data" / "fitted.yaml").read_text())
    name, entry = next(
        (k, v) for k, v in packaged["parameters"].items() if v.get("kind") == "kinetic"
    )
    mine = {**packaged, "parameters": {name: {**entry, "value": 2.0 * float(entry["value"])}}}
    path = tmp_path / "fitted.yaml"
    path.write_text(yaml.safe_dump(mine))
    code = (
        "from needlesim.biology import registry\n"
        f"print(next(r.value for r in registry() if r.name == {name!r}))"
    )
    default = float(_python(code, NEEDLESIM_NO_CACHE="1").stdout)
    pointed = float(_python(code, NEEDLESIM_NO_CACHE="1", NEEDLESIM_FITTED=str(path)).stdout)
    assert default == pytest.approx(float(entry["value"]))
    assert pointed == pytest.approx(2.0 * default)


def _imported(path: Path) -> set[str]:
    """Absolute names of the modules ``path`` imports (relative imports resolved)."""
    package = ["needlesim", *path.relative_to(SRC).parts[:-1]]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            found |= {f"{module}.{a.name}" for a in node.names}
    return found


def test_no_package_imports_the_cli() -> None:
    offenders = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if path.relative_to(SRC).parts[0] not in ("cli", "__main__.py")
        and any(m == "needlesim.cli" or m.startswith("needlesim.cli.") for m in _imported(path))
    ]
    assert offenders == []


def test_cli_defaults_match_the_library() -> None:
    from needlesim.cli import cohort, plan
    from needlesim.planning.search import N_VIRTUAL
    from needlesim.scale.cohort import DEFAULT_BATCH_SIZE

    assert cohort.DEFAULT_BATCH_SIZE == DEFAULT_BATCH_SIZE and plan.N_VIRTUAL == N_VIRTUAL


def test_calibrate_never_writes_the_packaged_set(monkeypatch: pytest.MonkeyPatch, tmp_path):
    import needlesim.calibration.bayes.run as bayes_run
    import needlesim.calibration.run as run

    monkeypatch.setenv("NEEDLESIM_DATA_DIR", str(tmp_path))
    seen = {}

    def fake(studies, out, *args, **kwargs):  # the fit itself: test_calibration_bayes
        seen["out"] = out

    monkeypatch.setattr(bayes_run, "calibrate", fake)
    needlesim.calibrate("studies/calibration")
    assert seen["out"] == tmp_path / "fitted.yaml"
    assert seen["out"] != run.packaged_fitted_path()
