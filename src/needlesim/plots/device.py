"""Plots of one device session: the puncture map and the depth profile.

Both take a :class:`needlesim.device.DeviceResult` and a path, draw with the
Agg canvas (no pyplot state) and write the PNG atomically.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import EllipseCollection
from matplotlib.colors import Normalize
from matplotlib.patches import Rectangle

from ..anatomy import Layer
from ..config.device import AnyDevice, PenDevice, RollerDevice, StampDevice
from ..device import DeviceResult, Punctures
from ..device.needle import NeedleGeometry
from .common import DEVICE_NAMES, LAYER_COLOURS, LAYER_LABELS, new_figure, save_atomic

ZOOM_WINDOW_MM = 5.0
"""Side of the zoomed window in which channels are drawn to scale."""

DEPTH_CMAP = "plasma"


def describe_device(device: AnyDevice) -> str:
    """One line naming the device and its settings, for titles."""
    head = f"{DEVICE_NAMES[device.type]} · {device.needle_length_mm:g} mm needles"
    if isinstance(device, RollerDevice):
        how = (
            f"{device.needle_count} needles, {device.drum_diameter_mm:g}×"
            f"{device.drum_width_mm:g} mm drum · {device.passes} passes ({device.pattern.value})"
        )
    elif isinstance(device, PenDevice):
        how = (
            f"{device.needle_count} needles at {device.stroke_frequency_hz:g} Hz, "
            f"glide {device.glide_speed_mm_s:g} mm/s · {device.passes} passes "
            f"({device.pattern.value})"
        )
    elif isinstance(device, StampDevice):
        how = (
            f"{device.needle_count} needles on {device.head_width_mm:g}×"
            f"{device.head_length_mm:g} mm · {device.passes} stamps per site"
        )
    else:  # pragma: no cover - exhaustive above
        how = ""
    return f"{head} · {how}"


def _colour_top_um(result: DeviceResult) -> float:
    """Top of the depth colour scale: the needle length, or the deepest tip if deeper."""
    deepest = float(result.punctures.penetration_depth_um.max(initial=0.0))
    return max(result.device.needle_length_um, deepest, 1.0)


def _draw_channels(ax: Axes, channels: Punctures, norm: Normalize, tilt_deg: float) -> None:
    """Channels as true-size discs (footprint area) in mm, coloured by penetration depth."""
    area = math.pi * channels.surface_diameter_um**2 / 4 / math.cos(math.radians(tilt_deg))
    diameter_mm = 2.0 * np.sqrt(area / math.pi) / 1000.0
    discs = EllipseCollection(
        diameter_mm,
        diameter_mm,
        np.zeros_like(diameter_mm),
        units="xy",
        offsets=np.column_stack([channels.x_um, channels.y_um]) / 1000.0,
        offset_transform=ax.transData,
        cmap=DEPTH_CMAP,
        norm=norm,
        edgecolors="#3b0f3b",
        linewidths=0.3,
    )
    discs.set_array(channels.penetration_depth_um)
    ax.add_collection(discs)


def _style_map_axes(ax: Axes, lo: tuple[float, float], side_mm: float) -> None:
    ax.set_xlim(lo[0], lo[0] + side_mm)
    ax.set_ylim(lo[1], lo[1] + side_mm)
    ax.set_aspect("equal")
    ax.set_xlabel("x (mm)")
    ax.set_ylabel("y (mm)")
    ax.set_facecolor("#fbf4ee")


def plot_puncture_map(result: DeviceResult, path: str | Path) -> Path:
    """Punctures over the sample coloured by penetration depth, with a to-scale 5 mm window.

    Left: every channel on the whole sample (markers, not to scale). Right: the
    central window with each channel drawn at its surface footprint. The colour
    bar marks the layer boundaries.
    """
    punctures, summary, skin = result.punctures, result.summary, result.skin
    channels = punctures.select(punctures.pierced)
    side_mm = punctures.sample_side_um / 1000.0
    top_um = _colour_top_um(result)
    norm = Normalize(vmin=0.0, vmax=top_um)
    fig = new_figure(13.0, 6.4)
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1]})

    marker = float(np.clip(4000.0 / max(len(channels), 1), 1.5, 12.0))
    scatter = left.scatter(
        channels.x_um / 1000.0,
        channels.y_um / 1000.0,
        c=channels.penetration_depth_um,
        cmap=DEPTH_CMAP,
        norm=norm,
        s=marker,
        linewidths=0,
    )
    _style_map_axes(left, (0.0, 0.0), side_mm)
    left.set_title(f"Whole sample, {side_mm:g} × {side_mm:g} mm (markers not to scale)")

    zoom = min(ZOOM_WINDOW_MM, side_mm)
    lo = ((side_mm - zoom) / 2.0, (side_mm - zoom) / 2.0)
    left.add_patch(Rectangle(lo, zoom, zoom, fill=False, edgecolor="black", lw=1.2, ls="--"))
    _draw_channels(right, channels, norm, result.device.needle_tilt_deg)
    _style_map_axes(right, lo, zoom)
    in_window = (
        (channels.x_um / 1000.0 >= lo[0])
        & (channels.x_um / 1000.0 < lo[0] + zoom)
        & (channels.y_um / 1000.0 >= lo[1])
        & (channels.y_um / 1000.0 < lo[1] + zoom)
    )
    right.set_title(
        f"Central {zoom:g} × {zoom:g} mm window, channels to scale ({int(in_window.sum())} shown)"
    )
    if len(channels) == 0:
        for ax in (left, right):
            ax.text(
                0.5,
                0.5,
                "no channels: the needles do not pierce",
                transform=ax.transAxes,
                ha="center",
                va="center",
                fontsize=12,
                color="0.3",
            )

    bar = fig.colorbar(scatter, ax=[left, right], shrink=0.9, pad=0.02)
    bar.set_label("penetration depth of the tip (µm)")
    for layer in (Layer.viable_epidermis, Layer.papillary_dermis, Layer.reticular_dermis):
        depth = skin.top_um(layer)
        if depth < top_um:
            bar.ax.axhline(depth, color="white", lw=1.0)
            bar.ax.text(
                -0.15,
                depth,
                f"top of {LAYER_LABELS[layer]}",
                transform=bar.ax.get_yaxis_transform(),
                ha="right",
                va="center",
                fontsize=7,
                color="0.25",
            )

    fig.suptitle(
        f"{describe_device(result.device)}\n"
        f"{summary.channel_density_per_cm2:.0f} channels/cm²  ·  coverage "
        f"{100 * summary.coverage_fraction:.1f} %  ·  mean penetration "
        f"{summary.effective_depth_um:.0f} µm  ·  channel Ø {summary.surface_diameter_um:.0f} µm",
        fontsize=12,
    )
    return save_atomic(fig, path)


def _label_positions(centres: list[float], min_gap: float, first: float) -> list[float]:
    """Label heights at the band centres, pushed down so that labels are ``min_gap`` apart
    and the first is at least at ``first``."""
    out: list[float] = []
    for c in centres:
        out.append(max(c, out[-1] + min_gap) if out else max(c, first))
    return out


def _draw_needle(ax: Axes, needle: NeedleGeometry, depth_um: float) -> None:
    """The needle at full insertion, tip at ``depth_um``, widths exaggerated to be seen."""
    if depth_um <= 0.0:
        return
    z = np.linspace(0.0, depth_um, 200)
    diameter = needle.diameter_um((depth_um - z) / needle.cos_tilt)
    scale = 0.16 / needle.base_diameter_um
    x0 = 0.14
    outline = np.concatenate([x0 - 0.5 * scale * diameter, (x0 + 0.5 * scale * diameter)[::-1]])
    ax.fill(outline, np.concatenate([z, z[::-1]]), color="#8c8c8c", ec="#404040", lw=0.8)
    ax.text(
        x0,
        depth_um,
        "\nneedle tip\n(mean, width\nnot to scale)",
        ha="center",
        va="top",
        fontsize=7,
        color="0.25",
    )


def plot_depth_profile(result: DeviceResult, path: str | Path) -> Path:
    """Skin layers by depth beside histograms of penetration and residual channel depth.

    The nominal needle length, its vertical reach (if tilted) and the means are
    marked; depth increases downwards, as in a histological section.
    """
    device, skin, punctures, summary = result.device, result.skin, result.punctures, result.summary
    channels = punctures.select(punctures.pierced)
    needle = NeedleGeometry.from_device(device)
    nominal = device.needle_length_um
    deepest = float(channels.penetration_depth_um.max(initial=0.0))
    bottom = max(1.15 * max(nominal, deepest), 1.6 * skin.epidermis_um)
    bottom = min(bottom, float(skin.boundaries_um[-1]))

    fig = new_figure(12.0, 6.6)
    col, hist = fig.subplots(1, 2, sharey=True, gridspec_kw={"width_ratios": [1.1, 3]})
    bounds = skin.boundaries_um
    for layer in Layer:
        for ax in (col, hist):
            ax.axhspan(bounds[layer], bounds[layer + 1], color=LAYER_COLOURS[layer], lw=0)
        if bounds[layer] < bottom:
            hist.axhline(bounds[layer + 1], color="0.55", lw=0.6)
            col.axhline(bounds[layer + 1], color="0.55", lw=0.6)

    visible = [layer for layer in Layer if bounds[layer] < bottom]
    centres = [0.5 * (bounds[la] + min(bounds[la + 1], bottom)) for la in visible]
    ys = _label_positions(centres, 0.034 * bottom, first=0.022 * bottom)
    for layer, centre, y in zip(visible, centres, ys, strict=True):
        top, low = bounds[layer], bounds[layer + 1]
        col.annotate(
            f"{LAYER_LABELS[layer]}  {top:.0f}–{low:.0f} µm",
            xy=(0.99, centre),
            xytext=(0.93, y),
            textcoords=col.get_yaxis_transform(),
            xycoords=col.get_yaxis_transform(),
            ha="right",
            va="center",
            fontsize=8.5,
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.6},
            arrowprops={"arrowstyle": "-", "color": "0.35", "lw": 0.7}
            if abs(y - centre) > 0.01 * bottom
            else None,
        )
    _draw_needle(col, needle, summary.effective_depth_um)
    col.set_xticks([])
    col.set_xlim(0, 1)
    col.set_ylim(bottom, 0.0)
    col.set_ylabel("depth below the skin surface (µm)")

    bins = np.linspace(0.0, bottom, 70)
    if len(channels):
        pct = np.full(len(channels), 100.0 / len(channels))
        pen_counts, _, _ = hist.hist(
            channels.penetration_depth_um,
            bins=bins,
            weights=pct,
            orientation="horizontal",
            color="#b2182b",
            alpha=0.75,
            label="penetration (injury depth of the tip)",
        )
        chan_counts, _, _ = hist.hist(
            channels.channel_depth_um,
            bins=bins,
            weights=pct,
            orientation="horizontal",
            color="#2166ac",
            alpha=0.75,
            label="residual channel after recoil (histology)",
        )
        hist.set_xlim(0.0, 1.3 * float(max(np.max(pen_counts), np.max(chan_counts))))
    else:
        hist.text(
            0.5,
            0.5,
            "no channels: the needles do not pierce",
            transform=hist.transAxes,
            ha="center",
            va="center",
            fontsize=12,
            color="0.3",
        )
    hist.axhline(
        nominal, color="black", ls="--", lw=1.3, label=f"nominal needle length {nominal:.0f} µm"
    )
    if needle.tilt_deg > 0:
        hist.axhline(
            needle.vertical_reach_um,
            color="black",
            ls=":",
            lw=1.2,
            label=f"vertical reach at {needle.tilt_deg:g}° tilt {needle.vertical_reach_um:.0f} µm",
        )
    for value, colour in (
        (summary.effective_depth_um, "#67001f"),
        (summary.channel_depth_um, "#053061"),
    ):
        if value > 0:
            hist.axhline(value, color=colour, lw=1.0)
            hist.text(
                0.99,
                value,
                f"mean {value:.0f} µm",
                color=colour,
                fontsize=8,
                ha="right",
                va="bottom",
                transform=hist.get_yaxis_transform(),
            )
    hist.set_xlabel("share of channels (% per depth bin)")
    hist.set_ylim(bottom, 0.0)
    hist.legend(loc="lower right", fontsize=8.5, framealpha=0.9)
    reached = ", ".join(LAYER_LABELS[Layer[name]] for name in summary.layers_reached) or "none"
    hist.text(
        0.99,
        0.30,
        f"layers reached (≥5 % of channels): {reached}\n"
        f"channels crossing the dermo-epidermal junction (bleeding): "
        f"{100 * summary.bleeding_fraction:.0f} %",
        transform=hist.transAxes,
        ha="right",
        va="bottom",
        fontsize=8.5,
        bbox={"boxstyle": "round", "fc": "white", "ec": "0.7", "alpha": 0.9},
    )
    fig.suptitle(
        f"Depth profile — {describe_device(device)}\n"
        f"skin stiffness ×{skin.stiffness_relative:g}; {len(channels)} channels",
        fontsize=12,
    )
    return save_atomic(fig, path)
