"""Several protocol arms over one sampled population: the ``arms`` study extension.

A study file with an ``arms`` list instead of a single ``protocol``::

    name: depth-trial
    population: {fitzpatrick: [2, 3], region: cheek, indication: atrophic_acne_scars}
    arms:
      - {name: shallow, protocol: {device: {type: roller, needle_length_mm: 0.5}, sessions: 3}}
      - {name: deep,    protocol: {device: {type: roller, needle_length_mm: 1.5}, sessions: 3}}
    reference: shallow          # optional; default: the first arm
    simulation: {seed: 7}

Every arm is evaluated on the same virtual patients (same demographics, same
per-patient seeds), so arms compare paired, patient by patient.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from ..config import Protocol, StrictModel, Study, read_yaml, validate


class Arm(StrictModel):
    """One arm: a name (letters, digits, ``_ . -``) and its protocol."""

    name: str = Field(
        min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_.-]+$", description="Arm name."
    )
    protocol: Protocol = Field(default_factory=Protocol, description="The arm's course.")


class ArmsStudy(Study):
    """A :class:`~needlesim.config.Study` whose patients receive several protocols."""

    arms: list[Arm] = Field(min_length=2, max_length=20, description="Two or more arms.")
    reference: str | None = Field(
        None, description="Arm the others are compared with (default: the first)."
    )

    @model_validator(mode="after")
    def _arms_consistent(self) -> ArmsStudy:
        names = [arm.name for arm in self.arms]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"arm names must be unique, repeated: {duplicated}")
        if "protocol" in self.model_fields_set:
            raise ValueError("give either 'protocol' or 'arms', not both")
        if self.reference is not None and self.reference not in names:
            raise ValueError(f"reference {self.reference!r} is not an arm; arms: {names}")
        return self

    @property
    def reference_arm(self) -> str:
        return self.reference if self.reference is not None else self.arms[0].name


def study_arms(study: Study) -> list[Arm]:
    """The arms of a study; a plain study is one unnamed arm (name ``""``)."""
    if isinstance(study, ArmsStudy):
        return list(study.arms)
    return [Arm.model_construct(name="", protocol=study.protocol)]


def load_study(path: str | Path) -> Study:
    """Read a study file: an :class:`ArmsStudy` if it has ``arms``, else a plain Study."""
    data = read_yaml(path)
    model: type[Study] = ArmsStudy if "arms" in data else Study
    return validate(model, data, str(path))
