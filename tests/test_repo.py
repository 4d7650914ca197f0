"""Repository conventions: clean notebooks, a catalogue that matches them, dependencies in step."""

import json
import re
from pathlib import Path

import pytest
import tomllib
import yaml

from effdl import series

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_committed_notebooks_carry_no_outputs():
    assert NOTEBOOKS
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert not cell.get("outputs"), f"{path.name} has outputs: strip them before committing"
                assert cell.get("execution_count") is None, f"{path.name} has execution counts"


def test_catalogue_matches_the_notebooks_folder():
    assert [p.stem for p in NOTEBOOKS] == [c.name for c in series.CATALOGUE]
    for c in series.CATALOGUE:
        assert re.fullmatch(r"\d\d_[a-z0-9_]+", c.name)


def test_every_notebook_follows_the_conventions():
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text(encoding="utf-8"))
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        first = code[0]
        assert "parameters" in first.get("metadata", {}).get("tags", []), f"{path.name}: first code cell not tagged"
        src = "".join(first["source"])
        for name in ("QUICK = False", "SEED = ", "DATASET = "):
            assert name in src, f"{path.name}: parameters cell lacks {name!r}"
        text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
        assert len(re.findall(r"\*\*Exercise \d", text)) >= 2, f"{path.name}: fewer than two exercises"
        all_code = "\n".join("".join(c["source"]) for c in code)
        assert "effdl.exercises" in all_code or "exercises.check" in all_code, f"{path.name}: no exercise checker"
        assert re.search(r"effdl\.record(_many)?\(", all_code), f"{path.name}: records no results"


# ---------------------------------------------------------------------------------------------------------------
# Chapter structure (the course layer): objectives, prerequisites, exercises with reference solutions where the concept
# is taught, a checked "Try it" under every widget, written-out maths, hidden short record cells, and a closing
# Exercises / Takeaways / Discussion questions / Further reading.

CLOSING = ["Exercises", "Takeaways", "Discussion questions", "Further reading"]
TASK = re.compile(r"\*\*(Exercise \d+|Try it)")
MAX_CELL_LINES = 40  # longer logic belongs in effdl/, behind one call
MAX_RECORD_LINES = 15


def _cells(path: Path) -> list[dict]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    for c in nb["cells"]:
        c["text"] = "".join(c["source"])
    return nb["cells"]


def _sections(cells: list[dict]) -> list[tuple[str, list[dict]]]:
    """``(heading, cells)`` per ``## `` section; the cells before the first one under ``""``."""
    out: list[tuple[str, list[dict]]] = [("", [])]
    for c in cells:
        first = c["text"].lstrip().splitlines()[0] if c["text"].strip() else ""
        if c["cell_type"] == "markdown" and first.startswith("## "):
            out.append((first[3:].strip(), []))
        out[-1][1].append(c)
    return out


def _is_solution(cell: dict) -> bool:
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution")) and (
        "### BEGIN SOLUTION" in cell["text"] and "### END SOLUTION" in cell["text"]
    )


def _next_code(cells: list[dict], i: int) -> dict | None:
    return next((c for c in cells[i + 1 :] if c["cell_type"] == "code"), None)


CHAPTER_PATHS = pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])


@CHAPTER_PATHS
def test_chapter_opens_with_objectives_and_prerequisites(path):
    first = _cells(path)[0]["text"]
    assert first.startswith("# "), f"{path.name}: the first cell is the chapter title"
    assert "**Learning objectives**" in first, f"{path.name}: no learning objectives in the first cell"
    objectives = first.split("**Learning objectives**", 1)[1].split("**Prerequisites**", 1)[0]
    assert len(re.findall(r"^- ", objectives, re.M)) >= 3, f"{path.name}: fewer than three objectives"
    assert "**Prerequisites**" in first, f"{path.name}: no prerequisites in the first cell"
    prereq = first.split("**Prerequisites**", 1)[1].split("\n\n**", 1)[0]
    assert "math" in prereq.lower(), f"{path.name}: the prerequisites name no mathematics"
    if not path.stem.startswith("00"):
        assert re.search(r"\b0\d\b", prereq), f"{path.name}: the prerequisites name no earlier chapter"


@CHAPTER_PATHS
def test_chapter_closes_with_exercises_takeaways_discussion_and_reading(path):
    sections = _sections(_cells(path))
    assert [h for h, _ in sections[-4:]] == CLOSING, f"{path.name}: the last sections must be {CLOSING}"
    parts = dict(sections[-4:])
    assert any("display(Markdown(" in c["text"] for c in parts["Takeaways"] if c["cell_type"] == "code"), (
        f"{path.name}: the takeaways are not computed in the run (display(Markdown(...)) of the run's numbers)"
    )
    questions = re.findall(r"^\d+\. ", "\n".join(c["text"] for c in parts["Discussion questions"]), re.M)
    assert 3 <= len(questions) <= 5, f"{path.name}: {len(questions)} discussion questions (want 3-5)"
    links = re.findall(r"\]\((https?://[^)\s]+)\)", "\n".join(c["text"] for c in parts["Further reading"]))
    assert len(links) >= 2, f"{path.name}: further reading needs the papers with links"


