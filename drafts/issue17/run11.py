import sys, time
from effdl import series
ch = series.Chapter(name="11_stratified_models", title="Laplacian regularized stratified models with a learned graph",
                    topic="stratified models", papers="Tuck et al. 2021; Cheng et al. 2023", quick_s=30, full_s=40)
series.CATALOGUE = (*series.CATALOGUE, ch)
if __name__ == "__main__":
    quick = sys.argv[1] == "quick"; sol = sys.argv[2] == "sol"; seed = int(sys.argv[3]); out = sys.argv[4]
    t = time.perf_counter()
    (res,) = series.run(["11_stratified_models"], quick=quick, solutions=sol, jobs=1, threads=2, out=out,
                        parameters={"SEED": seed})
    print("TIME", time.perf_counter() - t)
    print(res.ok, res.error)
    import json; print(json.dumps(res.records, indent=1, default=str))
