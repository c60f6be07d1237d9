"""Warm response times of the web app: Explore run, plan, first paint. Prints a table.

Starts the app on a free loopback port in this process, waits for ``/healthz``
(the warm-up compiles the model), then times, each ``--repeat`` times:

* **Explore run (server)**: one Explore course of a new protocol (same number
  of sessions as the warm-up, so no recompilation), through the page's own
  function, the app's result cache bypassed;
* **Explore run (browser)**: click Run until the outcome table is drawn, in
  Debian's Chromium (skipped when it is not installed);
* **plan**: a plan for a new patient (Fitzpatrick V, a new age each time) with the
  healing model, as the Plan page computes it (screen, shortlist, bands); with
  ``--plan-double``, the analytic test double instead (the planner's own cost
  without the model; the warm-up then compiles the Explore course only);
* **first paint**: load ``/plan`` until the form is drawn.

Targets (issue 12): Explore < 1 s, plan < 3 s on 2 cores.

``ratio``: a warm Explore run (server) over the case's time, measured in the same
run (< 1: slower than one Explore course).

Run: ``python benchmarks/bench_app.py [--repeat 3] [--plan-double]``
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
import urllib.request
from pathlib import Path

from timing import timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--plan-double", action="store_true", help="plan with the analytic test double"
    )
    args = parser.parse_args()

    from needlesim.app import explore, plan
    from needlesim.app import server as app_server
    from needlesim.app.state import CACHE, READY, SETTINGS
    from needlesim.config import Patient

    if args.plan_double:
        from needlesim.testing.analytic import AnalyticEvaluator

        SETTINGS["evaluator"] = AnalyticEvaluator()
    t0 = time.perf_counter()
    srv = app_server.make_server("127.0.0.1", 0)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_port}"
    while not READY.ready.is_set() and not READY.error:
        time.sleep(0.2)
    if READY.error:
        raise SystemExit(READY.error)
    with urllib.request.urlopen(f"{url}/healthz") as answer:
        assert answer.status == 200
    rows: list[tuple[str, list[float], str]] = [
        ("start to /healthz 200 (warm-up)", [time.perf_counter() - t0], "")
    ]

    def explore_server(i: int) -> None:
        values = [35, "female", 3, "cheek", "atrophic_acne_scars", "moderate",
                  "roller", 1.0 + 0.1 * (i + 1), 8, 3, 28.0, "roller", 0.5, 8, 3, 28.0]  # fmt: skip
        CACHE._data.clear()
        explore.run([], values)

    rows.append(("Explore run (server)", timed(explore_server, args.repeat), "< 1 s"))

    def plan_once(i: int) -> None:
        CACHE._data.clear()
        plan.compute(Patient(age_years=30 + i, fitzpatrick=5), [], False)

    label = "plan (test double, no model)" if args.plan_double else "plan (healing model)"
    rows.append((label, timed(plan_once, args.repeat), "< 3 s"))

    if Path("/usr/bin/chromium").exists():
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
            )
            page = browser.new_page()
            page.set_default_timeout(600_000)

            def paint(_: int) -> None:
                page.goto(f"{url}/plan")
                page.wait_for_selector("#plan-run")

            rows.append(("first paint of /plan (browser)", timed(paint, args.repeat), ""))

            def explore_browser(i: int) -> None:
                page.goto(f"{url}/explore")
                page.wait_for_selector("#explore-run")
                page.fill("#explore-a-needle", f"{1.05 + 0.1 * i:g}")
                page.click("#explore-run")
                page.wait_for_selector("#explore-observables")

            rows.append(("Explore run (browser, incl. page load)",
                         timed(explore_browser, args.repeat), "< 1 s"))  # fmt: skip
            browser.close()
    srv.shutdown()

    explore_s = statistics.median(rows[1][1])
    print(f"\nneedlesim app, warm response times (s), {args.repeat} repeats")
    print(f"{'what':42s} {'median':>8s} {'min':>8s} {'max':>8s} {'ratio':>7s}  target")
    for name, times, target in rows:
        med = statistics.median(times)
        print(
            f"{name:42s} {med:8.2f} {min(times):8.2f} {max(times):8.2f} "
            f"{explore_s / med:7.2f}  {target}"
        )


if __name__ == "__main__":
    main()
