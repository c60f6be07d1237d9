"""The web app in a real Chromium (Debian's /usr/bin/chromium, driven by Playwright).

One server per module (in this process, on a free loopback port). Plans and
Explore run the healing model (compiled once by the warm-up: the Explore
course and a plan's search); cohorts use the analytic test double
(``needlesim.testing.analytic``), slowed down so that progress and Cancel can be
seen, since a model cohort takes minutes (the cohort runner is tested with the
model elsewhere).

Every request the browser makes is intercepted: one to any host other than
the loopback address fails the test. Each page is saved as a screenshot (to a
temporary folder, or to ``$NEEDLESIM_SCREENSHOTS`` when set, e.g. docs/screenshots).
"""

from __future__ import annotations

import os
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium is not installed (.ci/run installs it)"
    ),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 240_000
"""Longest wait for one page action (the warm model answers in about a second; a loaded
CI machine is slower)."""


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    from needlesim.app import server as app_server
    from needlesim.app.state import READY, SETTINGS
    from needlesim.testing.analytic import AnalyticEvaluator

    # plans with the healing model (the warm-up compiles the search), cohorts with the test
    # double (a cohort of the model takes minutes; the double is slowed to show progress)
    SETTINGS["evaluator"] = None
    SETTINGS["cohort_evaluator"] = AnalyticEvaluator(delay_s=0.3)
    srv = app_server.make_server("127.0.0.1", 0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{srv.server_port}"
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline and not READY.ready.is_set() and not READY.error:
        time.sleep(0.5)
    assert READY.error is None, READY.error
    with urllib.request.urlopen(f"{url}/healthz", timeout=10) as answer:
        assert answer.status == 200
    yield url
    srv.shutdown()
    SETTINGS["evaluator"] = SETTINGS["cohort_evaluator"] = None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("NEEDLESIM_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    """A fresh page whose every request is checked: loopback only."""
    outside: list[str] = []
    context = browser.new_context(viewport={"width": 1360, "height": 900})

    def guard(route: Any) -> None:
        host = urlsplit(route.request.url).hostname
        if host in ("127.0.0.1", "localhost", "::1"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    pg.base = server
    yield pg
    context.close()
    assert outside == [], f"requests left the loopback address: {outside}"


def choose(pg: Any, dropdown_id: str, option: str) -> None:
    """Pick ``option`` (its visible text) in a Dash dropdown."""
    pg.click(f"#{dropdown_id}")
    pg.get_by_role("option", name=option, exact=True).click()
    pg.keyboard.press("Escape")


def wait_plots(pg: Any, n: int, within: str = "main") -> None:
    """Until ``n`` plotly figures are drawn (plotly.js loads after the page)."""
    pg.wait_for_function(
        f"document.querySelectorAll('{within} .js-plotly-plot .main-svg').length >= {n}"
    )


def open_page(pg: Any, path: str, ready: str) -> None:
    pg.goto(pg.base + path)
    pg.wait_for_selector(ready)


def test_plan_type_v_gets_a_recommended_course(page: Any, shots: Path) -> None:
    open_page(page, "/plan", "#plan-run")
    choose(page, "plan-fitzpatrick", "Type V")
    page.fill("#plan-age", "34")
    page.click("#plan-run")
    card = page.wait_for_selector("#plan-recommended")
    text = card.inner_text()
    assert "Recommended" in text and "mm needles" in text
    # the darker-skin precaution is attached automatically for type V
    assert "darker skin fitzpatrick 4 to 6" in page.inner_text("#plan-precautions")
    assert "in 100 patients like this" in text
    assert page.locator("#plan-alternative-1").count() == 1
    wait_plots(page, 3, "#plan-output")
    page.screenshot(path=str(shots / "plan.png"), full_page=True)


def test_plan_refuses_isotretinoin_with_its_reason(page: Any, shots: Path) -> None:
    open_page(page, "/plan", "#plan-run")
    choose(page, "plan-history", "isotretinoin or oral retinoid within 12 months (do not treat)")
    page.click("#plan-run")
    refusal = page.wait_for_selector("#plan-refusal")
    text = refusal.inner_text()
    assert "Do not treat" in text
    assert "isotretinoin or oral retinoid within 12 months" in text
    assert "JAMA Dermatol 2014" in text  # the rule's source
    assert page.locator("#plan-recommended").count() == 0
    page.screenshot(path=str(shots / "plan-refusal.png"), full_page=True)


def test_bad_input_is_shown_next_to_its_field(page: Any) -> None:
    open_page(page, "/plan", "#plan-run")
    page.fill("#plan-age", "150")
    page.click("#plan-run")
    error = page.wait_for_selector("#plan-age-error:not(:empty)")
    # the CLI's message for the same value: the value and what is allowed
    assert error.inner_text() == "150 is out of range; allowed: 16.0 to 90.0"
    assert page.locator("#plan-recommended").count() == 0


def test_explore_compares_two_protocols(page: Any, shots: Path) -> None:
    open_page(page, "/explore", "#explore-run")
    page.fill("#explore-a-needle", "1.5")
    page.fill("#explore-b-needle", "0.25")
    page.check("#explore-compare input[type=checkbox]")
    page.click("#explore-run")
    table = page.wait_for_selector("#explore-observables")
    head = table.inner_text()
    assert "B − A" in head
    row = page.locator("#explore-observables tr", has_text="Dermal collagen").first
    cells = row.locator("td").all_inner_texts()
    # 1.5 mm needles reach the reticular dermis, 0.25 mm ones barely the papillary:
    # the deeper course gains more dermal collagen, so B - A is negative
    assert float(cells[-1].replace("−", "-")) < 0
    # punctures of A and B, depth against the layers, the outcome, the layers over time
    wait_plots(page, 5, "#explore-done")
    page.screenshot(path=str(shots / "explore-ab.png"), full_page=True)


def test_explore_field_error_names_the_protocol_field(page: Any) -> None:
    open_page(page, "/explore", "#explore-run")
    page.fill("#explore-a-needle", "9")
    page.click("#explore-run")
    error = page.wait_for_selector("#explore-a-needle-error:not(:empty)")
    assert error.inner_text() == "9 is out of range; allowed: 0.0 to 3.0"


def test_cohort_starts_and_cancels(page: Any, shots: Path) -> None:
    open_page(page, "/studies", "#studies-run")
    page.fill("#studies-n", "40")
    page.click("#studies-run")
    page.wait_for_function(
        "document.querySelector('#studies-progress').value > 0", timeout=TIMEOUT_MS
    )
    assert page.is_enabled("#studies-cancel")
    page.screenshot(path=str(shots / "studies-running.png"), full_page=True)
    page.click("#studies-cancel")
    page.wait_for_selector("#studies-status:has-text('Cancelled')")
    progress = float(page.get_attribute("#studies-progress", "value") or 0)
    assert 0 < progress < 100
    assert page.locator("#studies-done").count() == 0


def test_cohort_runs_to_predicted_against_measured(page: Any, shots: Path) -> None:
    open_page(page, "/studies", "#studies-run")
    page.fill("#studies-n", "4")
    page.click("#studies-run")
    page.wait_for_selector("#studies-done")
    text = page.inner_text("#studies-table")
    assert "Measured" in text and "95 % of patients" in text
    with page.expect_download() as download:
        page.click("#studies-csv")
    assert download.value.suggested_filename.endswith("-patients.csv")
    wait_plots(page, 1, "#studies-done")
    page.screenshot(path=str(shots / "studies.png"), full_page=True)


def test_validation_page_lists_the_calibration_targets(page: Any, shots: Path) -> None:
    from needlesim.app import services

    open_page(page, "/validation", "#validation-table")
    rows = page.locator("#validation-table tbody tr")
    assert rows.count() == len(services.calibration_report()["targets"])
    # the held-out figure out of the box: the packaged cross-validation (or a local run)
    cv = services.cross_validation()
    assert cv is not None
    held_out = page.locator("#cross-validation-table tbody tr")
    assert held_out.count() == len(cv.measurements)
    assert "within tolerance" in page.locator("#cross-validation-summary").inner_text()
    wait_plots(page, 2)
    page.screenshot(path=str(shots / "validation.png"), full_page=True)
