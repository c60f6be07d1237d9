"""Outputs of the patch level: xarray/zarr, depth profiles, layer means, PNGs, VTK image data."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from needlesim.io import read_zarr
from needlesim.patch import (
    OutputSpec,
    PatchGrid,
    PatchResult,
    Session,
    StepperOptions,
    channel_damage,
    fields_to_vti,
    plot_depth_profiles,
    plot_slice,
    simulate_patch,
    write_image_series,
)
from needlesim.testing.patch_problems import HealingParameters, healing_model

GRID = PatchGrid.with_layers((10, 8, 6), (20.0, 25.0, 30.0), [1, 2, 2, 3, 3, 4])
PARAMETERS = HealingParameters(d_c=2.0e4, k_c=4.0, p_c=4.0, d_n=500.0, chi=500.0)


@pytest.fixture(scope="module")
def result() -> PatchResult:
    model, params = healing_model(np.zeros(GRID.shape), PARAMETERS)
    damage = channel_damage(GRID, [100.0], [100.0], [120.0], [60.0])
    return simulate_patch(
        GRID,
        model,
        PARAMETERS.baseline(GRID),
        params,
        t_end=3.0,
        sessions=(Session(0.5, damage),),
        outputs=OutputSpec(
            field_days=(0.0, 3.0),
            profile_days=(0.0, 0.5, 1.0, 3.0),
            slice_days=(0.5, 0.75, 1.0, 2.0, 3.0),
            slice_depths_um=(15.0, 45.0),
        ),
        options=StepperOptions(rtol=1e-4, atol=1e-7),
    )


def test_result_arrays_have_the_documented_shapes(result: PatchResult) -> None:
    days, fields = result.fields()
    assert list(days) == [0.0, 3.0] and fields.shape == (2, 3, *GRID.shape)
    days, profiles = result.profiles()
    assert profiles.shape == (4, 3, GRID.nz)
    np.testing.assert_allclose(profiles[-1], fields[-1].mean(axis=(1, 2)))
    _, means = result.layer_means()
    assert means.shape == (4, 3, 5)
    assert np.isnan(means[:, :, 0]).all()  # no stratum corneum on this grid
    np.testing.assert_allclose(means[-1, :, 2], fields[-1][:, :, :, 1:3].mean(axis=(1, 2, 3)))
    days, slices = result.slices()
    assert slices.shape == (5, 2, 3, GRID.nx, GRID.ny)
    np.testing.assert_array_equal(slices[-1, 1], fields[-1][:, :, :, 1])


def test_dataset_round_trips_through_zarr(result: PatchResult, tmp_path: Path) -> None:
    ds = result.to_dataset({"seed": 0})
    assert ds["field"].dims == ("time_field", "species", "x", "y", "z")
    assert ds["x"].attrs["units"] == "um" and ds["z"].attrs["units"] == "um"
    assert ds["time_field"].attrs["units"] == "days"
    assert list(ds["units"].values) == ["ng/mL", "1", "1"]
    np.testing.assert_allclose(ds["z"].values, GRID.z_um)
    target = result.write_zarr(tmp_path / "patch.zarr", {"seed": 0})
    back = read_zarr(target)
    np.testing.assert_array_equal(back["field"].values, ds["field"].values)
    np.testing.assert_array_equal(back["layer_mean"].values, ds["layer_mean"].values)
    assert back.attrs["seed"] == 0 and back.attrs["fidelity"] == "patch"


def test_pngs_are_written(result: PatchResult, tmp_path: Path) -> None:
    png = b"\x89PNG"
    assert plot_slice(result, "m", 45.0, 3.0, tmp_path / "slice.png").read_bytes()[:4] == png
    profile = plot_depth_profiles(result, "c", tmp_path / "profile.png")
    assert profile.read_bytes()[:4] == png
    frames = write_image_series(result, "m", 45.0, tmp_path / "series")
    assert len(frames) == 5
    assert all(p.read_bytes()[:4] == png for p in frames)
    with pytest.raises(KeyError):
        plot_slice(result, "m", 45.0, 1.5, tmp_path / "missing.png")


@pytest.mark.parametrize("encoding", ["binary", "ascii"])
def test_vti_parses_with_the_right_extent_and_arrays(
    result: PatchResult, tmp_path: Path, encoding: str
) -> None:
    fields = result.field_at(3.0)
    path = fields_to_vti(
        tmp_path / f"patch-{encoding}.vti",
        GRID,
        result.species,
        fields,
        day=3.0,
        encoding=encoding,  # type: ignore[arg-type]
    )
    root = ET.parse(path).getroot()
    assert root.tag == "VTKFile" and root.attrib["type"] == "ImageData"
    image = root.find("ImageData")
    assert image is not None
    assert image.attrib["WholeExtent"] == "0 10 0 8 0 6"
    assert [float(v) for v in image.attrib["Spacing"].split()] == [20.0, 25.0, 30.0]
    arrays = root.findall("./ImageData/Piece/CellData/DataArray")
    assert [a.attrib["Name"] for a in arrays] == ["c", "n", "m"]
    for i, array in enumerate(arrays):
        text = (array.text or "").strip()
        if encoding == "binary":
            raw = base64.b64decode(text)
            nbytes = int(np.frombuffer(raw[:8], dtype="<u8")[0])
            assert nbytes == GRID.n_voxels * 8
            values = np.frombuffer(raw[8:], dtype="<f8")
        else:
            values = np.array(text.split(), dtype=float)
        assert values.size == GRID.n_voxels
        # x fastest, then y, then z
        np.testing.assert_array_equal(values.reshape(GRID.shape, order="F"), fields[i])
    time = root.find("./ImageData/FieldData/DataArray")
    assert time is not None and float(time.text or "nan") == 3.0
