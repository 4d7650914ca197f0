"""Repository conventions: clean notebooks, a catalogue that matches them, dependencies in step."""

import json
import re
from pathlib import Path

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
        assert "effdl.record(" in all_code, f"{path.name}: records no results"


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
