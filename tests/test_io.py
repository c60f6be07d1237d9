"""Atomic writes and result stores: a failed write never leaves a file that looks whole."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from needlesim.config import RunConfig
from needlesim.io import atomic_path, config_hash, read_zarr, write_json, write_zarr


def test_failed_write_keeps_the_old_file(tmp_path) -> None:
    target = tmp_path / "summary.json"
    write_json(target, {"ok": 1})
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("{half")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == '{\n  "ok": 1\n}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_zarr_roundtrip_keeps_values_units_and_attrs(tmp_path) -> None:
    ds = xr.Dataset(
        {"collagen": (("time", "layer"), np.arange(10.0).reshape(2, 5), {"units": "rel"})},
        coords={"time": [0.0, 1.0], "layer": ["a", "b", "c", "d", "e"]},
        attrs={"seed": 3},
    )
    write_zarr(ds, tmp_path / "t.zarr")
    write_zarr(ds * 2, tmp_path / "t.zarr")  # replacing an existing store
    back = read_zarr(tmp_path / "t.zarr")
    np.testing.assert_array_equal(back["collagen"].values, 2 * ds["collagen"].values)
    assert list(back.layer.values) == ["a", "b", "c", "d", "e"]


def test_config_hash_tracks_content_not_spelling() -> None:
    a = RunConfig.model_validate({"patient": {"age_years": 30}})
    b = RunConfig.model_validate({"patient": {"age_years": 30.0, "sex": "female"}})
    c = RunConfig.model_validate({"patient": {"age_years": 31}})
    assert config_hash(a) == config_hash(b) != config_hash(c)
