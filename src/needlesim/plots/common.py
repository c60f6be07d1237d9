"""Shared plotting helpers: Agg figures without pyplot, atomic PNG writes, layer colours."""

from __future__ import annotations

from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..anatomy import Layer
from ..io.atomic import atomic_path

LAYER_COLOURS: dict[Layer, str] = {
    Layer.stratum_corneum: "#e9d8b4",
    Layer.viable_epidermis: "#f2c6a8",
    Layer.papillary_dermis: "#f6d5d8",
    Layer.reticular_dermis: "#e8b4bb",
    Layer.hypodermis: "#fbefbf",
}
"""Background colour of each layer band (skin-like, light enough to plot over)."""

LAYER_LABELS: dict[Layer, str] = {
    Layer.stratum_corneum: "stratum corneum",
    Layer.viable_epidermis: "viable epidermis",
    Layer.papillary_dermis: "papillary dermis",
    Layer.reticular_dermis: "reticular dermis",
    Layer.hypodermis: "hypodermis",
}

DEVICE_NAMES = {"roller": "Roller", "pen": "Pen", "stamp": "Stamp"}


def new_figure(width_in: float, height_in: float) -> Figure:
    """A figure drawn by the Agg canvas (no global pyplot state, no display needed)."""
    fig = Figure(figsize=(width_in, height_in), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_atomic(fig: Figure, path: str | Path, dpi: int = 150) -> Path:
    """Write ``fig`` as PNG to ``path`` atomically (temp file in the same folder, then
    ``os.replace``): a crash never leaves a half-written image under the final name."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    return Path(path)
