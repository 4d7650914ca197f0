"""The offline book: labels and units of records, static widgets and figures, and a Sphinx site whose every local
link resolves, with no request to the network and no raw record key on its index."""

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import nbformat
import pytest

from effdl import book, series
from effdl.core.record import MIME_TYPE


def test_describe_key_gives_labels_and_units():
    assert book.describe_key("pruning.global80.drop_points", 1.2) == ("global80 · drop", "points")
    assert book.describe_key("tour.mlp.accuracy", 92.6) == ("mlp · accuracy", "%")
    assert book.describe_key("quant.agreement.accuracy", 0.93) == ("agreement · accuracy", "")  # a fraction
    assert book.describe_key("tour.mlp.latency_ms", 0.4) == ("mlp · latency", "ms")
    assert book.describe_key("lzss.chunk.ratio_s2", 2.0) == ("chunk · ratio S=2", "")
    assert book.describe_key("scaling.large.val_bpc", 2.1) == ("large · val bits/char", "bits/char")
    assert book.describe_key("lzss.bench.vs_lz4", 1.1)[1] == ""


FIG = {"data": [{"type": "scatter", "x": [1, 2], "y": [3, 4], "name": "curve"}], "layout": {"title": {"text": "t"}}}


def _state() -> dict:
    state = {
        "box": {"state": {"_model_name": "VBoxModel", "children": ["IPY_MODEL_dd", "IPY_MODEL_fig", "IPY_MODEL_sl"]}},
        "dd": {
            "state": {"_model_name": "DropdownModel", "description": "bits", "_options_labels": ["2", "4"], "index": 1}
        },
        "sl": {"state": {"_model_name": "FloatSliderModel", "description": "sparsity", "value": 0.8}},
        "fig": {"state": {"_model_name": "AnyModel", "_widget_data": FIG["data"], "_widget_layout": FIG["layout"]}},
    }
    state["dd"]["state"]["index"] = 1
    return state


def test_widget_html_shows_the_last_state():
    page = book.widget_html("box", _state())
    assert "bits: <b>4</b>" in page and "sparsity: <b>0.8</b>" in page
    assert "plotly-graph-div" in page and '"curve"' in page and "<script src" not in page


def _executed(path: Path) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {book.WIDGET_STATE_MIME: {"state": _state(), "version_major": 2, "version_minor": 0}}
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    fig = nbformat.v4.new_code_cell("fig", outputs=[nbformat.v4.new_output("display_data", {book.PLOTLY_MIME: FIG})])
    view = {"model_id": "box", "version_major": 2, "version_minor": 0}
    widget = nbformat.v4.new_code_cell(
        "w", outputs=[nbformat.v4.new_output("display_data", {book.WIDGET_VIEW_MIME: view, "text/plain": "VBox()"})]
    )
    rec = nbformat.v4.new_code_cell(
        "effdl.record('fx.answer', 42)",
        metadata={"tags": ["remove-cell"]},
        outputs=[nbformat.v4.new_output("display_data", {MIME_TYPE: {"key": "fx.answer", "value": 42}})],
    )
    nb.cells = [
        nbformat.v4.new_markdown_cell("# 90 · Fixture chapter\n\nSome maths:\n\n$$\ny = W x\n$$"),
        fig,
        widget,
        rec,
        nbformat.v4.new_markdown_cell("## Takeaways"),
        nbformat.v4.new_code_cell("display(Markdown('42'))", outputs=[]),
    ]
    nbformat.write(nb, path)
    return nb


def test_prepare_notebook_makes_outputs_static():
    nb = _executed(Path("/dev/null")) if False else None
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# T")]
    out = book.prepare_notebook(nb, provenance="run X")
    assert "Provenance" in out.cells[1].source and "run X" in out.cells[1].source


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.refs.append((tag, value))


@pytest.fixture
def built_book(tmp_path, monkeypatch):
    out = tmp_path / "build"
    out.mkdir()
    _executed(out / "90_fixture.ipynb")
    chapters = (
        series.Chapter("90_fixture", "Fixture chapter", "a fixture", "none", 1, 1),
        series.Chapter("91_missing", "Not run", "a fixture never executed", "none", 1, 1),
    )
    monkeypatch.setattr(book, "CATALOGUE", chapters)
    results = {"90_fixture": {"ok": True, "seconds": 1.0, "records": {"fx.answer": 42}, "provenance": None}}
    (out / "results.json").write_text(json.dumps(results))
    return book.build_book(out)


def test_book_is_a_navigable_offline_site(built_book):
    site = built_book.parent
    assert built_book.name == "index.html" and (site / "search.html").exists() and (site / "searchindex.js").exists()
    chapter = (site / "90_fixture.html").read_text(encoding="utf-8")
    index = built_book.read_text(encoding="utf-8")
    # navigation: the sidebar lists the chapters; previous/next links; provenance; maths by the local MathJax
    assert "bd-sidebar" in chapter and 'href="90_fixture.html"' in index
    assert "prev-next" in chapter and "Provenance" in chapter
    assert "_static/mathjax/tex-chtml.js" in chapter and (site / "_static" / "mathjax" / "tex-chtml.js").exists()
    # figures: plotly.js once for the site, each figure drawn by it; the widget in its last state with the note
    assert chapter.count("plotly.min.js") == 1 and "Plotly.newPlot" in chapter
    assert "bits: <b>4</b>" in chapter and "effdl lab" in chapter
    # record cells hidden, the takeaways' code hidden, no raw key on the index; the results page labels them
    assert "fx.answer" not in chapter and "record(" not in chapter and "Markdown(" not in chapter
    assert not re.search(r"\b[a-z0-9_]+\.[a-z0-9_]+\.[a-z0-9_]+\b", re.sub(r"<[^>]+>", " ", index))
    results = (site / "results.html").read_text(encoding="utf-8")
    assert "answer" in results and "fx.answer" not in results and "Not run" in index


def test_every_local_link_and_image_of_the_book_resolves_offline(built_book):
    site = built_book.parent
    checked = 0
    for page in site.rglob("*.html"):
        if "_static" in page.relative_to(site).parts:
            continue  # the theme's own template files, not pages
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8"))
        for tag, ref in parser.refs:
            url = urlparse(ref)
            if url.scheme in ("http", "https"):
                assert tag == "a", f"{page.name} loads {ref} from the network"
                continue
            if url.scheme or not url.path:
                continue  # mailto:, javascript:, #anchors
            target = (page.parent / unquote(url.path)).resolve()
            assert target.exists(), f"{page.relative_to(site)}: broken local link {ref}"
            checked += 1
    assert checked > 50


def test_book_without_a_run_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="effdl run"):
        book.build_book(tmp_path / "missing")
