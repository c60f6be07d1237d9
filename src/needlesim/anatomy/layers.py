"""The five skin layers and a patient's layer stack."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np
from numpy.typing import NDArray


class Layer(IntEnum):
    """Skin layers from the surface down; the value is the index in every layer array."""

    stratum_corneum = 0
    viable_epidermis = 1
    papillary_dermis = 2
    reticular_dermis = 3
    hypodermis = 4


LAYER_NAMES: tuple[str, ...] = tuple(layer.name for layer in Layer)
"""Layer names in depth order, as used in outputs."""

DERMAL_LAYERS = (Layer.papillary_dermis, Layer.reticular_dermis)
EPIDERMAL_LAYERS = (Layer.stratum_corneum, Layer.viable_epidermis)


@dataclass(frozen=True)
class SkinProfile:
    """A stack of skin layers with thicknesses in um, surface first.

    ``sources`` maps each layer name to where its thickness came from.
    """

    thickness_um: tuple[float, float, float, float, float]
    stiffness_relative: float = 1.0
    sources: dict[str, str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if len(self.thickness_um) != len(Layer):
            raise ValueError(f"need {len(Layer)} layer thicknesses, got {len(self.thickness_um)}")
        if any(not t > 0 for t in self.thickness_um):
            raise ValueError(f"layer thicknesses must be positive, got {self.thickness_um}")

    @property
    def boundaries_um(self) -> NDArray[np.float64]:
        """Depths of the layer interfaces, ``[0, z1, ..., z5]`` (6 values, um)."""
        return np.concatenate([[0.0], np.cumsum(self.thickness_um)])

    def top_um(self, layer: Layer) -> float:
        return float(self.boundaries_um[layer])

    def bottom_um(self, layer: Layer) -> float:
        return float(self.boundaries_um[layer + 1])

    @property
    def epidermis_um(self) -> float:
        """Stratum corneum plus viable epidermis: the depth of the dermo-epidermal junction."""
        return self.bottom_um(Layer.viable_epidermis)

    @property
    def dermis_um(self) -> float:
        return self.thickness_um[Layer.papillary_dermis] + self.thickness_um[Layer.reticular_dermis]

    def layer_at(self, depth_um: NDArray[np.float64] | float) -> NDArray[np.int64]:
        """Index of the layer containing each depth (depth 0 is the surface)."""
        edges = self.boundaries_um[1:-1]
        return np.searchsorted(edges, np.asarray(depth_um, dtype=float), side="right")

    def deepest_layer(self, depth_um: float) -> Layer | None:
        """The deepest layer a channel of this depth enters, or None for depth 0."""
        if depth_um <= 0:
            return None
        return Layer(int(self.layer_at(min(depth_um, self.boundaries_um[-1] - 1e-9))))

    def as_dict(self) -> dict[str, float]:
        return {name: float(t) for name, t in zip(LAYER_NAMES, self.thickness_um, strict=True)}
