"""Small problems with known behaviour, for verification, benchmarks and examples.

* :func:`gaussian_decay`: diffusion with first-order decay from a point source,
  with its exact solution (method of images for the walls and the periodic
  sides);
* :func:`healing_model`: a reduced wound-healing system of three species
  (growth factor ``c``, fibroblasts ``n``, collagen ``m``) with the same kinds
  of terms as the full kinetics (fast diffusing and decaying signal, migrating
  and chemotactic cells, immobile matrix) and a decaying injury source,

      c' = D_c lap c - k_c c + p_c + p_n (n - 1) + p_w w(x) exp(-k_w t)
      n' = D_n lap n - chi div(n grad c) + r n (1 - n / n_max) (c - c_0) / (K + c) + d (1 - n)
      m' = p_m n c / (K + c) - k_m m

  with baseline ``n = 1``, ``c_0 = p_c / k_c``, ``m_0 = p_m c_0 / ((K + c_0) k_m)``
  (a steady state without injury) and ``w`` the damage field of an injury at
  ``t = 0`` (the model's auxiliary input). At a later session with damage
  ``d`` the state jumps: ``c += c_r d`` (growth factor released by platelets),
  ``n *= 1 - d / 2`` (cells killed), ``m *= 1 - d`` (matrix destroyed);
* :func:`gray_scott_model`: the Gray-Scott system (two species);
* :func:`healing_pypde`: the healing system set up for py-pde, for the
  cross-check and the benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import NDArray

from ..geometry.grid import PatchGrid
from ..patch.model import Chemotaxis, PatchModel, ReactionContext

FloatArray = NDArray[np.float64]


def gaussian_decay_exact(
    grid: PatchGrid,
    t: float,
    *,
    diffusivity: float,
    decay: float,
    centre_um: tuple[float, float, float],
    mass: float = 1.0,
    images: int = 1,
) -> FloatArray:
    """Exact ``u(x, t)`` of ``u' = D lap u - k u`` from a point source of ``mass`` at
    ``t = 0`` on the grid's box (periodic sides, no-flux top and bottom: images).

    ``u = mass (4 pi D t)^(-3/2) exp(-k t) sum_images exp(-|x - x_i|^2 / (4 D t))``.
    """
    lx, ly, lz = grid.lengths_um
    x, y, z = np.meshgrid(grid.x_um, grid.y_um, grid.z_um, indexing="ij")
    cx, cy, cz = centre_um
    four_dt = 4.0 * diffusivity * t
    total = np.zeros(grid.shape)
    z_images = [cz + 2 * n * lz for n in range(-images, images + 1)] + [
        -cz + 2 * n * lz for n in range(-images, images + 1)
    ]
    for ix in range(-images, images + 1):
        gx = np.exp(-((x - cx - ix * lx) ** 2) / four_dt)
        for iy in range(-images, images + 1):
            gxy = gx * np.exp(-((y - cy - iy * ly) ** 2) / four_dt)
            for zc in z_images:
                total += gxy * np.exp(-((z - zc) ** 2) / four_dt)
    return mass * total * np.exp(-decay * t) / (np.pi * four_dt) ** 1.5


def decay_model(diffusivity: float | list[float]) -> PatchModel:
    """One species, ``u' = D lap u - k u`` (``params = k``, 1/day)."""

    def reaction(y: jax.Array, k: Any, ctx: ReactionContext) -> jax.Array:
        return -k * y

    return PatchModel(("u",), [diffusivity], reaction=reaction, name="decay")


@dataclass(frozen=True)
class HealingParameters:
    """Parameters of :func:`healing_model` (lengths um, times days)."""

    d_c: float = 8.64e5
    """Growth-factor diffusivity (1e-7 cm^2/s)."""
    k_c: float = 24.0
    """Growth-factor decay (half-life ~40 min)."""
    p_c: float = 24.0
    """Baseline production (c_0 = p_c / k_c = 1)."""
    p_n: float = 2.0
    """Extra production per fibroblast above baseline density."""
    p_w: float = 200.0
    """Production from the injury signal."""
    k_w: float = 0.5
    """Decay of the injury signal (clot, platelets)."""
    d_n: float = 5.0e3
    """Fibroblast random motility."""
    chi: float = 2.0e3
    """Chemotactic sensitivity (um^2/day per unit c)."""
    r: float = 0.6
    n_max: float = 3.0
    d: float = 0.1
    big_k: float = 1.0
    p_m: float = 0.02
    k_m: float = 0.01
    c_r: float = 5.0
    """Growth factor released per unit damage at a session."""

    def as_pytree(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.__dict__.items()}

    @property
    def c0(self) -> float:
        return self.p_c / self.k_c

    @property
    def m0(self) -> float:
        return self.p_m * self.c0 / ((self.big_k + self.c0) * self.k_m)

    def baseline(self, grid: PatchGrid) -> FloatArray:
        """The steady state without injury, shape ``(3, nx, ny, nz)``."""
        y = np.empty((3, *grid.shape))
        y[0], y[1], y[2] = self.c0, 1.0, self.m0
        return y


