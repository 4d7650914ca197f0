"""Drive a real JupyterLab in headless Debian Chromium: open a notebook, run all cells, check what a reader sees.

Used by test_lab.py. The server binds to 127.0.0.1 on a free port with a random token, runs from a temporary copy of
the notebooks (parameterized with QUICK=True, as papermill would), and is stopped by its process-group PID.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable
from pathlib import Path

from effdl.cli import lab_command

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# JupyterLab's status bar reads "Python 3 (ipykernel) | Idle" once the kernel is up and waiting.
KERNEL_IDLE = "() => /\\| Idle/.test(document.querySelector('#jp-main-statusbar')?.innerText || '')"
NOTHING_RUNNING = (
    "() => /\\| Idle/.test(document.querySelector('#jp-main-statusbar')?.innerText || '') && "
    "![...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].some(p => p.textContent.includes('*'))"
)
PROMPTS = "() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(p => p.textContent)"
STDERR_OUTPUTS = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
PLOTLY_DATA = "() => [...document.querySelectorAll('.js-plotly-plot')].map(g => JSON.stringify(g.data || []))"


def chromium_missing_reason() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not Path(CHROMIUM).exists():
        return f"Chromium not found at {CHROMIUM} (install it with: apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed (pip install -e '.[dev]')"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _settings(root: Path) -> None:
    """Lab settings for a test run: every cell in the DOM, the kernel started without a dialog, no news popups."""
    tracker = root / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True, exist_ok=True)
    (tracker / "tracker.jupyterlab-settings").write_text(
        json.dumps({"windowingMode": "none", "autoStartDefaultKernel": True})
    )
    apputils = root / "@jupyterlab" / "apputils-extension"
    apputils.mkdir(parents=True, exist_ok=True)
    (apputils / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )


def prepare_notebooks(sources: Iterable[Path], dest: Path, parameters: dict | None = None) -> list[Path]:
    """Copy notebooks into ``dest`` with papermill's injected-parameters cell (default QUICK=True)."""
    import nbformat
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for src in sources:
        nb = load_notebook_node(str(src))
        if any("parameters" in c.metadata.get("tags", []) for c in nb.cells):
            nb = parameterize_notebook(nb, parameters if parameters is not None else {"QUICK": True})
        path = dest / src.name
        nbformat.write(nb, path)
        out.append(path)
    return out