@CHAPTER_PATHS
def test_every_exercise_and_task_has_a_reference_solution(path):
    cells = _cells(path)
    numbers = []
    for i, c in enumerate(cells):
        if c["cell_type"] != "markdown":
            continue
        for m in TASK.finditer(c["text"]):
            if m.group(1).startswith("Exercise"):
                numbers.append(int(m.group(1).split()[1]))
            code = _next_code(cells, i)
            assert code is not None and _is_solution(code), (
                f"{path.name}: {m.group(1)} needs the next code cell to be a solution cell (nbgrader metadata "
                "solution: true, ### BEGIN SOLUTION / ### END SOLUTION)"
            )
    assert numbers == list(range(1, len(numbers) + 1)), f"{path.name}: exercises numbered {numbers}"
    assert len(numbers) >= 3, f"{path.name}: fewer than three exercises"
    before = [c for h, cs in _sections(cells) if h not in CLOSING for c in cs if c["cell_type"] == "markdown"]
    assert any(TASK.search(c["text"]) for c in before), f"{path.name}: no exercise where a concept is taught"


@CHAPTER_PATHS
def test_a_checked_task_under_every_widget(path):
    for heading, cells in _sections(_cells(path)):
        for i, c in enumerate(cells):
            if c["cell_type"] != "code" or not re.search(r"\bwidgets\.\w+\(", c["text"]):
                continue
            rest = cells[i + 1 :]
            tries = [j for j, d in enumerate(rest) if d["cell_type"] == "markdown" and "**Try it" in d["text"]]
            assert tries, f"{path.name} § {heading}: a widget without a 'Try it' task below it"
            code = _next_code(rest, tries[0])
            assert code is not None and "exercises.check_" in code["text"], (
                f"{path.name} § {heading}: the 'Try it' task has no checker call"
            )


@CHAPTER_PATHS
def test_key_mathematics_is_written_out(path):
    text = "\n".join(c["text"] for c in _cells(path) if c["cell_type"] == "markdown")
    blocks = len(re.findall(r"\$\$", text)) // 2
    assert blocks >= (1 if path.stem.startswith("00") else 3), f"{path.name}: {blocks} display equations"


def _only_records(source: str) -> bool:
    import ast

    for node in ast.parse(source).body:
        value = node.value if isinstance(node, ast.Expr | ast.Assign) else None
        func = value.func if isinstance(value, ast.Call) else None
        if not (isinstance(func, ast.Attribute) and func.attr in ("record", "record_many")):
            return False
    return True


@CHAPTER_PATHS
def test_record_cells_are_short_and_hidden(path):
    for c in _cells(path):
        if c["cell_type"] != "code" or "effdl.record" not in c["text"]:
            continue
        head = c["text"].strip().splitlines()[0]
        assert _only_records(c["text"]), f"{path.name}: a cell mixes records with other code: {head}"
        assert len(c["text"].strip().splitlines()) <= MAX_RECORD_LINES, f"{path.name}: a long record cell: {head}"
        assert "remove-cell" in c.get("metadata", {}).get("tags", []), f"{path.name}: record cell not tagged: {head}"


@CHAPTER_PATHS
def test_no_long_code_cells(path):
    sections = _sections(_cells(path))
    takeaways = {id(c) for h, cs in sections if h == "Takeaways" for c in cs}
    for c in (c for _, cs in sections for c in cs):
        if c["cell_type"] != "code" or id(c) in takeaways or "parameters" in c.get("metadata", {}).get("tags", []):
            continue
        n = len(c["text"].strip().splitlines())
        assert n <= MAX_CELL_LINES, f"{path.name}: a {n}-line cell: {c['text'].strip().splitlines()[0]}"


