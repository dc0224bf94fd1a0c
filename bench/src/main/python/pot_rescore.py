#!/usr/bin/python3
"""POT (Python Optimal Transport) half of `./mover bench rescore`.

Reads the (query, hit) pairs the Java side wrote to DIR and times, per query, the loop over its hits:
masses + cost matrix + ot.emd2 (numItermax=1e9), ot.sinkhorn2(method='sinkhorn_log') at the Java side's
epsilon / tolerance / iteration cap, or for solver "partial" ot.partial.partial_wasserstein2 (all query mass moves,
document capacities b_j / s with s = min(1, n / m): Mover's doc_mass auto), on one thread. Definitions as in ../shared/golden/README.md:
  WMD: uniform masses, C = ||x_i - y_j||_2.
  WRD: masses proportional to the vector norms, C = 1 - cos(x_i, y_j) clamped to [0, 2].
Sinkhorn: eps_abs = epsilon * max(C) (epsilon_relative_to = max_cost) or epsilon (raw); POT's stopThr is the L2 norm
of the column-marginal error, checked every 10 sweeps (the Java side stops on the L1 norm).

  /usr/bin/python3 pot_rescore.py --dir DIR

DIR/manifest.json ("mover-rescore-pot/1"): dims, queries_file and docs_file (row-major little-endian float32, one
row per token), queries [{id, row, n, docs: [doc index...], warmup}], docs [{id, row, m}], configs
[{name, metric (wmd|wrd), solver (emd|sinkhorn|partial), epsilon, epsilon_relative_to, tolerance, max_iterations}], repeats.
Writes DIR/pot.json: {"reference", "configs": {name: {"ms": [per measured query, median of repeats],
"distances": [[per hit]], "cost_max": [[per hit]], "unconverged": count}}}.

Exit code 3 when POT or numpy cannot be imported (the Java side then skips the POT column).
"""
import os

for _k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_k] = "1"

import argparse
import json
import statistics
import sys
import time
import warnings

try:
    import numpy as np
    import ot
except ImportError as e:
    print(f"[pot_rescore] cannot import POT / numpy ({e}); install them with:\n"
          "  apt-get update && apt-get install -y python3-pot python3-numpy python3-scipy\n"
          "and run with Debian's /usr/bin/python3", file=sys.stderr)
    sys.exit(3)

EMD_MAX_ITER = 10**9  # POT's default cap silently returns a non-optimal value on larger problems


def problem(metric, x, y):
    """Masses and cost matrix by the usual numpy route (what a POT user writes)."""
    if metric == "wmd":
        sq = (x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2.0 * (x @ y.T)
        return np.full(len(x), 1.0 / len(x)), np.full(len(y), 1.0 / len(y)), np.sqrt(np.maximum(sq, 0.0))
    nx, ny = np.linalg.norm(x, axis=1), np.linalg.norm(y, axis=1)
    return nx / nx.sum(), ny / ny.sum(), np.clip(1.0 - (x / nx[:, None]) @ (y / ny[:, None]).T, 0.0, 2.0)


def solve(cfg, w, v, C):
    """(value, converged) of one pair."""
    if cfg["solver"] == "partial":
        cap = v / min(1.0, len(w) / len(v))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return float(ot.partial.partial_wasserstein2(w, cap, C, m=min(w.sum(), cap.sum()), numItermax=EMD_MAX_ITER)), True
    if cfg["solver"] == "emd":
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # an iteration cap reached becomes an error, not a wrong value
            return float(ot.emd2(w, v, C, numItermax=EMD_MAX_ITER)), True
    eps = cfg["epsilon"] * (float(C.max()) if cfg["epsilon_relative_to"] == "max_cost" else 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        val, log = ot.sinkhorn2(w, v, C, eps, method="sinkhorn_log", numItermax=cfg["max_iterations"],
                                stopThr=cfg["tolerance"], log=True, warn=False)
    return float(val), int(log.get("niter", 0)) < cfg["max_iterations"] - 1


def loop(cfg, q, docs, keep):
    """The timed unit: one query against its hits."""
    out = []
    for y in docs:
        w, v, C = problem(cfg["metric"], q, y)
        val, conv = solve(cfg, w, v, C)
        if keep:
            out.append((val, float(C.max()), conv))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", required=True)
    a = ap.parse_args()
    with open(os.path.join(a.dir, "manifest.json")) as f:
        m = json.load(f)
    d = m["dims"]
    qall = np.fromfile(os.path.join(a.dir, m["queries_file"]), dtype="<f4").reshape(-1, d).astype(np.float64)
    dall = np.fromfile(os.path.join(a.dir, m["docs_file"]), dtype="<f4").reshape(-1, d).astype(np.float64)
    docs = [dall[x["row"]:x["row"] + x["m"]] for x in m["docs"]]
    repeats = int(m.get("repeats", 1))
    out = {}
    for cfg in m["configs"]:
        res = {"ms": [], "distances": [], "cost_max": [], "unconverged": 0}
        t_cfg = time.perf_counter()
        for qd in m["queries"]:
            q = qall[qd["row"]:qd["row"] + qd["n"]]
            ds = [docs[i] for i in qd["docs"]]
            if qd["warmup"]:
                loop(cfg, q, ds, False)
                continue
            runs, vals = [], None
            for _ in range(repeats):
                t0 = time.perf_counter()
                vals = loop(cfg, q, ds, True)
                runs.append(1000.0 * (time.perf_counter() - t0))
            res["ms"].append(statistics.median(runs))
            res["distances"].append([v[0] for v in vals])
            res["cost_max"].append([v[1] for v in vals])
            res["unconverged"] += sum(1 for v in vals if not v[2])
        out[cfg["name"]] = res
        print(f"[pot_rescore] {cfg['name']}: loop p50 {statistics.median(res['ms']):.2f} ms over "
              f"{len(res['ms'])} queries ({time.perf_counter() - t_cfg:.0f}s, {res['unconverged']} unconverged)",
              file=sys.stderr, flush=True)
    with open(os.path.join(a.dir, "pot.json"), "w") as f:
        json.dump({"reference": f"POT {ot.__version__}, numpy {np.__version__}, one thread", "configs": out}, f)


if __name__ == "__main__":
    main()
