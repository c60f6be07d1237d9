"""ParaView export: VTK XML image data (``.vti``), written with numpy alone.

The file is a ``vtkImageData`` whose *cells* are the voxels: ``WholeExtent``
is ``0 nx 0 ny 0 nz`` (points), ``Spacing`` the voxel size in um and
``Origin`` 0, so cell ``(i, j, k)`` spans ``[i dx, (i+1) dx]`` etc. and the
VTK ``z`` axis is the depth below the surface (pointing into the skin). Each
species is one ``CellData`` array (``Float64``, x fastest, then y, then z).
Arrays are stored inline either as base64 ("binary", with a ``UInt64`` byte
count header, as VTK expects) or as ASCII text.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from pathlib import Path
from typing import Literal
from xml.sax.saxutils import quoteattr

import numpy as np
from numpy.typing import NDArray

from ..geometry.grid import PatchGrid
from ..io import atomic_path

Encoding = Literal["binary", "ascii"]


def _encode(values: NDArray[np.float64], encoding: Encoding) -> str:
    flat = np.ascontiguousarray(np.asarray(values, dtype="<f8").ravel(order="F"))
    if encoding == "ascii":
        return " ".join(repr(float(v)) for v in flat)
    payload = flat.tobytes()
    header = np.array([len(payload)], dtype="<u8").tobytes()
    return base64.b64encode(header + payload).decode("ascii")


def vti_text(
    grid: PatchGrid,
    arrays: Mapping[str, NDArray[np.float64]],
    *,
    encoding: Encoding = "binary",
    field_data: Mapping[str, float] | None = None,
) -> str:
    """The XML text of a ``.vti`` file with one cell array per entry of ``arrays``."""
    if encoding not in ("binary", "ascii"):
        raise ValueError(f"encoding must be 'binary' or 'ascii', got {encoding!r}")
    nx, ny, nz = grid.shape
    dx, dy, dz = grid.spacing_um
    extent = f"0 {nx} 0 {ny} 0 {nz}"
    lines = [
        '<?xml version="1.0"?>',
        '<VTKFile type="ImageData" version="1.0" byte_order="LittleEndian" header_type="UInt64">',
        f'  <ImageData WholeExtent="{extent}" Origin="0 0 0" Spacing="{dx!r} {dy!r} {dz!r}">',
    ]
    if field_data:
        lines.append("    <FieldData>")
        for name, value in field_data.items():
            lines.append(
                f'      <DataArray type="Float64" Name={quoteattr(name)} '
                f'NumberOfTuples="1" format="ascii">{float(value)!r}</DataArray>'
            )
        lines.append("    </FieldData>")
    lines.append(f'    <Piece Extent="{extent}">')
    lines.append("      <PointData>\n      </PointData>")
    first = next(iter(arrays), None)
    scalars = f" Scalars={quoteattr(first)}" if first is not None else ""
    lines.append(f"      <CellData{scalars}>")
    for name, values in arrays.items():
        v = np.asarray(values, dtype=np.float64)
        if v.shape != grid.shape:
            raise ValueError(f"array {name!r} has shape {v.shape}, grid is {grid.shape}")
        lines.append(
            f'        <DataArray type="Float64" Name={quoteattr(name)} format="{encoding}" '
            f'RangeMin="{float(np.min(v))!r}" RangeMax="{float(np.max(v))!r}">'
        )
        lines.append("          " + _encode(v, encoding))
        lines.append("        </DataArray>")
    lines += ["      </CellData>", "    </Piece>", "  </ImageData>", "</VTKFile>", ""]
    return "\n".join(lines)


def write_vti(
    path: str | Path,
    grid: PatchGrid,
    arrays: Mapping[str, NDArray[np.float64]],
    *,
    encoding: Encoding = "binary",
    field_data: Mapping[str, float] | None = None,
) -> Path:
    """Write a ``.vti`` file atomically (see :func:`vti_text`)."""
    text = vti_text(grid, arrays, encoding=encoding, field_data=field_data)
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="ascii")
    return path


def fields_to_vti(
    path: str | Path,
    grid: PatchGrid,
    species: tuple[str, ...],
    fields: NDArray[np.float64],
    *,
    day: float | None = None,
    encoding: Encoding = "binary",
) -> Path:
    """Write the fields ``(S, nx, ny, nz)`` of one time, one cell array per species."""
    arrays = {name: fields[i] for i, name in enumerate(species)}
    meta = {"TimeValue": float(day)} if day is not None else None
    return write_vti(path, grid, arrays, encoding=encoding, field_data=meta)
