import json, sys
sys.path.insert(0, "/work/pending")
import check_11_stratified_models as c
for path, full in [(a.split(":")[0], a.endswith(":full")) for a in sys.argv[1:]]:
    rec = json.load(open(path))
    rec = rec["11_stratified_models"]["records"]
    (c.check_full if full else c.check)(rec)
    print("OK", path, "full" if full else "quick")
