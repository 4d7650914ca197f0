"""The offline HTML book of the executed series: Sphinx with myst-nb and sphinx-book-theme.

``build_book("build")`` takes the notebooks ``effdl run`` executed into ``build/`` and writes a Sphinx project to
``build/book_src/`` and the site to ``build/book/``: sidebar navigation, previous/next, full-text search, each
chapter with its provenance, plotly figures interactive (plotly.js once for the whole site, from ``_static``), every
widget drawn in the state the run left it with a note to open JupyterLab to move it, record cells hidden (their
``remove-cell`` tag), maths by a local MathJax, and a results page with a label and a unit for every recorded number.
Nothing is fetched from the network, at build time or when reading.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from effdl.core.record import MIME_TYPE
from effdl.series import (
    CATALOGUE,
    _fmt,
    _provenance_text,
    load_results,
    provenance_conflicts,
    records_from_notebook,
    repo_root,
)

PLOTLY_MIME = "application/vnd.plotly.v1+json"
WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json"
WIDGET_NOTE = (
    '<p class="effdl-widget-note"><em>An interactive control, shown as the run left it. Open the notebook in '
    "JupyterLab (<code>effdl lab</code>) to move it.</em></p>"
)

# ---------------------------------------------------------------------------------------------------------------
# Labels and units of recorded numbers, from the naming conventions of the record keys.

_WORDS = {
    "acc": "accuracy",
    "ptq": "PTQ",
    "qat": "QAT",
    "lsq": "LSQ",
    "ste": "STE",
    "kd": "KD",
    "macs": "MACs",
    "flops": "FLOPs",
    "bops": "BOPs",
    "bpc": "bits/char",
    "ft": "fine-tuning",
    "fp": "float",
    "fp32": "float32",
    "lz4": "lz4",
    "zlib6": "zlib -6",
    "zstd3": "zstd -3",
    "r2": "R²",
    "uj": "µJ",
    "us": "µs",
    "mbs": "MB/s",
    "vs": "vs",
    "s1": "S=1",
    "s2": "S=2",
    "s4": "S=4",
    "w255": "W=255",
    "oneshot": "one-shot",
    "edram": "eDRAM",
    "sram": "SRAM",
}

# (suffix of the last key part, unit); the first that matches wins.
_UNITS: tuple[tuple[str, str], ...] = (
    ("_points", "points"),
    ("points", "points"),
    ("accuracy", "%"),
    ("_ratio", "×"),
    ("ratio", "×"),
    ("_ms", "ms"),
    ("_seconds", "s"),
    ("seconds", "s"),
    ("_s", "s"),
    ("_us", "µs"),
    ("_uj", "µJ"),
    ("_uj_per_sample", "µJ/sample"),
    ("_mbs", "MB/s"),
    ("_bpc", "bits/char"),
    ("bpc", "bits/char"),
    ("_bytes", "bytes"),
    ("bytes", "bytes"),
    ("bits", "bits"),
    ("params", "parameters"),
    ("macs", "MACs"),
    ("flops", "FLOPs"),
    ("flops_per_step", "FLOPs"),
    ("refreshes", "refreshes"),
)


def describe_key(key: str, value: Any = None) -> tuple[str, str]:
    """A reader's label and unit for a record key: ``"pruning.global80.drop_points"`` → ``("global80 · drop",
    "points")``. The chapter prefix is dropped (the results page groups by chapter); ``accuracy`` gets ``%`` only when
    the value looks like a percentage (> 1)."""
    parts = key.split(".")[1:] or key.split(".")
    last = parts[-1]
    unit = next((u for suffix, u in _UNITS if last.endswith(suffix)), "")
    if unit == "%" and isinstance(value, int | float) and not isinstance(value, bool) and abs(value) <= 1:
        unit = ""
    if unit == "s" and not re.search(r"(^|_)(s|seconds)$", last):
        unit = ""  # "…_s1" style names are symbol sizes, not seconds
    words = []
    for part in parts:
        tokens = part.split("_")
        if unit and part is last and len(tokens) > 1 and tokens[-1] in ("points", "ms", "s", "us", "uj", "mbs"):
            tokens = tokens[:-1]  # the unit column says it
        words.append(" ".join(_WORDS.get(t, t) for t in tokens))
    return " · ".join(words), unit


# ---------------------------------------------------------------------------------------------------------------
# Notebook outputs a static page can show.


def _control_html(m: Mapping[str, Any]) -> str:
    desc = html.escape(str(m.get("description", "")).strip())
    name = m.get("_model_name", "")
    if "_options_labels" in m:
        labels, index = m.get("_options_labels") or [], m.get("index")
        if isinstance(index, list | tuple):
            value = ", ".join(str(labels[i]) for i in index if 0 <= i < len(labels))
        else:
            value = labels[index] if isinstance(index, int) and 0 <= index < len(labels) else ""
    elif name in ("HTMLModel", "HTMLMathModel"):
        return f'<div class="effdl-widget-html">{m.get("value", "")}</div>'
    elif name == "ButtonModel":
        return f'<span class="effdl-widget-button">[{desc}]</span>'
    else:
        value = m.get("value", "")
    shown = html.escape(str(value))
    return f'<span class="effdl-widget-control">{desc + ": " if desc else ""}<b>{shown}</b></span>'


def widget_html(model_id: str, state: Mapping[str, Any], *, depth: int = 0) -> str:
    """HTML of a saved widget in its last state: boxes as boxes, plotly FigureWidgets as figures (plotly.js not
    included: the page loads it once), controls as "description: value"."""
    entry = state.get(model_id)
    if entry is None or depth > 20:
        return ""
    m = entry.get("state", {})
    if "_widget_data" in m:  # plotly's FigureWidget (an anywidget): its traces and layout as the run left them
        import plotly.graph_objects as go
        import plotly.io as pio

        fig = go.Figure(data=m.get("_widget_data") or [], layout=m.get("_widget_layout") or {}, skip_invalid=True)
        return pio.to_html(fig, full_html=False, include_plotlyjs=False)
    children = m.get("children")
    if isinstance(children, list):
        refs = [c.removeprefix("IPY_MODEL_") for c in children if isinstance(c, str)]
        inner = "".join(widget_html(r, state, depth=depth + 1) for r in refs)
        direction = "row" if m.get("_model_name") == "HBoxModel" else "column"
        return f'<div class="effdl-widget-box" style="display:flex;flex-direction:{direction};gap:.5rem">{inner}</div>'
    if m.get("_model_name") == "OutputModel":
        return "".join(_output_html(o) for o in m.get("outputs", []))
    return _control_html(m)


def _output_html(out: Mapping[str, Any]) -> str:
    data = out.get("data", {})
    if "text/html" in data:
        return "".join(data["text/html"]) if isinstance(data["text/html"], list) else str(data["text/html"])
    text = out.get("text") or data.get("text/plain") or ""
    text = "".join(text) if isinstance(text, list) else str(text)
    return f"<pre>{html.escape(text)}</pre>" if text else ""


def prepare_notebook(nb: Any, *, provenance: str | None = None) -> Any:
    """Make an executed notebook (nbformat node, changed in place and returned) readable as a static page: plotly
    JSON becomes HTML, widgets their last state plus a note, record outputs (raw keys) are dropped, the saved widget
    state is removed (myst-nb would otherwise load the widget manager from a CDN), the code of the Takeaways section is
    hidden (its text stays), and a provenance note follows the title."""
    import plotly.io as pio

    state = nb.metadata.pop("widgets", {}).get(WIDGET_STATE_MIME, {}).get("state", {})
    section = ""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("## "):
            section = cell.source.lstrip()[3:].splitlines()[0].strip()
        if cell.cell_type == "code" and section == "Takeaways":
            # The reader wants the takeaways, not the f-string that formats them.
            tags = cell.metadata.setdefault("tags", [])
            if "remove-input" not in tags:
                tags.append("remove-input")
        outputs = []
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if MIME_TYPE in data:
                continue  # the results page lists every record with a label and a unit
            if PLOTLY_MIME in data:
                fig = pio.from_json(json.dumps(data.pop(PLOTLY_MIME)), skip_invalid=True)
                data["text/html"] = pio.to_html(fig, full_html=False, include_plotlyjs=False)
            if WIDGET_VIEW_MIME in data:
                view = data.pop(WIDGET_VIEW_MIME)
                data["text/html"] = widget_html(view.get("model_id", ""), state) + WIDGET_NOTE
                data.pop("text/plain", None)
            outputs.append(out)
        if cell.cell_type == "code":
            cell.outputs = outputs
    if provenance:
        import nbformat

        note = nbformat.v4.new_markdown_cell(f"```{{admonition}} Provenance\n:class: note\n{provenance}\n```")
        nb.cells.insert(1 if nb.cells and nb.cells[0].cell_type == "markdown" else 0, note)
    return nb


# ---------------------------------------------------------------------------------------------------------------
# The Sphinx project.

_CONF = """# Written by effdl.book.build_book: the Sphinx configuration of the offline book.
project = {title!r}
author = "effdl"
extensions = ["myst_nb", "sphinx-mathjax-offline"]
myst_enable_extensions = ["dollarmath", "amsmath"]
nb_execution_mode = "off"  # the notebooks were executed by effdl run; the book shows those outputs
nb_merge_streams = True
html_theme = "sphinx_book_theme"
html_title = {title!r}
html_static_path = ["_static"]
html_js_files = ["plotly.min.js"]
html_css_files = ["effdl.css"]
html_theme_options = {{"show_toc_level": 2, "use_download_button": False, "use_fullscreen_button": False}}
html_last_updated_fmt = None
exclude_patterns = ["_build"]
suppress_warnings = ["mystnb.unknown_mime_type", "misc.highlighting_failure"]
"""

_CSS = """.effdl-widget-note { color: #555; font-size: .9em; margin: .2rem 0 1rem; }
.effdl-widget-control { display: inline-block; margin-right: 1rem; color: #333; }
.effdl-widget-box { margin: .3rem 0; }
table.effdl-results td.num { text-align: right; font-variant-numeric: tabular-nums; }
"""


def _origin(executed: Mapping[str, Mapping[str, Any]]) -> str:
    if not executed:
        return "No chapter has been executed yet: run `effdl run`."
    conflicts = provenance_conflicts(executed)
    if not conflicts:
        prov = next(iter(executed.values()))["provenance"]
        quick = (
            " These are QUICK-mode (small-size) numbers, not the full-mode figures."
            if prov.get("mode") == "quick"
            else ""
        )
        return f"Every number in this book was computed in one run ({_provenance_text(prov)}).{quick}"
    return "The chapters do not all come from one run: " + "; ".join(conflicts) + ". Each chapter names its own."


def _index_md(title: str, chapters: list[tuple[Any, bool, Mapping[str, Any]]], origin: str, course: bool) -> str:
    rows = []
    for c, present, info in chapters:
        name = f"[{c.title}]({c.name}.ipynb)" if present else f"{c.title} (not run)"
        state = "" if not present else (" ✓" if info.get("ok", True) else " ✗ failed")
        rows.append(f"| {c.number} | {name}{state} | {c.topic} | {c.papers} |")
    toc = [f"{c.name}" for c, present, _ in chapters if present]
    extra = (["course"] if course else []) + ["results"]
    return "\n".join(
        [
            f"# {title}",
            "",
            "A workbench for efficient deep learning: every chapter is a notebook executed on a CPU, its numbers "
            "computed in the run shown here. Use the sidebar or the previous/next links to read it in order; the "
            "search box finds any term.",
            "",
            origin,
            "",
            "| # | Chapter | Topic | Papers |",
            "|---|---|---|---|",
            *rows,
            "",
            ("See [the course guide](course.md) for objectives, schedules and a glossary, and " if course else "See ")
            + "[the results](results.md) for every recorded number with its label and unit.",
            "",
            "```{toctree}",
            ":hidden:",
            ":maxdepth: 1",
            ":caption: Chapters",
            "",
            *toc,
            "```",
            "",
            "```{toctree}",
            ":hidden:",
            ":maxdepth: 1",
            ":caption: Reference",
            "",
            *extra,
            "```",
            "",
        ]
    )


def _md(value: Any) -> str:
    return " ".join(str(value).split()).replace("|", "\\|")


def _results_md(chapters: list[tuple[Any, bool, Mapping[str, Any]]], records: Mapping[str, Mapping[str, Any]]) -> str:
    lines = [
        "# Results",
        "",
        "Every number the chapters recorded in this run, with a label and a unit. The README's results table is "
        "written from a full run (`effdl results --markdown`).",
    ]
    for c, present, info in chapters:
        if not present:
            continue
        lines += ["", f"## {c.number} · {c.title}", "", f"*{_md(_provenance_text(info.get('provenance')))}*", ""]
        lines += ["| Result | Value | Unit |", "|---|--:|---|"]
        for key, value in records.get(c.name, {}).items():
            label, unit = describe_key(key, value)
            lines.append(f"| {_md(label)} | {_md(_fmt(value))} | {unit} |")
    return "\n".join(lines) + "\n"


def build_book(out: str | os.PathLike = "build", *, title: str = "effdl — efficient deep learning") -> Path:
    """Build the offline book from the executed notebooks in ``out`` and return ``out/book/index.html``.

    Raises:
        FileNotFoundError: ``out`` does not exist (run ``effdl run`` first).
        RuntimeError: Sphinx failed (its messages are in the error).
    """
    import nbformat
    import plotly

    out_dir = Path(out)
    if not out_dir.is_dir():
        raise FileNotFoundError(f"{out_dir} does not exist; run `effdl run` first")
    status: dict[str, Any] = {}
    if (out_dir / "results.json").exists():
        try:
            status = load_results(out_dir / "results.json")
        except ValueError:  # a damaged file: the book still builds, every chapter's provenance unknown
            status = {}
    src, site = out_dir / "book_src", out_dir / "book"
    shutil.rmtree(src, ignore_errors=True)
    (src / "_static").mkdir(parents=True)
    plotly_js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    shutil.copyfile(plotly_js, src / "_static" / "plotly.min.js")
    (src / "_static" / "effdl.css").write_text(_CSS, encoding="utf-8")
    (src / "conf.py").write_text(_CONF.format(title=title), encoding="utf-8")

    chapters, records, executed = [], {}, {}
    for c in CATALOGUE:
        path = out_dir / f"{c.name}.ipynb"
        info = status.get(c.name, {})
        chapters.append((c, path.exists(), info))
        if not path.exists():
            continue
        executed[c.name] = info
        records[c.name] = records_from_notebook(path)
        nb = nbformat.read(str(path), as_version=4)
        prov = f"Executed by `effdl run`: {_provenance_text(info.get('provenance'))}."
        if info.get("ok") is False:
            prov += " **This chapter failed in that run**; its outputs stop at the error."
        nbformat.write(prepare_notebook(nb, provenance=prov), str(src / path.name))
    course = repo_root() / "COURSE.md"
    if course.exists():
        # Links into notebooks/ point at the chapters of the book instead.
        text = course.read_text(encoding="utf-8").replace("](notebooks/", "](")
        (src / "course.md").write_text(text, encoding="utf-8")
    origin = _origin({k: v for k, v in executed.items() if v.get("provenance")})
    (src / "index.md").write_text(_index_md(title, chapters, origin, course.exists()), encoding="utf-8")
    (src / "results.md").write_text(_results_md(chapters, records), encoding="utf-8")

    shutil.rmtree(site, ignore_errors=True)
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-j", "auto", str(src), str(site)]
    env = {**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"sphinx failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return site / "index.html"
