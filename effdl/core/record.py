"""Named results that a notebook publishes: ``effdl.record("tour.mlp.accuracy", 0.97)``.

A recorded number travels inside the executed notebook itself, as a display output with its own MIME type
(``application/vnd.effdl.record+json``) next to a readable ``text/plain`` line. The series runner and the tests read
those outputs back from the ``.ipynb`` file, so there is no side channel to get out of sync, and the executed notebook
on its own is the evidence of what it computed.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

MIME_TYPE = "application/vnd.effdl.record+json"

# Keys are dotted lower-case names: "<notebook>.<what>", e.g. "tour.resnet20.accuracy".
_KEY_RE = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")

Value = int | float | str | bool

# Everything recorded in this Python process, in order (a notebook kernel is one process).
RECORDS: dict[str, Value] = {}


def _check(key: object, value: object) -> Value:
    if not isinstance(key, str) or not _KEY_RE.match(key):
        raise ValueError(
            f"key must be a dotted lower-case name like 'tour.mlp.accuracy' (letters, digits, _ and .), got {key!r}"
        )
    # numpy and torch scalars arrive here often; turn them into plain Python numbers first.
    if hasattr(value, "item") and callable(value.item):
        try:
            value = value.item()
        except (ValueError, RuntimeError) as err:
            raise ValueError(f"value for {key!r} must be a scalar, got an array of shape {value.shape}") from err
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"value for {key!r} must be finite, got {value}")
        return float(value)
    raise TypeError(f"value for {key!r} must be an int, float, str or bool, got {type(value).__name__}")


def record(key: str, value: Any, *, show: bool = True) -> Value:
    """Publish a named result from a notebook and return it (as a plain Python scalar).

    Inside a Jupyter kernel the value is also displayed, which is how it reaches the executed notebook on disk;
    elsewhere it is only kept in :data:`RECORDS`. ``show=False`` keeps it in :data:`RECORDS` without displaying it.
    """
    value = _check(key, value)
    RECORDS[key] = value
    if show:
        _display(key, value)
    return value


def record_many(prefix: str, values: Mapping[str, Any] | None = None, /, **named: Any) -> dict[str, Value]:
    """Publish several results under one prefix: ``record_many("pruning.global80", accuracy=97.1, sparsity=0.8)``
    records ``pruning.global80.accuracy`` and ``pruning.global80.sparsity``. Returns ``{name: value}`` (the short
    names, plain Python scalars), so a notebook keeps one short record cell per section."""
    items = {**(values or {}), **named}
    if not items:
        raise ValueError("record_many needs at least one value (a mapping or keyword arguments)")
    out: dict[str, Value] = {}
    for name, value in items.items():
        out[name] = record(f"{prefix}.{name}", value)
    return out


def _display(key: str, value: Value) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # plain Python without IPython: nothing to display into
        return
    if get_ipython() is None:
        return
    text = f"{key} = {value:.4g}" if isinstance(value, float) else f"{key} = {value}"
    display({MIME_TYPE: {"key": key, "value": value}, "text/plain": f"📌 {text}"}, raw=True)


def records_from_notebook(nb: str | Path | Mapping[str, Any]) -> dict[str, Value]:
    """Read the records back from an executed notebook (a path or a loaded nbformat dict), in cell order.

    A key recorded twice keeps its last value, as it would in the kernel.
    """
    if not isinstance(nb, Mapping):
        nb = json.loads(Path(nb).read_text(encoding="utf-8"))
    found: dict[str, Value] = {}
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []) or []:
            data = out.get("data") or {}
            if MIME_TYPE in data:
                payload = data[MIME_TYPE]
                if isinstance(payload, str):  # some writers store JSON payloads as strings
                    payload = json.loads(payload)
                found[payload["key"]] = payload["value"]
    return found
