"""PNG plots for clinicians and device engineers (matplotlib, Agg, atomic writes)."""

from .device import describe_device, plot_depth_profile, plot_puncture_map

__all__ = ["describe_device", "plot_depth_profile", "plot_puncture_map"]
