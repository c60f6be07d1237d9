"""The patch grid: a box of skin, periodic in x and y, layered in depth z.

Voxels are cells of a uniform grid with spacing ``(dx, dy, dz)`` um. Cell
``(i, j, k)`` is centred at

    x_i = (i + 1/2) dx,   y_j = (j + 1/2) dy,   z_k = (k + 1/2) dz,

with ``z`` the depth below the skin surface (``z = 0`` is the surface, ``z``
grows downwards). The box is ``L_x = n_x dx`` by ``L_y = n_y dy`` laterally
(periodic) and ``L_z = n_z dz`` deep (no-flux walls at ``z = 0`` and ``z = L_z``).

Each voxel belongs to the skin layer that contains its centre depth
(:meth:`needlesim.anatomy.SkinProfile.layer_at`); voxels below the deepest
layer boundary belong to the hypodermis. Because the layering depends on
depth only, every per-layer coefficient becomes a function of ``k`` alone,
which is what makes the lateral FFT diagonalisation of the diffusion operator
exact (:mod:`needlesim.geometry.diffusion`).

Fields live on the grid as arrays of shape ``(species, nx, ny, nz)`` (float64).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..anatomy import LAYER_NAMES, Layer, SkinProfile

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

N_LAYERS = len(Layer)


def _triple(value: float | tuple[float, float, float]) -> tuple[float, float, float]:
    if isinstance(value, int | float):
        return (float(value),) * 3
    a, b, c = value
    return (float(a), float(b), float(c))


def _pair(value: float | tuple[float, float]) -> tuple[float, float]:
    if isinstance(value, int | float):
        return (float(value),) * 2
    a, b = value
    return (float(a), float(b))


@dataclass(frozen=True, eq=False)
class PatchGrid:
    """A periodic-by-layered voxel grid; lengths in um.

    ``layer_of_z[k]`` is the :class:`~needlesim.anatomy.Layer` index of the
    voxels at depth index ``k``; ``skin`` is the profile it came from (``None``
    for a uniform, single-layer test medium).
    """

    shape: tuple[int, int, int]
    spacing_um: tuple[float, float, float]
    layer_of_z: IntArray
    skin: SkinProfile | None = None

    def __post_init__(self) -> None:
        if len(self.shape) != 3 or any(int(n) < 1 for n in self.shape):
            raise ValueError(f"grid shape must be 3 positive integers, got {self.shape}")
        if len(self.spacing_um) != 3 or any(not h > 0 for h in self.spacing_um):
            raise ValueError(f"grid spacing must be 3 positive lengths, got {self.spacing_um}")
        layer = np.asarray(self.layer_of_z, dtype=np.int64)
        if layer.shape != (self.shape[2],):
            raise ValueError(f"layer_of_z must have nz={self.shape[2]} entries")
        if layer.min() < 0 or layer.max() >= N_LAYERS:
            raise ValueError(f"layer indices must be in [0, {N_LAYERS}), got {layer}")
        layer.setflags(write=False)
        object.__setattr__(self, "layer_of_z", layer)
        object.__setattr__(self, "shape", tuple(int(n) for n in self.shape))
        object.__setattr__(self, "spacing_um", tuple(float(h) for h in self.spacing_um))

    # construction -------------------------------------------------------------

    @classmethod
    def from_skin(
        cls,
        skin: SkinProfile,
        *,
        side_um: float | tuple[float, float],
        spacing_um: float | tuple[float, float, float],
        depth_um: float | None = None,
    ) -> PatchGrid:
        """A grid over a ``side_um`` patch of ``skin`` down to ``depth_um``.

        ``depth_um`` defaults to the whole stack (surface to the bottom of the
        hypodermis). Lengths are rounded to whole voxels (at least one).
        """
        sx, sy = _pair(side_um)
        hx, hy, hz = _triple(spacing_um)
        depth = float(skin.boundaries_um[-1]) if depth_um is None else float(depth_um)
        nx = max(1, round(sx / hx))
        ny = max(1, round(sy / hy))
        nz = max(1, round(depth / hz))
        z = (np.arange(nz, dtype=np.float64) + 0.5) * hz
        layer = np.minimum(skin.layer_at(z), N_LAYERS - 1).astype(np.int64)
        return cls((nx, ny, nz), (hx, hy, hz), layer, skin)

    @classmethod
    def uniform(
        cls,
        shape: tuple[int, int, int],
        spacing_um: float | tuple[float, float, float],
        layer: Layer | int = Layer.reticular_dermis,
    ) -> PatchGrid:
        """A grid of one layer everywhere (test media, verification problems)."""
        return cls(
            (int(shape[0]), int(shape[1]), int(shape[2])),
            _triple(spacing_um),
            np.full(shape[2], int(layer), dtype=np.int64),
        )

    @classmethod
    def with_layers(
        cls,
        shape: tuple[int, int, int],
        spacing_um: float | tuple[float, float, float],
        layer_of_z: IntArray | list[int],
    ) -> PatchGrid:
        """A grid with an explicit layer index per depth index."""
        return cls(
            (int(shape[0]), int(shape[1]), int(shape[2])),
            _triple(spacing_um),
            np.asarray(layer_of_z, dtype=np.int64),
        )

    # geometry -----------------------------------------------------------------

    @property
    def nx(self) -> int:
        return self.shape[0]

    @property
    def ny(self) -> int:
        return self.shape[1]

    @property
    def nz(self) -> int:
        return self.shape[2]

    @property
    def n_voxels(self) -> int:
        return self.nx * self.ny * self.nz

    @property
    def lengths_um(self) -> tuple[float, float, float]:
        """``(L_x, L_y, L_z)``: box size in um."""
        return (
            self.nx * self.spacing_um[0],
            self.ny * self.spacing_um[1],
            self.nz * self.spacing_um[2],
        )

    @property
    def voxel_volume_um3(self) -> float:
        return math.prod(self.spacing_um)

    def axis_um(self, axis: int) -> FloatArray:
        """Cell-centre coordinates along ``axis`` (0: x, 1: y, 2: depth z), um."""
        return (np.arange(self.shape[axis], dtype=np.float64) + 0.5) * self.spacing_um[axis]

    @property
    def x_um(self) -> FloatArray:
        return self.axis_um(0)

    @property
    def y_um(self) -> FloatArray:
        return self.axis_um(1)

    @property
    def z_um(self) -> FloatArray:
        return self.axis_um(2)

    def layer_index(self) -> IntArray:
        """Layer index of every voxel, shape ``(nx, ny, nz)``."""
        return np.broadcast_to(self.layer_of_z, self.shape).copy()

    def layer_names_of_z(self) -> list[str]:
        """Layer name at each depth index."""
        return [LAYER_NAMES[i] for i in self.layer_of_z]

    def per_layer(self, values: FloatArray | list[float] | float) -> FloatArray:
        """Expand per-layer values (``(..., 5)``, or a scalar) to per-depth ``(..., nz)``."""
        v = np.asarray(values, dtype=np.float64)
        if v.ndim == 0:
            return np.full(self.nz, float(v))
        if v.shape[-1] != N_LAYERS:
            raise ValueError(f"per-layer values need a last axis of {N_LAYERS}, got {v.shape}")
        out: FloatArray = v[..., self.layer_of_z]
        return out

    def layer_fraction(self) -> FloatArray:
        """Fraction of the grid's depth in each of the 5 layers (sums to 1)."""
        counts = np.bincount(self.layer_of_z, minlength=N_LAYERS).astype(np.float64)
        return counts / counts.sum()

    def depth_index(self, depth_um: float) -> int:
        """Index of the voxel layer containing ``depth_um`` (clamped to the grid)."""
        k = math.floor(depth_um / self.spacing_um[2])
        return min(max(k, 0), self.nz - 1)

    def describe(self) -> dict[str, object]:
        """JSON-safe description (shape, spacing, lengths, layers per depth index)."""
        return {
            "shape": list(self.shape),
            "spacing_um": list(self.spacing_um),
            "lengths_um": list(self.lengths_um),
            "layer_of_z": [int(i) for i in self.layer_of_z],
        }

    def fingerprint(self) -> str:
        """A short string that identifies the grid (used to match checkpoints)."""
        layers = "".join(str(int(i)) for i in self.layer_of_z)
        return f"{self.shape}|{self.spacing_um}|{layers}"