def _name(req: str) -> str:
    return re.split(r"[<>=!~\[ ]", req, maxsplit=1)[0].lower()


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = set(project["dependencies"]) | set(project["optional-dependencies"]["dev"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    listed = {p for p in pip if not p.startswith("-e")}
    assert listed == wanted, f"differ: {sorted(listed ^ wanted)}"
    assert "python=3.11" in env["dependencies"]


def test_readme_quick_start_is_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert 'python -m pip install -e ".[dev]" && effdl run' in readme
    assert "python -m pytest" in readme
    for c in series.CATALOGUE:
        assert c.name in readme, f"README's series table lacks {c.name}"
    ci = (ROOT / ".ci" / "run").read_text()
    assert 'python -m pip install -e ".[dev]"' in ci and "python -m pytest" in ci


def test_readme_results_are_written_from_one_committed_full_run():
    # The README's numbers are exactly what `effdl results --markdown --into README.md` writes from the committed
    # copy of one full run's results.json (which refuses quick-mode, failed and mixed-run results), every chapter in.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    results = series.load_results(ROOT / "results" / "full-run.json")
    assert set(results) == {c.name for c in series.CATALOGUE}
    assert series.splice_results(readme, series.results_markdown(results)) == readme


def test_readme_use_it_on_your_own_model_snippet_runs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Use it on your own model", 1)[1]
    snippet = section.split("```python", 1)[1].split("```", 1)[0]
    assert "MyNet()" in snippet
    # Stand in a small network for the reader's own, and keep the training short.
    code = snippet.replace("MyNet()", "torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10))")
    code = code.replace("epochs=5", "epochs=1")
    exec(compile(code, "README.md", "exec"), {"__name__": "readme"})


def test_readme_compression_snippet_runs():
    import effdl

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Use it on your own model", 1)[1]
    snippet = section.split("```python", 2)[2].split("```", 1)[0]
    assert "prune.magnitude_prune_" in snippet and "distill.distill" in snippet
    train, _ = effdl.load("mnist5k")
    names = {
        "model": effdl.build("mlp", "mnist5k", seed=0),
        "cnn": effdl.build("smallcnn", "mnist5k", seed=0),
        "teacher": effdl.build("smallcnn", "mnist5k", seed=0),
        "student": effdl.build("mlp", "mnist5k", hidden=(16,), seed=0),
        "train": effdl.subset(train, 256),
    }
    exec(compile(snippet.replace("epochs=5", "epochs=1"), "README.md", "exec"), names)
    assert names["sparse"] is not names["model"]
    assert not any("_orig" in n for n, _ in names["sparse"].named_parameters())
    assert effdl.count_params(names["slim"]) < effdl.count_params(names["cnn"])
    assert "DynamicQuantizedLinear" in repr(names["fast"]) and names["q8"] is not names["model"]
    assert names["reg"](names["model"]).item() > 0
    assert names["cfg"].bops < names["cfg"].fp32_bops and names["tiny"] is not names["cnn"]


def test_readme_hardware_snippet_runs():
    import torch

    import effdl

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Use it on your own model", 1)[1]
    snippet = section.split("```python", 3)[3].split("```", 1)[0]
    assert "saved_activation_bytes" in snippet and "lzss.compress" in snippet
    names = {"effdl": effdl, "model": effdl.build("mlp", "mnist5k", seed=0), "x": torch.randn(64, 1, 28, 28)}
    exec(compile(snippet, "README.md", "exec"), names)
    assert names["kept"] > 0 and names["sim"].total_pj > 0 and len(names["blob"]) < names["indices"].nbytes


def test_readme_learning_snippet_runs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Use it on your own model", 1)[1]
    snippet = section.split("```python", 4)[4].split("```", 1)[0]
    assert "smoothing.kernel_gd" in snippet and "lrsm.StratifiedModel" in snippet
    names: dict = {}
    exec(compile(snippet, "README.md", "exec"), names)
    # Early stopping stops inside the path; the learned graph keeps the candidate edges (the log-det term) and stays
    # symmetric with a zero diagonal.
    assert 0 < names["fit"].chosen < 5000 and names["fit"].predict(names["K_val"]).shape == (200,)
    w = names["model"].weights_
    assert (w == w.T).all() and (w.diagonal() == 0).all() and (w > 0).sum() == 2 * names["graph"].number_of_edges()


def test_readme_budget_snippet_runs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Use it on your own model", 1)[1]
    snippet = section.split("```python", 5)[5].split("```", 1)[0]
    assert "flad.FLADTrainer" in snippet and "stream.run_stream" in snippet
    names: dict = {}
    exec(compile(snippet, "README.md", "exec"), names)
    # The bandit trained and moved its mixture towards the aligned arms; online SGD with c/r = 1/4 exploits a quarter.
    assert 0.4 < names["trainer"].evaluate(names["suite"].target_test).accuracy <= 1.0
    assert names["suite"].mass_ratio(names["trainer"].distribution()) > 1.5
    assert abs(names["run"].final_throughput - 0.25) < 1e-9 and 0.3 < names["run"].mean_accuracy < 1.0


def test_readme_guide_snippet_runs(tmp_path, monkeypatch):
    import torch

    import effdl

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Use it on your own model", 1)[1]
    snippet = section.split("```python", 6)[6].split("```", 1)[0]
    assert "guide.analyze" in snippet and "guide.compress" in snippet
    train, test = effdl.load("mnist5k")
    model = effdl.build("mlp", "mnist5k", seed=0)
    effdl.fit(model, effdl.subset(train, 1024), epochs=2, seed=0, progress=False)
    names = {"model": model, "x": torch.randn(64, 1, 28, 28), "train": effdl.subset(train, 512, seed=1),
             "val": effdl.subset(test, 300)}  # fmt: skip
    monkeypatch.chdir(tmp_path)
    # Two candidates instead of the default seven keep the test short; the call is the README's.
    code = snippet.replace("max_drop=0.02)", 'max_drop=0.02, candidates=[("prune:0.9", "palette:4"), ("qat:8",)])')
    assert code != snippet
    exec(compile(code, "README.md", "exec"), names)
    result = names["result"]
    assert (tmp_path / "model.effdl").read_bytes() == result.blob and result.stage.ratio > 1
    assert result.stages[0].val_acc - result.stage.val_acc <= 0.02 + 1e-9
    restored = names["restored"]
    state = result.model.state_dict()
    assert all(torch.equal(v, state[k]) for k, v in restored.state_dict().items())
    assert names["report"].params == effdl.count_params(model)
