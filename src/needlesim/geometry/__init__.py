"""Transport operators of both fidelity levels: where in the skin things are and how they move.

* :mod:`~needlesim.geometry.exchange` - the ``layered`` level: exchange of
  diffusible species between neighbouring layers (conductance from the layer
  thicknesses and the mediator diffusivity);
* :mod:`~needlesim.geometry.grid` - the ``patch`` level's box: periodic in x and y,
  layered in depth (:class:`~needlesim.geometry.grid.PatchGrid`);
* :mod:`~needlesim.geometry.diffusion` - per-layer diffusion on that grid, with
  its exact lateral-FFT / depth-tridiagonal inverse;
* :mod:`~needlesim.geometry.chemotaxis` - Keller-Segel chemotaxis on that grid.

Nothing here knows the biology's rates or the integrators: ``solve`` and
``patch`` put these operators into their right-hand sides.
"""
