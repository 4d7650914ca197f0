import math

import nbformat
import numpy as np
import pytest
import torch

from effdl.core import record as rec


def test_record_returns_plain_scalars_and_keeps_them():
    assert rec.record("t.a", np.float32(0.5), show=False) == 0.5
    assert isinstance(rec.record("t.b", torch.tensor(3), show=False), int)
    assert rec.record("t.c", "mlp", show=False) == "mlp"
    assert rec.RECORDS["t.a"] == 0.5


@pytest.mark.parametrize("key", ["", "Tour.acc", "tour acc", "tour..acc", ".x", 3])
def test_bad_keys_are_rejected(key):
    with pytest.raises(ValueError, match="key must be"):
        rec.record(key, 1, show=False)


def test_bad_values_are_rejected():
    with pytest.raises(ValueError, match="finite"):
        rec.record("t.x", math.nan, show=False)
    with pytest.raises(ValueError, match="scalar"):
        rec.record("t.x", torch.ones(3), show=False)
    with pytest.raises(TypeError, match="int, float, str or bool"):
        rec.record("t.x", [1, 2], show=False)


def test_records_round_trip_through_a_notebook(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("...")
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={rec.MIME_TYPE: {"key": "a.b", "value": 1.5}, "text/plain": "x"}),
        nbformat.v4.new_output("stream", text="noise"),
        nbformat.v4.new_output("display_data", data={rec.MIME_TYPE: {"key": "a.b", "value": 2.5}, "text/plain": "x"}),
        nbformat.v4.new_output("display_data", data={rec.MIME_TYPE: {"key": "a.c", "value": "s"}, "text/plain": "x"}),
    ]
    nb.cells = [nbformat.v4.new_markdown_cell("hi"), cell]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    assert rec.records_from_notebook(path) == {"a.b": 2.5, "a.c": "s"}


def test_record_many_records_each_name_under_the_prefix():
    from effdl.core.record import RECORDS, record_many

    got = record_many("unit.many", {"a": 1}, b=2.5, c=torch.tensor(3.0))
    assert got == {"a": 1, "b": 2.5, "c": 3.0}
    assert RECORDS["unit.many.a"] == 1 and RECORDS["unit.many.c"] == 3.0
    with pytest.raises(ValueError, match="at least one"):
        record_many("unit.none")
    with pytest.raises(ValueError, match="dotted lower-case"):
        record_many("unit.bad", **{"Not OK": 1})
