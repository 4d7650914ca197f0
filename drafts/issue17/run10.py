import sys, time, json
from effdl import series
mode, sol, seed, out = sys.argv[1], sys.argv[2] == "sol", int(sys.argv[3]), sys.argv[4]
if __name__ == '__main__':
    ch = series.Chapter(name="10_random_smoothing", title="Random smoothing in kernel gradient descent", topic="t", papers="p", quick_s=60, full_s=300)
    series.CATALOGUE = (*series.CATALOGUE, ch)
    t = time.perf_counter()
    (res,) = series.run(["10_random_smoothing"], quick=(mode == "quick"), solutions=sol, jobs=1, threads=2, out=out, parameters={"SEED": seed})
    print("wall", time.perf_counter() - t)
    print(res.ok, res.error)
    print(json.dumps(res.records, indent=1, default=str))
    