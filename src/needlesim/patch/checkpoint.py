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

The saved 3D fields of a run that spills them to disk
(:func:`needlesim.patch.output.spill`) are not copied into the checkpoint: it counts
them (``spilled``), and they stay in the run's spill folder under fixed names
(:func:`~needlesim.patch.output.spilled_name`), written once and never changed. A
checkpoint then holds the state and the small outputs only (at the standard size
about 0.24 GB instead of 1.5 GB by the last session), and a resumed run maps the
fields from that folder. :func:`discard` removes a checkpoint and its fields.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..io import atomic_path
from .output import SPILLED, spilled_name

_SPILLED_FILE = re.compile(rf"({'|'.join(SPILLED)})-\d{{5}}\.npy")

FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2)


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
    spilled: dict[str, int] = field(default_factory=dict)
    """Outputs kept as files in the run's spill folder instead (count per kind)."""

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
            "spilled": self.spilled,
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
            if meta.get("format") not in READABLE_FORMATS:
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
            spilled={k: int(n) for k, n in meta.get("spilled", {}).items()},
        )

    def spilled_files(self, spill_dir: str | Path) -> dict[str, list[Path]]:
        """The files of the spilled outputs, per kind, in ``spill_dir``."""
        folder = Path(spill_dir)
        return {k: [folder / spilled_name(k, i) for i in range(n)] for k, n in self.spilled.items()}


def discard(path: str | Path, spill_dir: str | Path | None = None) -> None:
    """Remove the checkpoint at ``path`` and then the fields it kept in ``spill_dir`` (the
    folder too, once empty). In that order: a crash in between leaves no checkpoint that
    refers to missing files. Mapped arrays stay readable where the system allows it."""
    path = Path(path)
    path.unlink(missing_ok=True)
    if spill_dir is None or not Path(spill_dir).is_dir():
        return
    folder = Path(spill_dir)
    for file in folder.iterdir():
        if _SPILLED_FILE.fullmatch(file.name):
            with contextlib.suppress(OSError):  # a system that cannot unlink a mapped file
                file.unlink()
    with contextlib.suppress(OSError):  # not empty: something else lives there
        folder.rmdir()


def rng_state(rng: np.random.Generator) -> dict[str, Any]:
    """The generator's bit-generator state (JSON-safe)."""
    return dict(rng.bit_generator.state)


def restore_rng(state: dict[str, Any]) -> np.random.Generator:
    """A generator in exactly the saved state."""
    bitgen_cls = getattr(np.random, state["bit_generator"])
    bitgen = bitgen_cls()
    bitgen.state = state
    return np.random.Generator(bitgen)
