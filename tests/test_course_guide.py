"""COURSE.md, the instructors' guide, stays in step with the notebooks: every chapter is linked, the prerequisite
table says what each notebook's Prerequisites paragraph says, the glossary points at chapters that use the term, and
the exercise table lists each chapter's exercises and Try-it tasks as they are (checked or with a model answer)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from effdl import series

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "COURSE.md"
CHAPTERS = {c.name[:2]: c.name for c in series.CATALOGUE}


def _section(title: str) -> str:
    text = GUIDE.read_text()
    m = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert m, f"COURSE.md has no '## {title}' section"
    return m.group(1)


def _rows(block: str) -> list[list[str]]:
    """The body rows of the markdown tables in ``block``, as lists of stripped cells."""
    rows = []
    for line in block.splitlines():
        if line.startswith("|") and not re.match(r"^\|[\s|:-]+\|$", line):
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
    return [r for r in rows if r and not r[0].lower().startswith(("chapter", "term", "week"))]


def _key(cell: str) -> str:
    """The chapter number a table row starts with ("05 · Range …" or "[05](notebooks/…)")."""
    m = re.search(r"\d\d", cell)
    assert m, f"a COURSE.md table row starts with {cell!r}, not a chapter number"
    return m.group(0)


def _nb(number: str) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / "notebooks" / f"{CHAPTERS[number]}.ipynb", as_version=4)


def _numbers(text: str) -> set[str]:
    return {n for n in re.findall(r"\b(\d\d)\b", text) if n in CHAPTERS}


def _prerequisites(number: str) -> tuple[set[str], set[str]]:
    """(needed, helpful) chapters named in the notebook's Prerequisites paragraph: a clause with "helps" is helpful."""
    first = _nb(number).cells[0].source
    m = re.search(r"\*\*Prerequisites\*\*(.*?)(?:Mathematics|\n\n|\Z)", first, re.S)
    assert m, f"{number}: no Prerequisites paragraph"
    needed, helpful = set(), set()
    for clause in re.split(r"[;.]", m.group(1)):
        (helpful if "help" in clause else needed).update(_numbers(clause) - {number})
    return needed, helpful - needed


def test_every_chapter_is_linked_and_every_link_resolves():
    text = GUIDE.read_text()
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text)
    local = [link for link in links if not link.startswith(("http://", "https://"))]
    missing = [link for link in local if not (ROOT / link).exists()]
    assert not missing, f"COURSE.md links to missing files: {missing}"
    objectives = _section("Chapters and learning objectives")
    for name in CHAPTERS.values():
        assert f"(notebooks/{name}.ipynb)" in objectives, f"COURSE.md's chapter table does not link {name}"


def test_prerequisite_table_matches_the_notebooks():
    rows = {_key(r[0]): r for r in _rows(_section("Prerequisites"))}
    assert set(rows) == set(CHAPTERS), f"prerequisite table covers {sorted(rows)}, chapters are {sorted(CHAPTERS)}"
    for number, row in rows.items():
        needed, helpful = _prerequisites(number)
        assert _numbers(row[1]) == needed, f"{number}: COURSE.md needs {row[1]!r}, the notebook names {sorted(needed)}"
        assert _numbers(row[2]) == helpful, f"{number}: COURSE.md helps {row[2]!r}, notebook: {sorted(helpful)}"


def test_schedules_cover_every_chapter():
    schedules = _section("Schedules")
    for number in CHAPTERS:
        assert re.search(rf"\|\s*[^|]*\b{number}\b", schedules), f"chapter {number} is in no schedule"


def _tasks(number: str) -> dict[str, str]:
    """{"Exercise N" or "Try it": "checked" | "model answer"} from the notebook's solution cells."""
    nb, tasks = _nb(number), {}
    for i, cell in enumerate(nb.cells[:-1]):
        if cell.cell_type != "markdown":
            continue
        m = re.search(r"^\*\*(Exercise \d+|Try it)", cell.source, re.M)
        if not m:
            continue
        solution = nb.cells[i + 1].source
        kind = "checked" if "exercises.check_" in solution else "model answer"
        label = m.group(1) if m.group(1) != "Try it" else f"Try it {sum(k.startswith('Try') for k in tasks) + 1}"
        tasks[label] = kind
    return tasks


@pytest.mark.parametrize("number", sorted(CHAPTERS))
def test_exercise_table_lists_each_chapters_tasks_as_they_are(number):
    rows = {_key(r[0]): r for r in _rows(_section("Which exercises to assign"))}
    assert number in rows, f"COURSE.md's exercise table has no row for chapter {number}"
    _, tries, checked, answered = rows[number]
    tasks = _tasks(number)
    want_checked = sorted(int(k.split()[1]) for k, v in tasks.items() if k.startswith("Exercise") and v == "checked")
    want_answered = sorted(int(k.split()[1]) for k, v in tasks.items() if k.startswith("Exercise") and v != "checked")
    want_tries = sum(k.startswith("Try") for k in tasks)
    assert [int(n) for n in re.findall(r"\d+", checked)] == want_checked, f"{number}: checked exercises"
    assert [int(n) for n in re.findall(r"\d+", answered)] == want_answered, f"{number}: model-answer exercises"
    assert int(tries) == want_tries, f"{number}: {want_tries} Try-it tasks in the notebook, COURSE.md says {tries}"


def test_glossary_terms_appear_in_the_chapter_they_point_to():
    for term, _meaning, where in _rows(_section("Glossary")):
        numbers = re.findall(r"\[(\d\d)\]", where)
        assert numbers, f"glossary term {term!r} points at no chapter"
        for number in numbers:
            text = "\n".join(c.source for c in _nb(number).cells).lower()
            variants = [v.strip().lower() for v in re.split(r"/|\(|\)|,", term) if v.strip()]
            assert any(v in text for v in variants), f"glossary term {term!r} does not appear in chapter {number}"
