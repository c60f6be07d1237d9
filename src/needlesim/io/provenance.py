"""Provenance attached to every result: config hash, package version, seed."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

from .. import __version__


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
