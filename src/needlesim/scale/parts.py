"""Parquet parts of a cohort: one file per batch, written by the worker that ran it.

``out_dir/part-b00000.parquet`` holds batch 0, and so on. A part is written to a
temporary sibling and renamed (:func:`needlesim.io.atomic_path`), so a file with
the final name is always complete. Its key-value metadata (``needlesim``) records
the batch, the patients it holds and the config hash; :func:`part_is_complete`
checks them before a re-run skips the batch.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from ..io import atomic_path
from .batches import Batch

PART_PATTERN = re.compile(r"^part-b(\d{5,})\.parquet$")
METADATA_KEY = b"needlesim"


def part_path(out_dir: Path, batch_index: int) -> Path:
    """Where batch ``batch_index`` is written."""
    return Path(out_dir) / f"part-b{batch_index:05d}.parquet"


def write_part(frame: pd.DataFrame, path: Path, meta: dict[str, Any]) -> int:
    """Write ``frame`` to ``path`` atomically with ``meta`` in the file metadata; return rows."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    old = table.schema.metadata or {}
    table = table.replace_schema_metadata({**old, METADATA_KEY: json.dumps(meta).encode()})
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")
    return int(table.num_rows)


def read_part_meta(path: Path) -> dict[str, Any]:
    """The ``needlesim`` metadata of a part (raises if the file is unreadable)."""
    schema = pq.read_schema(path)
    raw = (schema.metadata or {}).get(METADATA_KEY)
    if raw is None:
        raise ValueError(f"{path} has no needlesim metadata")
    meta: dict[str, Any] = json.loads(raw)
    return meta


def part_is_complete(path: Path, batch: Batch, config_hash: str, arms: int = 1) -> bool:
    """Whether ``path`` is a readable part of ``batch`` for this config with every patient.

    Checks the metadata (batch, first id, patients, config hash), the row count
    recorded against the file's, and that the ``patient_id`` column holds exactly
    the batch's ids.
    """
    if not path.is_file():
        return False
    try:
        meta = read_part_meta(path)
        if (
            meta.get("batch") != batch.index
            or meta.get("first_id") != batch.first_id
            or meta.get("patients") != batch.size
            or meta.get("config_hash") != config_hash
            or meta.get("arms") != arms
        ):
            return False
        parquet = pq.ParquetFile(path)
        if parquet.metadata.num_rows != meta.get("rows"):
            return False
        ids = parquet.read(columns=["patient_id"]).column("patient_id").to_numpy()
    except Exception:
        return False
    if ids.size == 0:
        return False
    unique = pd.unique(ids)
    return (
        unique.size == batch.size
        and int(unique.min()) == batch.first_id
        and int(unique.max()) == batch.first_id + batch.size - 1
    )


def list_parts(out_dir: Path) -> list[Path]:
    """Part files in ``out_dir``, in batch order."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in out_dir.iterdir() if (m := PART_PATTERN.match(p.name))]
    return [p for _, p in sorted(found)]


def cohort_dataset(out_dir: Path | Sequence[Path]) -> pads.Dataset:
    """A pyarrow dataset over the parts of a cohort folder (or an explicit list of parts)."""
    parts = list_parts(out_dir) if isinstance(out_dir, str | Path) else list(out_dir)
    if not parts:
        raise FileNotFoundError(f"no cohort parts (part-b*.parquet) in {out_dir}")
    return pads.dataset([str(p) for p in parts], format="parquet")


def read_cohort(out_dir: Path, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Read a cohort folder into one DataFrame, sorted by arm, patient and day."""
    frame = cohort_dataset(out_dir).to_table(columns=list(columns) if columns else None).to_pandas()
    keys = [k for k in ("arm", "patient_id", "day") if k in frame.columns]
    if keys:
        frame = frame.sort_values(keys, kind="stable").reset_index(drop=True)
    return frame
