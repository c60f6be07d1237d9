"""Checkpoints: everything a patch run needs to continue exactly where it stopped.

A checkpoint is one ``.npz`` file (numpy arrays, no pickles) written atomically
(:func:`needlesim.io.atomic_path`: a temporary sibling renamed over the target,
so a crash leaves either the previous checkpoint or the new one, never half of
one). It holds the state array, the time, the proposed step size, the step
counters, the index of the next stop (output time or session), the number of
sessions applied, the random generator state, the outputs recorded so far and
a fingerprint of the problem: a checkpoint is only resumed into the same run.
All values are stored exactly (float64 bit patterns), so a resumed run repeats
the uninterrupted one bit for bit on the same machine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..io import atomic_path

FORMAT_VERSION = 1


@dataclass
class Checkpoint:
    """The resumable state of a run (host copies of everything)."""

    fingerprint: str
    y: NDArray[np.float64]
    t: float
    dt: float
    accepted: int
    rejected: int
    krylov_iterations: int
    next_stop: int
    sessions_done: int
    rng_state: dict[str, Any]
    outputs: dict[str, list[NDArray[np.float64]]] = field(default_factory=dict)
    output_times: dict[str, list[float]] = field(default_factory=dict)
    wall_s: float = 0.0

    def save(self, path: str | Path) -> Path:
        """Write atomically to ``path`` (a ``.npz`` file)."""
        meta = {
            "format": FORMAT_VERSION,
            "fingerprint": self.fingerprint,
            "t": self.t.hex(),
            "dt": self.dt.hex(),
            "accepted": self.accepted,
            "rejected": self.rejected,
            "krylov_iterations": self.krylov_iterations,
            "next_stop": self.next_stop,
            "sessions_done": self.sessions_done,
            "rng_state": self.rng_state,
            "output_times": {k: [v.hex() for v in vs] for k, vs in self.output_times.items()},
            "output_counts": {k: len(v) for k, v in self.outputs.items()},
            "wall_s": self.wall_s,
        }
        arrays: dict[str, NDArray[Any]] = {
            "meta": np.array(json.dumps(meta)),
            "y": np.asarray(self.y, dtype=np.float64),
        }
        for kind, items in self.outputs.items():
            for i, a in enumerate(items):
                arrays[f"out_{kind}_{i}"] = np.asarray(a)
        path = Path(path)
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, **arrays)  # type: ignore[arg-type]
        return path

    @classmethod
    def load(cls, path: str | Path) -> Checkpoint:
        with np.load(Path(path), allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            if meta.get("format") != FORMAT_VERSION:
                raise ValueError(f"unsupported checkpoint format {meta.get('format')}")
            outputs = {
                kind: [np.array(data[f"out_{kind}_{i}"]) for i in range(n)]
                for kind, n in meta["output_counts"].items()
            }
            y = np.array(data["y"])
        return cls(
            fingerprint=meta["fingerprint"],
            y=y,
            t=float.fromhex(meta["t"]),
            dt=float.fromhex(meta["dt"]),
            accepted=int(meta["accepted"]),
            rejected=int(meta["rejected"]),
            krylov_iterations=int(meta["krylov_iterations"]),
            next_stop=int(meta["next_stop"]),
            sessions_done=int(meta["sessions_done"]),
            rng_state=meta["rng_state"],
            outputs=outputs,
            output_times={
                k: [float.fromhex(v) for v in vs] for k, vs in meta["output_times"].items()
            },
            wall_s=float(meta["wall_s"]),
        )


def rng_state(rng: np.random.Generator) -> dict[str, Any]:
    """The generator's bit-generator state (JSON-safe)."""
    return dict(rng.bit_generator.state)


def restore_rng(state: dict[str, Any]) -> np.random.Generator:
    """A generator in exactly the saved state."""
    bitgen_cls = getattr(np.random, state["bit_generator"])
    bitgen = bitgen_cls()
    bitgen.state = state
    return np.random.Generator(bitgen)
