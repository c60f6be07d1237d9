"""Skin anatomy: the five layers, regional presets by sex and age, with citations."""

from .layers import DERMAL_LAYERS, EPIDERMAL_LAYERS, LAYER_NAMES, Layer, SkinProfile
from .presets import ageing_factors, anatomy_data, skin_for, skin_profile

__all__ = [
    "DERMAL_LAYERS",
    "EPIDERMAL_LAYERS",
    "LAYER_NAMES",
    "Layer",
    "SkinProfile",
    "ageing_factors",
    "anatomy_data",
    "skin_for",
    "skin_profile",
]
