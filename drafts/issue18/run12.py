"""Runs the chapter-12 draft with effdl.series (python drafts/issue18/run12.py quick|full sol|student SEED OUT)."""

import json
import sys
from pathlib import Path

from effdl import series

mode, sol, seed, out = sys.argv[1], sys.argv[2] == "sol", int(sys.argv[3]), sys.argv[4]
if __name__ == "__main__":
    ch = series.Chapter(name="12_flad_bandits", title="Few-shot learning with auxiliary data: FLAD bandits",
                        topic="t", papers="p", quick_s=60, full_s=300)  # fmt: skip
    series.CATALOGUE = (*series.CATALOGUE, ch)
    series.notebooks_dir = lambda: Path(__file__).resolve().parent  # the draft, not notebooks/
    (res,) = series.run(["12_flad_bandits"], quick=(mode == "quick"), solutions=sol, jobs=1, threads=2, out=out,
                        parameters={"SEED": seed})  # fmt: skip
    print(res.ok, res.error)
    print(json.dumps(res.records, indent=1, default=str))
