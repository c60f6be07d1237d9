"""On-disk cache of the traced and lowered layered solve (``jax.export``).

JAX's persistent compilation cache (configured in :mod:`needlesim`) skips the
XLA compilation of a second process, but not the Python tracing and lowering
of the solve (diffrax's loops, the ARK5 stages, every reaction term), which
is most of a warm ``needlesim simulate``. This module serializes the lowered
solve with :func:`jax.export.export` into the user cache folder
(``$NEEDLESIM_CACHE_DIR/export``, see :mod:`needlesim.io.paths`) and, in a
later process, deserializes and calls it, tracing nothing.

The file name is a SHA-256 key of everything the lowered program depends on:
needlesim's version and the hash of its source files, the versions of jax,
jaxlib, diffrax, equinox and lineax, the backend, the function's name, the
tree structure, shapes and dtypes of its arguments and the static solver
options. A changed input shape is a different file (a miss: export again);
the file name also carries a short hash of the versions and sources, and
files of other versions are deleted when a new one is written.
Each file carries the SHA-256 of its payload; a damaged, truncated or
incompatible file, a read-only folder or any error while exporting or calling
falls back silently to the plain ``jax.jit`` path. ``NEEDLESIM_NO_CACHE=1``
switches the cache off.

The exported program is the same StableHLO as the plain path's, so results
are bit-identical (``tests/test_export_cache.py``). One difference in how it
is traced: equinox's run-time checks inside diffrax (``eqx.error_if``, e.g.
that the save times are sorted and inside the segment) are traced with
``on_error="nan"`` instead of a host callback, because a host callback can
neither be exported nor stored in the compilation cache. The solves that use
this path run with ``throw=False`` and flag non-finite saves as failed
segments, so a check that fires still ends in the retry and
:class:`~needlesim.solve.errors.SolveError`, never in silent NaNs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import importlib.metadata
import io
import json
import os
import pickle
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import jax

from ..io.paths import cache_enabled, user_cache_dir
from ..io.provenance import source_hash

FORMAT = 1
"""Bumped when the file layout or the key changes."""
MAGIC = b"needlesim-export\n"
_DIGEST = hashlib.sha256().digest_size
_PACKAGES = ("jax", "jaxlib", "diffrax", "equinox", "lineax")
_EXPORTING = threading.Lock()
"""One export at a time: the equinox patch below must not interleave between threads."""
_LOADED: dict[str, Callable[..., Any]] = {}
"""Key -> jitted call of the deserialized program (once per process)."""


def export_dir() -> Path | None:
    """``<user cache>/export``, or None when ``NEEDLESIM_NO_CACHE`` is set."""
    return user_cache_dir() / "export" if cache_enabled() else None


@functools.cache
def _versions() -> tuple[str, ...]:
    from .. import __version__

    found = [f"needlesim={__version__}", f"source={source_hash()}"]
    for name in _PACKAGES:
        try:
            found.append(f"{name}={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{name}=?")
    return tuple(found)


def _release() -> str:
    """12 hex digits naming the versions and sources (the file name's middle part)."""
    return hashlib.sha256("\n".join(_versions()).encode()).hexdigest()[:12]


def _prune(folder: Path, name: str) -> None:
    """Delete ``name``'s files written by other versions or sources (they can never hit)."""
    for old in folder.glob(f"{name}-*.bin"):
        if old.name.count("-") == name.count("-") + 2 and old.name.split("-")[-2] != _release():
            with contextlib.suppress(OSError):
                old.unlink()


def cache_key(name: str, leaves: Sequence[Any], treedef: Any, static: Any) -> str:
    """SHA-256 (hex) of the versions, the backend, ``name``, the argument structure,
    shapes and dtypes, and ``repr(static)``."""
    avals = [(tuple(jax.numpy.shape(x)), str(jax.numpy.result_type(x)), _weak(x)) for x in leaves]
    parts = {
        "format": FORMAT,
        "versions": _versions(),
        "backend": jax.default_backend(),
        "float": str(jax.numpy.result_type(float)),  # float64 unless x64 was switched off
        "name": name,
        "tree": str(treedef),
        "avals": avals,
        "static": repr(static),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _weak(x: Any) -> bool:
    return bool(getattr(getattr(x, "aval", None), "weak_type", False))


@contextlib.contextmanager
def _errors_as_nan() -> Iterator[None]:
    """Trace equinox's ``error_if`` (``on_error="default"``) as ``on_error="nan"``.

    Replaces ``equinox._errors.branched_error_if_impl_jit`` (looked up at call
    time by ``branched_error_if``) with the un-jitted implementation, so no
    jit cache of equinox keeps a NaN-mode trace afterwards.
    """
    from equinox import _errors

    original = _errors.branched_error_if_impl_jit
    impl = _errors.branched_error_if_impl

    def as_nan(x: Any, pred: Any, index: Any, msgs: Any, *, on_error: Any) -> Any:
        return impl(x, pred, index, msgs, on_error="nan" if on_error == "default" else on_error)

    _errors.branched_error_if_impl_jit = as_nan
    try:
        yield
    finally:
        _errors.branched_error_if_impl_jit = original


def _export(fun: Callable[..., Any], treedef: Any, leaves: Sequence[Any]) -> Any:
    def flat(*xs: Any) -> Any:
        return fun(*jax.tree_util.tree_unflatten(treedef, xs))

    shapes = [jax.ShapeDtypeStruct(jax.numpy.shape(x), jax.numpy.result_type(x)) for x in leaves]
    # diffrax's ``diffeqsolve`` is an ``eqx.filter_jit``: a plain trace earlier in this
    # process (host callbacks) would be reused; clear JAX's caches so it is traced anew.
    with _EXPORTING, _errors_as_nan():
        jax.clear_caches()
        return jax.export.export(jax.jit(flat))(*shapes)


class _Unpickler(pickle.Unpickler):
    """Unpickles only JAX's and NumPy's own classes (an ``Exported`` and its avals, tree
    definitions, shardings); anything else in the file is treated as damage."""

    def find_class(self, module: str, name: str) -> Any:
        if module.split(".")[0] in ("jax", "jaxlib", "numpy") or (
            module == "builtins" and name in _BUILTINS
        ):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in an export file")


_BUILTINS = frozenset({"tuple", "list", "dict", "set", "frozenset", "bytes", "bytearray", "slice"})


def _read(path: Path) -> Any:
    """The stored ``Exported`` in ``path``, or None (missing, damaged, incompatible)."""
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    head = len(MAGIC) + _DIGEST
    payload = blob[head:]
    if blob[: len(MAGIC)] != MAGIC or hashlib.sha256(payload).digest() != blob[len(MAGIC) : head]:
        return None
    try:
        exported = _Unpickler(io.BytesIO(payload)).load()
    except Exception:  # written by another version of a library: export again
        return None
    return exported if isinstance(exported, jax.export.Exported) else None


def _write(path: Path, exported: Any) -> None:
    """Pickle ``exported`` (without its VJP builder, a closure) atomically: a temporary
    file, then a rename. A failure only costs the next process an export.

    Pickle rather than ``Exported.serialize``: the latter needs the optional
    ``flatbuffers`` package, and the key already pins every library version.
    """
    tmp = ""
    try:
        payload = pickle.dumps(dataclasses.replace(exported, _get_vjp=None), protocol=5)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(MAGIC + hashlib.sha256(payload).digest() + payload)
        os.replace(tmp, path)
    except Exception:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def cached_call(
    name: str, fun: Callable[..., Any], args: tuple[Any, ...], static: Any
) -> Any | None:
    """``fun(*args)`` through the exported program of this key (loaded, or exported and
    stored); None when the cache is off or anything fails (the caller then runs the plain
    path, and always for traced arguments). ``fun`` must be pure, its non-array settings closed
    over and named by ``static``."""
    folder = export_dir()
    if folder is None:
        return None
    try:
        leaves, treedef = jax.tree_util.tree_flatten(args)
        if any(isinstance(x, jax.core.Tracer) for x in leaves):
            return None  # inside a transformation (grad, vmap, jit): trace as usual
        key = cache_key(name, leaves, treedef, static)
        call = _LOADED.get(key)
        if call is None:
            path = folder / f"{name}-{_release()}-{key[:32]}.bin"
            exported = _read(path)
            if exported is None:
                exported = _export(fun, treedef, leaves)
                _prune(folder, name)
                _write(path, exported)
            call = jax.jit(exported.call)
            out = call(*leaves)
            _LOADED[key] = call
            return out
        return call(*leaves)
    except Exception:
        return None
