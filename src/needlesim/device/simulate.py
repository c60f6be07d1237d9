"""One session of a configured run: device, skin, punctures and injury summary.

Randomness: session ``i`` of a run with seed ``s`` draws from
``numpy.random.Generator(PCG64(SeedSequence(s, spawn_key=(DEVICE_STREAM, i))))``,
i.e. the ``i``-th child of the device stream of the run's seed. Sessions are
independent of each other, reproducible one by one, and do not overlap with
streams other modules spawn from the same seed under other keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..anatomy import SkinProfile, skin_for
from ..config.device import AnyDevice
from ..config.run import RunConfig
from .injury import InjurySummary, summarize_injury
from .penetration import DeviceParameters
from .punctures import Punctures, simulate_punctures

DEVICE_STREAM = 1
"""First spawn-key entry of the device's random streams (see the module docstring)."""


@dataclass(frozen=True, eq=False)
class DeviceResult:
    """One session: the device used, the patient's skin, the punctures and their injury."""

    device: AnyDevice
    skin: SkinProfile
    punctures: Punctures
    summary: InjurySummary
    session_index: int = 0
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary of the session (without the per-puncture arrays)."""
        return {
            "session_index": self.session_index,
            "seed": self.seed,
            "device": self.device.model_dump(mode="json"),
            "skin_thickness_um": self.skin.as_dict(),
            "skin_stiffness_relative": float(self.skin.stiffness_relative),
            "summary": self.summary.to_dict(),
        }


def session_rng(seed: int, session_index: int) -> np.random.Generator:
    """The generator of session ``session_index`` of a run seeded with ``seed``."""
    sequence = np.random.SeedSequence(seed, spawn_key=(DEVICE_STREAM, session_index))
    return np.random.default_rng(sequence)


def session_device(config: RunConfig, session_index: int = 0) -> AnyDevice:
    """The device of a session; a course of 0 sessions uses the protocol's device."""
    schedule = config.protocol.schedule()
    if not schedule:
        if session_index != 0:
            raise IndexError(f"the protocol has no sessions; session {session_index} asked")
        return config.protocol.device
    if not 0 <= session_index < len(schedule):
        raise IndexError(f"session {session_index} out of range 0..{len(schedule) - 1}")
    return schedule[session_index].device


def simulate_device(
    config: RunConfig, session_index: int = 0, params: DeviceParameters | None = None
) -> DeviceResult:
    """Punctures and injury of session ``session_index`` of a configured run."""
    device = session_device(config, session_index)
    skin = skin_for(config.patient)
    rng = session_rng(config.simulation.seed, session_index)
    punctures = simulate_punctures(
        device, skin, config.simulation.sample_area_mm, rng, params=params
    )
    return DeviceResult(
        device=device,
        skin=skin,
        punctures=punctures,
        summary=summarize_injury(punctures, skin, device),
        session_index=session_index,
        seed=config.simulation.seed,
    )
