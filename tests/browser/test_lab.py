"""Notebooks in a real JupyterLab in headless Chromium: they run, their widgets and figures render, and moving each
notebook's main control changes a figure within 2 s. Then 20 one-step moves are timed (key press to redraw) and written
to build/widget_latency.json — `effdl bench widgets --from build/widget_latency.json` prints the table; nothing about
the timings is asserted. Skipped, with the reason, only where Chromium is absent.
"""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

import pytest
from labdriver import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    LabServer,
    chromium_missing_reason,
    copy_fixture,
    latency_summary,
    measure_main_control,
    move_main_control,
    open_and_run_all,
    prepare_notebooks,
    problems,
    screenshot,
)

from effdl import series

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "build" / "screenshots"
# Key press to redraw of every chapter's main control, written for `effdl bench widgets --from`; reported, not asserted.
LATENCY = ROOT / "build" / "widget_latency.json"
FIXTURE = Path(__file__).parent / "fixtures" / "broken_widget.ipynb"
# Every chapter's widgets are proven in the browser: it runs in JupyterLab and its main control drives a figure.
CHAPTERS = [c.name for c in series.CATALOGUE]

_reason = chromium_missing_reason()
pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),  # one JupyterLab, one worker
    pytest.mark.skipif(_reason is not None, reason=str(_reason)),
]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    work = tmp_path_factory.mktemp("lab")
    root = work / "notebooks"
    prepare_notebooks([ROOT / "notebooks" / f"{name}.ipynb" for name in CHAPTERS], root)
    copy_fixture(FIXTURE, root)
    with LabServer(root, work) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS[1:])
        try:
            yield server, browser
        finally:
            browser.close()


def _shutdown_kernels(server: LabServer) -> None:
    """Free the cores for the next notebook: each open notebook keeps its kernel alive otherwise."""
    base = f"http://127.0.0.1:{server.port}/api/kernels"
    auth = {"Authorization": f"token {server.token}"}
    with urllib.request.urlopen(urllib.request.Request(base, headers=auth), timeout=10) as r:
        kernels = json.load(r)
    for k in kernels:
        req = urllib.request.Request(f"{base}/{k['id']}", method="DELETE", headers=auth)
        urllib.request.urlopen(req, timeout=30).close()


def _save_latency(chapter: str, row: dict) -> None:
    LATENCY.parent.mkdir(parents=True, exist_ok=True)
    rows = json.loads(LATENCY.read_text()) if LATENCY.exists() else {}
    rows[chapter] = row
    LATENCY.write_text(json.dumps(rows, indent=1))


def _page(browser):
    return browser.new_page(viewport={"width": 1400, "height": 1000})


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_notebook_runs_in_jupyterlab_and_its_main_control_drives_a_figure(lab, chapter):
    server, browser = lab
    page = _page(browser)
    try:
        open_and_run_all(page, server, f"{chapter}.ipynb")
        found = problems(page)
        assert not found, f"{chapter}: " + "; ".join(found)
        move_main_control(page, within_s=2.0)
        times = measure_main_control(page, moves=20)
        _save_latency(chapter, {**latency_summary(times), "load": os.getloadavg()[0], "times_ms": times})
    except BaseException:
        shot = screenshot(page, chapter, SCREENSHOTS)
        print(f"screenshot: {shot}")
        raise
    finally:
        page.close()
        _shutdown_kernels(server)


def test_a_broken_widget_is_caught(lab):
    """The checks are not vacuous: a widget whose front-end cannot load is reported."""
    server, browser = lab
    page = _page(browser)
    try:
        open_and_run_all(page, server, FIXTURE.name, timeout_s=120)
        found = problems(page)
        assert any("failed to render" in f for f in found), found
        with pytest.raises(AssertionError, match="no main control"):
            move_main_control(page)
    finally:
        page.close()
        _shutdown_kernels(server)


def test_kernels_talk_to_the_server_encrypted_where_supported(lab):
    """`effdl lab` asks for CurveZMQ kernel encryption: notebooks still run, and ipykernel does not warn about plain
    TCP in the server's log (its kernels write their stderr there)."""
    server, browser = lab
    if not series.kernel_encryption():
        pytest.skip("this jupyter_client has no transport_encryption setting (before 8.9)")
    page = _page(browser)
    try:
        open_and_run_all(page, server, FIXTURE.name, timeout_s=120)  # a kernel started and ran every cell
    finally:
        page.close()
        _shutdown_kernels(server)
    log = server.log.read_text()
    assert "Kernel started" in log and "without encryption" not in log
