"""The web app's server: the Dash app, page routing, ``/healthz`` and :func:`serve`.

Dash (Flask + React + plotly.js) serves every asset from the installed
packages (``serve_locally``): no CDN, web font or telemetry; the app works with
no network at all. Requests are served by threads, so a long run (a cohort, a
plan search) never blocks another user's page; the runs themselves go to
background jobs (:mod:`.state`).

At start a warm-up thread compiles the model (with JAX's persistent compilation
cache, so a restart is fast); ``/healthz`` answers 200 once it is done and 503
before.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from dash import Dash, Input, Output, dcc, html

from .state import READY, SETTINGS

PAGES = {
    "/plan": "Plan",
    "/explore": "Explore",
    "/studies": "Studies",
    "/validation": "Validation",
}
"""Path -> title of every page, in menu order."""
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def enable_compilation_cache() -> None:
    """Create JAX's persistent compilation cache folder (a restart reuses compiled code).

    The folder and thresholds are set once, when :mod:`needlesim` is imported
    (``$NEEDLESIM_CACHE_DIR/jax``, every compilation cached, ``NEEDLESIM_NO_CACHE=1``
    switches it off); this only makes sure the folder can be written.
    """
    from ..io.paths import jax_cache_dir

    path = jax_cache_dir()
    if path is not None:
        with contextlib.suppress(OSError):  # a read-only home: compile each time
            path.mkdir(parents=True, exist_ok=True)


def _page(path: str | None) -> Any:
    from . import explore, plan, studies, validation

    modules = {"/plan": plan, "/explore": explore, "/studies": studies, "/validation": validation}
    module = modules.get(path or "/", plan if (path or "/") == "/" else None)
    if module is None:
        return html.Div([html.H1("Not found"), html.P(f"No page at {path}.")])
    return module.layout()


def create_app() -> Dash:
    """The Dash app with every page registered (callbacks are module-level)."""
    from . import explore, plan, studies, validation  # noqa: F401  (register callbacks)

    app = Dash(
        __name__,
        title="needlesim",
        update_title="",
        serve_locally=True,
        suppress_callback_exceptions=True,
        assets_folder=str(Path(__file__).parent / "assets"),
    )
    # No dev tools and no version check: the page never asks plotly's servers anything.
    app.enable_dev_tools(
        debug=False, dev_tools_ui=False, dev_tools_hot_reload=False,
        dev_tools_disable_version_check=True,
    )  # fmt: skip
    app.layout = html.Div(
        [
            dcc.Location(id="url"),
            html.Header(
                [
                    html.Span("needlesim", className="brand"),
                    html.Nav(
                        [
                            dcc.Link(t, href=p, className="nav-link", id=f"nav-{t.lower()}")
                            for p, t in PAGES.items()
                        ]
                    ),
                    html.Span(
                        "In-silico decision support; not a substitute for clinical judgement.",
                        className="header-note",
                    ),
                ],
                className="no-print",
            ),
            html.Main(id="page"),
        ]
    )

    @app.callback(Output("page", "children"), Input("url", "pathname"))
    def _route(path: str | None) -> Any:
        return _page(path)

    @app.server.route("/healthz")
    def _healthz() -> tuple[str, int, dict[str, str]]:
        if READY.error:
            return f"warm-up failed: {READY.error}\n", 500, {"Content-Type": "text/plain"}
        if READY.ready.is_set():
            return f"ok (warm-up {READY.warmup_s:.1f} s)\n", 200, {"Content-Type": "text/plain"}
        return "warming up\n", 503, {"Content-Type": "text/plain"}

    return app


def warm_up() -> None:
    """Compile the model on the courses the pages start with and on a plan's search (its
    screen and its shortlist have fixed shapes), then mark the app ready."""
    start = time.perf_counter()
    try:
        enable_compilation_cache()
        from . import explore, plan

        values = [
            35,
            "female",
            3,
            "cheek",
            "atrophic_acne_scars",
            "moderate",
            "roller",
            1.5,
            8,
            3,
            28.0,
            "roller",
            0.5,
            8,
            3,
            28.0,
        ]
        explore.run([], values)
        if SETTINGS.get("evaluator") is None and not os.environ.get("NEEDLESIM_APP_QUICK_START"):
            from ..config import Patient

            plan.services.plan(Patient(fitzpatrick=3, region="cheek"))
        READY.warmup_s = time.perf_counter() - start
        READY.ready.set()
    except Exception as exc:  # reported by /healthz
        READY.error = f"{type(exc).__name__}: {exc}"


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (or ``localhost``)."""
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def make_server(host: str = "127.0.0.1", port: int = 8050, *, warm: bool = True) -> Any:
    """A threaded WSGI server for the app (not started); warm-up begins in the background."""
    from werkzeug.serving import make_server as _make

    app = create_app()
    if warm:
        threading.Thread(target=warm_up, name="needlesim-warmup", daemon=True).start()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    return _make(host, port, app.server, threaded=True)


def serve(host: str = "127.0.0.1", port: int = 8050) -> None:
    """Run the app until interrupted (``needlesim serve``).

    Binds to loopback by default; any other address is reachable by other
    machines, so a warning is printed (the app has no login).
    """
    if not is_loopback(host):
        print(
            f"warning: listening on {host}, not loopback: anyone who can reach this machine "
            "can use the app (there is no login). Use --host 127.0.0.1 to keep it local.",
            file=sys.stderr,
        )
    server = make_server(host, port)
    shown = f"[{host}]" if ":" in host else host
    print(
        f"needlesim app on http://{shown}:{server.server_port}/ (warming up the model; "
        "/healthz answers 200 when ready). Ctrl+C stops it.",
        file=sys.stderr,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


__all__ = ["PAGES", "create_app", "is_loopback", "make_server", "serve", "warm_up"]