class LabServer:
    """JupyterLab on 127.0.0.1 with a token, serving ``root``; use as a context manager."""

    def __init__(self, root: Path, workdir: Path) -> None:
        self.root, self.workdir = root, workdir
        self.port = _free_port()
        self.token = secrets.token_urlsafe(24)
        self.proc: subprocess.Popen | None = None
        self.log = workdir / "jupyterlab.log"

    def url(self, notebook: str) -> str:
        # A workspace of its own per notebook, reset: no tab from an earlier test is restored next to it.
        workspace = Path(notebook).stem.replace("_", "-")
        return f"http://127.0.0.1:{self.port}/lab/workspaces/{workspace}/tree/{notebook}?reset&token={self.token}"

    def __enter__(self) -> LabServer:
        settings = self.workdir / "lab-settings"
        _settings(settings)
        env = dict(
            os.environ,
            JUPYTERLAB_SETTINGS_DIR=str(settings),
            JUPYTERLAB_WORKSPACES_DIR=str(self.workdir / "lab-workspaces"),
            EFFDL_PROGRESS="0",
            # the other pytest-xdist worker runs notebooks meanwhile: one thread per kernel instead of oversubscribing
            OMP_NUM_THREADS=os.environ.get("EFFDL_LAB_THREADS", "1"),
            MKL_NUM_THREADS=os.environ.get("EFFDL_LAB_THREADS", "1"),
            # the kernelspec starts "python" from PATH: make it this interpreter
            PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
        )
        # the command `effdl lab` runs, on this folder (--allow-root is harmless when not root)
        cmd = lab_command(port=self.port, token=self.token, browser=False, root=self.root)
        if "--allow-root" not in cmd:
            cmd.append("--allow-root")
        self.proc = subprocess.Popen(
            cmd, env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/status?token={self.token}", timeout=2)
                return self
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"JupyterLab did not answer within 120 s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        # The whole process group: the server and the kernels it started.
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _status_bar(page) -> str:
    with contextlib.suppress(Exception):
        return page.evaluate("() => document.querySelector('#jp-main-statusbar')?.innerText || ''")
    return "(page did not answer)"


def wait_for_kernel(page, server: LabServer, *, timeout_s: float = 90) -> None:
    """Wait until the notebook's kernel is idle; reload the page once if it is not within ``timeout_s``.

    On a loaded machine the front end now and then never sees its kernel's first status (the status bar stays at
    "Connecting" or "Unknown") although the server started the kernel; a reload reconnects, as a reader would do.
    A second miss fails with what the status bar said and the tail of the server's log.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in (1, 2):
        try:
            page.wait_for_function(KERNEL_IDLE, timeout=timeout_s * 1000, polling=500)
            return
        except PlaywrightTimeout:
            status = _status_bar(page)
            dialog = page.locator(".jp-Dialog")
            if dialog.count():  # e.g. "Select Kernel": accept the default, as a reader would
                status += f"; dialog: {dialog.first.inner_text()[:200]!r}"
                with contextlib.suppress(Exception):
                    dialog.locator(".jp-mod-accept").first.click(timeout=5_000)
            if attempt == 2:
                log = server.log.read_text()[-2000:] if server.log.exists() else ""
                raise AssertionError(
                    f"the kernel was not idle within {timeout_s:.0f} s, twice (page reloaded once); "
                    f"status bar: {status!r}; server log tail:\n{log}"
                ) from None
            print(f"kernel not idle within {timeout_s:.0f} s (status bar: {status!r}); reloading the page")
            page.reload()
            page.wait_for_selector(".jp-NotebookPanel .jp-Notebook", timeout=120_000)


def open_and_run_all(page, server: LabServer, notebook: str, *, timeout_s: float = 600) -> None:
    """Open ``notebook``, wait for its kernel, Run → Run All Cells, and wait until nothing is running."""
    page.goto(server.url(notebook))
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook", timeout=120_000)
    # The kernel reports idle once on start and may restart; wait for a steady idle before running.
    wait_for_kernel(page, server)
    time.sleep(2)
    wait_for_kernel(page, server)
    page.click(".lm-MenuBar-itemLabel:text-is('Run')")
    page.click("[data-command='runmenu:run-all']")
    time.sleep(1)
    page.wait_for_function(NOTHING_RUNNING, timeout=timeout_s * 1000, polling=1000)
    time.sleep(1.5)  # a queued cell can flip the kernel back to busy for a moment
    page.wait_for_function(NOTHING_RUNNING, timeout=timeout_s * 1000, polling=1000)


def problems(page) -> list[str]:
    """What a reader would see go wrong: error outputs, cells left unrun, widgets or figures that failed to render."""
    found = []
    # A cell whose input is collapsed (the hidden record cells) shows a placeholder prompt without a number; it is
    # followed by visible cells, so an error in it still shows as an error output and as later cells left unrun.
    prompts = page.evaluate(
        """() => [...document.querySelectorAll('.jp-CodeCell')].map(c => {
            const p = c.querySelector('.jp-InputPrompt:not(.jp-Placeholder-prompt)');
            return p ? p.textContent : null;
        })"""
    )
    unrun = [i for i, p in enumerate(prompts) if p is not None and not any(ch.isdigit() for ch in p)]
    if unrun:
        found.append(f"code cells {unrun} did not run (Run All stops at the first error)")
    errors = page.evaluate(
        "(sel) => [...document.querySelectorAll(sel)].map(e => e.innerText)"
        ".filter(t => t.includes('Traceback') || /^\\w+Error/m.test(t))",
        STDERR_OUTPUTS,
    )
    found += [f"error output: {e[:300]}" for e in errors]
    broken = page.locator(".jupyter-widgets-error-widget").count()
    if broken:
        found.append(f"{broken} widget(s) failed to render (Error displaying widget)")
    outputs = page.evaluate(
        "() => [...document.querySelectorAll('.jp-OutputArea-output')].filter(o => o.querySelector('.jupyter-widgets'))"
        ".length"
    )
    declared = page.evaluate(
        "() => [...document.querySelectorAll('.jp-OutputArea-output')].filter(o => "
        "/Loading widget|Error displaying widget/.test(o.innerText)).length"
    )
    if declared:
        found.append(f"{declared} widget output(s) show 'Loading widget…' or an error instead of the widget")
    if outputs == 0 and page.locator(".jupyter-widgets").count() == 0:
        found.append("no widget rendered (.jupyter-widgets)")
    # A FigureWidget gets its traces from the kernel a moment after its div exists: give it a few seconds (a
    # timeout is reported below, with the counts).
    with contextlib.suppress(Exception):
        page.wait_for_function(
            "() => [...document.querySelectorAll('.js-plotly-plot')].every(g => (g.data || []).length > 0)",
            timeout=10_000,
            polling=200,
        )
    traces = page.evaluate("() => [...document.querySelectorAll('.js-plotly-plot')].map(g => (g.data || []).length)")
    if not traces:
        found.append("no plotly figure rendered (.js-plotly-plot)")
    elif not all(traces):
        found.append(f"plotly figures without traces: {traces}")
    return found


def move_main_control(page, *, within_s: float = 2.0) -> str:
    """Move the notebook's main control (class ``effdl-main-control``) and wait until a plotly figure's data changes.

    Sliders are moved with the keyboard, as a reader would; dropdowns get another option. Returns what was done.
    """
    control = page.locator(".effdl-main-control").first
    if control.count() == 0:
        raise AssertionError("no main control (.effdl-main-control) on the page")
    control.scroll_into_view_if_needed()
    before = page.evaluate(PLOTLY_DATA)
    handle = control.locator(".noUi-handle")
    select = control.locator("select")
    if handle.count():
        handle.first.focus()
        # A slider that starts at its right end (e.g. "the last step") is moved left, as a reader would.
        at_end = handle.first.get_attribute("aria-valuenow") == handle.first.get_attribute("aria-valuemax")
        key = "ArrowLeft" if at_end else "ArrowRight"
        for _ in range(3):
            page.keyboard.press(key)
        action = f"slider moved three steps {'left' if at_end else 'right'}"
    elif select.count():
        options = select.first.evaluate("s => [...s.options].map(o => o.value)")
        current = select.first.evaluate("s => s.value")
        other = next(v for v in options if v != current)
        select.first.select_option(other)
        action = f"dropdown set to {other!r}"
    else:
        raise AssertionError("the main control is neither a slider nor a dropdown")
    try:
        page.wait_for_function(
            "(before) => { const now = [...document.querySelectorAll('.js-plotly-plot')]"
            ".map(g => JSON.stringify(g.data || []));"
            " return now.length !== before.length || now.some((d, i) => d !== before[i]); }",
            arg=before,
            timeout=within_s * 1000,
            polling=100,
        )
    except Exception as err:
        raise AssertionError(f"{action}, but no figure changed within {within_s} s") from err
    return action


def screenshot(page, name: str, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def copy_fixture(src: Path, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(src, dest / src.name))


# In the page: the time of the last key press (or option choice), and of the last change anywhere in the control's
# output area outside the control itself (the figure's SVG, a readout; a figure replaced by a new one counts too), both
# on the page's performance.now() clock.
_LATENCY_PROBE = """(control) => {
  const area = control.closest('.jp-OutputArea') || document.body;
  const probe = window.__effdlProbe = {t0: 0, last: 0};
  const obs = new MutationObserver(records => {
    if (records.some(r => !control.contains(r.target))) probe.last = performance.now();
  });
  obs.observe(area, {subtree: true, childList: true, attributes: true, characterData: true});
  document.addEventListener('keydown', () => { probe.t0 = performance.now(); probe.last = 0; }, true);
  return area.querySelectorAll('.js-plotly-plot').length;
}"""
_REDRAWN = "(quiet) => { const p = window.__effdlProbe; return p.last > p.t0 && performance.now() - p.last > quiet; }"


def measure_main_control(page, *, moves: int = 24, quiet_ms: float = 300, timeout_s: float = 10) -> list[float]:
    """Milliseconds from each one-step key press on the main slider to the end of the redraw (no further change in
    the control's output area for ``quiet_ms``), over ``moves`` presses (right until the end of the slider, then
    left). A dropdown main control gets its neighbouring option chosen ``moves`` times, timed from the choice.
    """
    control = page.locator(".effdl-main-control").first
    if control.count() == 0:
        raise AssertionError("no main control (.effdl-main-control) on the page")
    control.scroll_into_view_if_needed()
    plots = control.evaluate(_LATENCY_PROBE)
    if not plots:
        raise AssertionError("the main control's output has no plotly figure to time")
    handle = control.locator(".noUi-handle")
    select = control.locator("select")
    if not handle.count() and not select.count():
        raise AssertionError("the main control is neither a slider nor a dropdown")
    times: list[float] = []
    if handle.count():
        handle.first.focus()
        key = "ArrowRight"
        for _ in range(moves):
            before = handle.first.get_attribute("aria-valuenow")
            page.keyboard.press(key)
            if handle.first.get_attribute("aria-valuenow") == before:  # at the end: turn round
                key = "ArrowLeft" if key == "ArrowRight" else "ArrowRight"
                page.keyboard.press(key)
            page.wait_for_function(_REDRAWN, arg=quiet_ms, timeout=timeout_s * 1000, polling=20)
            times.append(page.evaluate("() => window.__effdlProbe.last - window.__effdlProbe.t0"))
        return times
    options = select.first.evaluate("s => [...s.options].map(o => o.value)")
    i = options.index(select.first.evaluate("s => s.value"))
    step = 1
    for _ in range(moves):
        if not 0 <= i + step < len(options):
            step = -step
        i += step
        page.evaluate("() => { window.__effdlProbe.t0 = performance.now(); window.__effdlProbe.last = 0; }")
        select.first.select_option(options[i])
        page.wait_for_function(_REDRAWN, arg=quiet_ms, timeout=timeout_s * 1000, polling=20)
        times.append(page.evaluate("() => window.__effdlProbe.last - window.__effdlProbe.t0"))
    return times


def latency_summary(times: list[float]) -> dict[str, float]:
    """Median and 90th percentile (nearest rank) of key-press-to-redraw times, in ms, and the count."""
    ordered = sorted(times)
    if not ordered:
        raise ValueError("no times to summarize")
    p90 = ordered[min(len(ordered) - 1, max(0, -(-9 * len(ordered) // 10) - 1))]
    mid = len(ordered) // 2
    median = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    return {"median_ms": round(median, 1), "p90_ms": round(p90, 1), "moves": len(ordered)}
