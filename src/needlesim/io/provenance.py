"""Provenance attached to every result: config hash, package version, seed."""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

from .. import __version__


@functools.cache
def source_hash(suffixes: tuple[str, ...] = (".py",)) -> str:
    """SHA-256 over the path and bytes of every file of the needlesim package ending in one
    of ``suffixes`` (the code, or the code and its data tables), except ``data/fitted.yaml``.

    Caches of compiled or computed model output are keyed on it, so a change of the
    model's code (or tables) never reads a stale entry.
    """
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.suffix in suffixes):
        rel = path.relative_to(root).as_posix()
        if rel == "data/fitted.yaml":
            continue
        digest.update(rel.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def config_hash(config: BaseModel) -> str:
    """SHA-256 (first 16 hex digits) of the config's canonical JSON, defaults included."""
    canonical = json.dumps(config.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def provenance(config: BaseModel, seed: int) -> dict[str, Any]:
    """Attributes that identify a result: what produced it and from which input."""
    return {
        "needlesim_version": __version__,
        "config_hash": config_hash(config),
        "seed": int(seed),
    }
