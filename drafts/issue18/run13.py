"""Runs drafts/issue18/13_stream_learning.ipynb via effdl.series:

python run13.py quick|full sol|student SEED OUT."""

import json
import pathlib
import sys

from effdl import series

HERE = pathlib.Path(__file__).resolve().parent
mode, sol, seed, out = sys.argv[1], sys.argv[2] == "sol", int(sys.argv[3]), sys.argv[4]
if __name__ == "__main__":
    series.notebooks_dir = lambda: HERE  # the draft stays out of notebooks/ (other tests run from this checkout)
    ch = series.Chapter(
        name="13_stream_learning",
        title="Stream-efficient learning: throughput under a compute budget",
        topic="t",
        papers="p",
        quick_s=60,
        full_s=300,
    )
    series.CATALOGUE = (*series.CATALOGUE, ch)
    (res,) = series.run(
        ["13_stream_learning"],
        quick=(mode == "quick"),
        solutions=sol,
        jobs=1,
        threads=2,
        out=out,
        parameters={"SEED": seed},
    )
    print(res.ok, res.error)
    print(json.dumps(res.records, indent=1, default=str))
