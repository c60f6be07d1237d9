"""The evidence base: every study file of studies/calibration, its sources, and docs/evidence.md."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from needlesim.calibration import load_targets
from needlesim.calibration.targets import packaged_tolerances
from needlesim.config import Statistic, Study, load
from needlesim.outcomes.adjuncts import adjunct_effects
from needlesim.studies import study_files

ROOT = Path(__file__).resolve().parents[1]
STUDIES = ROOT / "studies" / "calibration"
EVIDENCE_DOC = ROOT / "docs" / "evidence.md"


def _shared_calibration() -> Path:
    """../shared/data/calibration.yaml beside the checkout (or $NEEDLESIM_SHARED_DATA)."""
    override = os.environ.get("NEEDLESIM_SHARED_DATA")
    base = Path(override) if override else ROOT.parent / "shared" / "data"
    return base / "calibration.yaml"


CALIBRATION = _shared_calibration()
needs_shared = pytest.mark.skipif(
    not CALIBRATION.exists(), reason="../shared/data/calibration.yaml not beside the checkout"
)


def _studies() -> list[tuple[Path, Study]]:
    return [(p, load(Study, p)) for p in study_files(STUDIES)]


def _key_paths(source: str) -> list[str]:
    """The calibration.yaml key paths a ``source`` names: ``path[ + path]: explanation``."""
    head = source.split(": ", 1)[0]
    return [p.strip() for p in head.split(" + ")]


def _resolve(data: Any, path: str) -> Any:
    node = data
    for part in path.split("."):
        match = re.fullmatch(r"([A-Za-z0-9_]+)(?:\[(\d+)\])?", part)
        assert match, f"bad key path part {part!r} in {path!r}"
        key, index = match.group(1), match.group(2)
        assert isinstance(node, dict) and key in node, f"{path!r}: no key {key!r}"
        node = node[key]
        if index is not None:
            assert isinstance(node, list) and int(index) < len(node), f"{path!r}: no [{index}]"
            node = node[int(index)]
    return node


def test_every_study_file_loads_with_value_n_and_source() -> None:
    studies = _studies()
    assert len(studies) >= 29
    for path, study in studies:
        assert study.citation, path.name
        assert study.name == path.stem, path.name
        for m in study.measurements:
            assert m.value is not None and m.source, (path.name, m.observable)
            n = m.n if m.n is not None else study.population.n
            assert 1 <= n <= study.population.n
            if m.statistic in (Statistic.fraction_at_most, Statistic.fraction_at_least):
                assert m.threshold is not None and 0.0 <= m.value <= 1.0


def test_every_file_states_its_assumptions_in_a_header() -> None:
    for path in study_files(STUDIES):
        head = path.read_text("utf-8").splitlines()[0]
        assert head.startswith("#"), path.name
        assert "calibration.yaml" in path.read_text("utf-8").split("\nname:")[0], path.name


def test_studies_of_one_group_share_their_citation() -> None:
    groups: dict[str, set[str]] = {}
    for _, study in _studies():
        if study.group:
            groups.setdefault(study.group, set()).add(str(study.citation))
    assert groups, "the split-face and multi-arm trials carry a group"
    for group, citations in groups.items():
        assert len(citations) == 1, (group, citations)


@needs_shared
def test_every_source_names_a_key_path_of_the_shared_data() -> None:
    data = yaml.safe_load(CALIBRATION.read_text("utf-8"))
    for path, study in _studies():
        for m in study.measurements:
            assert m.source is not None
            for key_path in _key_paths(m.source):
                _resolve(data, key_path)  # asserts with the file in the message
            assert path.name


@needs_shared
def test_every_adjunct_effect_cites_the_shared_data() -> None:
    data = yaml.safe_load(CALIBRATION.read_text("utf-8"))
    for effect in adjunct_effects():
        keys = re.findall(r"\b((?:quantitative_outcomes|kinetics)\.[a-z0-9_.]+)", effect.source)
        assert keys, effect
        for key in keys:
            _resolve(data, key.rstrip("."))


def test_evidence_doc_lists_every_study_file() -> None:
    text = EVIDENCE_DOC.read_text("utf-8")
    for path in study_files(STUDIES):
        assert f"`{path.stem}`" in text, path.stem


def test_point_calibration_keeps_its_listed_targets(tmp_path: Path) -> None:
    """The evidence base is larger; the point fit reads exactly the pairs it lists,
    and without ``only_listed`` every measured mean (never a fraction or an SD)."""
    targets = load_targets(STUDIES)
    listed = packaged_tolerances()["targets"]
    assert sorted((t.study.name, t.observable) for t in targets) == sorted(
        (s, o) for s, obs in listed.items() for o in obs
    )
    table = tmp_path / "tolerances.yaml"
    table.write_text(yaml.safe_dump({"rules": packaged_tolerances()["rules"]}), "utf-8")
    every = load_targets(STUDIES, table)
    means = [
        (s.name, m.observable.value, m.value)
        for _, s in _studies()
        for m in s.measurements
        if m.statistic == Statistic.mean
    ]
    assert len(every) == len(means) > len(targets)
    assert sorted((t.study.name, t.observable, t.measured) for t in every) == sorted(means)


def test_instrument_numbers_are_cited_and_ceilings_follow() -> None:
    """Every instrument entry has a source; the suction ratios and stained fractions are <= 1,
    so their largest possible % change is finite (docs/instruments.md)."""
    from needlesim.data import load_table

    table = load_table("instruments.yaml")
    for name, entry in table.items():
        assert isinstance(entry.get("source"), str) and len(entry["source"]) > 40, name
    for ratio in ("R2", "R5", "R7"):
        lo, hi = table["cutometer_face"][ratio]
        assert 0.0 < lo <= hi < 1.0
    r2_low = table["cutometer_face"]["R2"][0]
    assert 100.0 * (1.0 / r2_low - 1.0) == pytest.approx(51.5, abs=0.1)  # docs: at most +52 %
    fraction = table["collagen_stained_area_fraction_normal"]
    assert 100.0 * (1.0 / fraction["papillary"] - 1.0) == pytest.approx(7.1, abs=0.05)