def healing_reaction(y: jax.Array, p: dict[str, Any], ctx: ReactionContext) -> jax.Array:
    """Kinetics of :func:`healing_model` for one voxel (``ctx.aux`` is the damage ``w``)."""
    c, n, m = y[0], y[1], y[2]
    c0 = p["p_c"] / p["k_c"]
    sat = c / (p["big_k"] + c)
    dc = (
        -p["k_c"] * c
        + p["p_c"]
        + p["p_n"] * (n - 1.0)
        + p["p_w"] * ctx.aux * jnp.exp(-p["k_w"] * ctx.t)
    )
    dn = p["r"] * n * (1.0 - n / p["n_max"]) * (c - c0) / (p["big_k"] + c) + p["d"] * (1.0 - n)
    dm = p["p_m"] * n * sat - p["k_m"] * m
    return jnp.stack([dc, dn, dm])


def healing_injury(
    y: jax.Array, damage: jax.Array, p: dict[str, Any], ctx: ReactionContext
) -> jax.Array:
    """The jump of :func:`healing_model` at a session (identity where ``damage == 0``)."""
    return jnp.stack([y[0] + p["c_r"] * damage, y[1] * (1.0 - 0.5 * damage), y[2] * (1.0 - damage)])


def healing_model(
    damage: FloatArray, parameters: HealingParameters | None = None, chemotaxis: bool = True
) -> tuple[PatchModel, dict[str, float]]:
    """The reduced healing system on a grid whose damage field is ``damage``."""
    p = parameters or HealingParameters()
    model = PatchModel(
        ("c", "n", "m"),
        [p.d_c, p.d_n, 0.0],
        reaction=healing_reaction,
        injury=healing_injury,
        chemotaxis=(Chemotaxis(cells=1, attractant=0, chi=p.chi),) if chemotaxis else (),
        units=("ng/mL", "1", "1"),
        aux=np.asarray(damage, dtype=np.float64),
        name="healing3",
        linear_decay=healing_linear_decay,
    )
    return model, p.as_pytree()


def healing_linear_decay(p: dict[str, Any]) -> jax.Array:
    """``(3, 5)``: the constant linear loss rates of :func:`healing_reaction` (growth
    factor ``k_c``, fibroblasts ``d``, collagen ``k_m``), the same in every layer, for
    the preconditioner (:attr:`PatchModel.linear_decay`)."""
    rates = jnp.stack([jnp.asarray(p["k_c"]), jnp.asarray(p["d"]), jnp.asarray(p["k_m"])])
    return jnp.broadcast_to(rates[:, None], (3, 5))


@dataclass(frozen=True)
class GrayScottParameters:
    """Gray-Scott: ``u' = D_u lap u - u v^2 + F (1 - u)``,
    ``v' = D_v lap v + u v^2 - (F + k) v``."""

    d_u: float = 2.0e3
    d_v: float = 1.0e3
    feed: float = 0.4
    kill: float = 0.6


def gray_scott_reaction(y: jax.Array, p: dict[str, Any], ctx: ReactionContext) -> jax.Array:
    u, v = y[0], y[1]
    uv2 = u * v * v
    return jnp.stack([-uv2 + p["feed"] * (1.0 - u), uv2 - (p["feed"] + p["kill"]) * v])


def gray_scott_model(
    parameters: GrayScottParameters | None = None,
) -> tuple[PatchModel, dict[str, float]]:
    p = parameters or GrayScottParameters()
    model = PatchModel(("u", "v"), [p.d_u, p.d_v], reaction=gray_scott_reaction, name="gray-scott")
    return model, {"feed": p.feed, "kill": p.kill}


def healing_pypde(
    grid: PatchGrid,
    damage: FloatArray,
    parameters: HealingParameters | None = None,
    *,
    chemotaxis: bool = False,
) -> tuple[Any, Any]:
    """The same :func:`healing_model` equations for py-pde: ``(pde.PDE, initial state)``.

    Needs ``py-pde`` (a test dependency). On a uniform grid both codes use the
    same second-order Laplacian with the same boundary conditions (periodic
    sides, no-flux top and bottom), so without chemotaxis they solve the same
    semi-discrete system and differ only by time-integration error. py-pde's
    chemotaxis term ``divergence(n * gradient(c))`` uses centred differences,
    not the upwind MUSCL fluxes of :mod:`.chemotaxis`.
    """
    import pde  # py-pde: test dependency only

    if len(set(grid.layer_of_z.tolist())) != 1:
        raise ValueError("the py-pde comparison needs a single-layer grid")
    p = parameters or HealingParameters()
    lx, ly, lz = grid.lengths_um
    g = pde.CartesianGrid(
        [(0.0, lx), (0.0, ly), (0.0, lz)], list(grid.shape), periodic=[True, True, False]
    )
    y0 = p.baseline(grid)
    state = pde.FieldCollection(
        [pde.ScalarField(g, y0[i]) for i in range(3)], labels=["c", "n", "m"]
    )
    c0 = p.c0
    chem = f" - {p.chi!r} * divergence(n * gradient(c))" if chemotaxis else ""
    rhs = {
        "c": f"{p.d_c!r} * laplace(c) - {p.k_c!r} * c + {p.p_c!r} + {p.p_n!r} * (n - 1)"
        f" + {p.p_w!r} * w * exp(-{p.k_w!r} * t)",
        "n": f"{p.d_n!r} * laplace(n){chem}"
        f" + {p.r!r} * n * (1 - n / {p.n_max!r}) * (c - {c0!r}) / ({p.big_k!r} + c)"
        f" + {p.d!r} * (1 - n)",
        "m": f"{p.p_m!r} * n * c / ({p.big_k!r} + c) - {p.k_m!r} * m",
    }
    consts: dict[str, Any] = {"w": pde.ScalarField(g, damage)}
    eq = pde.PDE(rhs, bc="auto_periodic_neumann", consts=consts)
    return eq, state
