"""Learning to rank: fsml against LightGBM on LightGBM's lambdarank example (rank.train / rank.test
with their .query files), lambdarank and rank_xendcg, the example's train.conf parameters with
bagging off, at 1 and 2 threads. Test NDCG@1/3/5/10 of every tool is computed here, by one
function, from its predictions.
    rank.py --fsml .build/release/fsml --shared ../shared/data/gbdt --work data/bench/gbdt --out artifacts/reports
"""
import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
from measure import measured  # noqa: E402
from results import command_line, load_average, table, write_section  # noqa: E402

PARAMS = {"num_leaves": 31, "learning_rate": 0.1, "min_data_in_leaf": 50, "min_sum_hessian_in_leaf": 5.0,
          "max_bin": 255}
ROUNDS = 100
SEEDS = 5


def ndcg(scores, labels, groups, k):
    """Mean NDCG@k over queries, gains 2^label − 1, a query without relevant documents counting 1
    (LightGBM's convention), ties in score in file order."""
    out, start = [], 0
    for size in groups:
        s, l = scores[start:start + size], labels[start:start + size]
        start += size
        ideal = sum((2 ** v - 1) / np.log2(i + 2) for i, v in enumerate(sorted(l, reverse=True)[:k]))
        if ideal == 0:
            out.append(1.0)
            continue
        order = np.argsort(-s, kind="stable")[:k]
        out.append(sum((2 ** l[j] - 1) / np.log2(i + 2) for i, j in enumerate(order)) / ideal)
    return float(np.mean(out))


def lightgbm_run(train, test, objective, threads, seed):
    """In this process: LightGBM's own timing of training only."""
    import lightgbm as lgb
    from sklearn.datasets import load_svmlight_file
    x, y = load_svmlight_file(train)
    xt, _ = load_svmlight_file(test, n_features=x.shape[1])
    group = np.loadtxt(train + ".query", dtype=int)
    dataset = lgb.Dataset(x, y, group=group, params={"max_bin": 255, "verbose": -1})
    t0 = time.perf_counter()
    dataset.construct()
    t1 = time.perf_counter()
    booster = lgb.train({**PARAMS, "objective": objective, "num_threads": threads, "verbose": -1, "seed": seed,
                         "deterministic": True}, dataset, num_boost_round=ROUNDS)
    t2 = time.perf_counter()
    return booster.predict(xt, num_threads=threads), t1 - t0, t2 - t1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fsml", required=True)
    ap.add_argument("--shared", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", default="1,2")
    args = ap.parse_args()
    load_before = load_average()
    os.makedirs(args.work, exist_ok=True)
    train, test = f"{args.shared}/rank.train", f"{args.shared}/rank.test"
    labels = np.array([float(line.split(" ", 1)[0]) for line in open(test)])
    groups = np.loadtxt(test + ".query", dtype=int)
    rows, report = [], []
    for objective in ["lambdarank", "rank_xendcg"]:
        for threads in [int(t) for t in args.threads.split(",")]:
            # XE-NDCG draws noise every round: its NDCG is the mean over seeds, each tool the same seeds.
            # Lambdarank is deterministic: the same seed as many times, for the median time.
            seeds = range(SEEDS) if objective == "rank_xendcg" else [0] * SEEDS
            runs = {"fsml": [], "lightgbm": []}
            for seed in seeds:
                model = os.path.join(args.work, f"fsml-{objective}-{threads}-{seed}.json")
                cmd = [args.fsml, "train", "--data", train, "--data-format", "libsvm", "--out", model, "--format",
                       "json", "--param", f"objective={objective}", "--param", f"num_iterations={ROUNDS}",
                       "--param", f"num_threads={threads}", "--param", f"seed={seed}"]
                cmd += sum((["--param", f"{k}={v}"] for k, v in PARAMS.items()), [])
                out, _, rss, _ = measured(cmd)
                trained = json.loads(out)
                measured([args.fsml, "predict", "--model", model, "--data", test, "--data-format", "libsvm",
                          "--out", model + ".pred"])
                runs["fsml"].append((np.loadtxt(model + ".pred"), trained["training_seconds"]))
                peer = json.loads(measured([sys.executable, __file__, "--peer-run", train, test, objective,
                                            str(threads), str(seed),
                                            os.path.join(args.work, f"lightgbm-{objective}-{threads}-{seed}.pred")])[0])
                runs["lightgbm"].append((np.loadtxt(peer["predictions"]), peer["training_seconds"]))
            peer_seconds = float(np.median([t for _, t in runs["lightgbm"]]))
            for tool in ["fsml", "lightgbm"]:
                values = [float(np.mean([ndcg(p, labels, groups, k) for p, _ in runs[tool]])) for k in (1, 3, 5, 10)]
                seconds = float(np.median([t for _, t in runs[tool]]))
                report.append({"objective": objective, "threads": threads, "tool": tool, "ndcg": values,
                               "training_seconds": seconds, "runs": len(seeds)})
                rows.append([objective, threads, tool, *[f"{v:.4f}" for v in values], f"{seconds:.2f}",
                             f"{seconds / peer_seconds:.2f}"])
            print(f"{objective}, {threads} thread(s): done", file=sys.stderr)
    with open(os.path.join(args.out, "gbdt-rank-bench.json"), "w") as f:
        json.dump(report, f, indent=2)
    write_section("gbdt-rank", "Learning to rank: fsml and LightGBM", command_line("bench-gbdt"),
                  [f"LightGBM's lambdarank example: rank.train (3,005 rows in 201 queries, 300 sparse features) and "
                   f"rank.test (768 rows, 50 queries) with their .query files; the example's train.conf parameters "
                   f"({', '.join(f'{k} {v}' for k, v in PARAMS.items())}, {ROUNDS} rounds) with bagging off. "
                   f"rank_xendcg draws noise each round: its NDCG is the mean over seeds 0–{SEEDS - 1} for both tools; lambdarank "
                   f"runs {SEEDS} times with seed 0. Training seconds are the median of those {SEEDS} runs, the tools taking turns. NDCG of every tool's test predictions computed by one function (gains 2^label − 1, a query with "
                   "nothing relevant counts 1); training seconds exclude loading and binning.", ""] +
                  table(["objective", "threads", "tool", "NDCG@1", "NDCG@3", "NDCG@5", "NDCG@10", "train s",
                         "train ÷ LightGBM"], rows), load_before)


def peer_main():
    _, _, train, test, objective, threads, seed, out = sys.argv
    import resource
    predictions, bin_seconds, train_seconds = lightgbm_run(train, test, objective, int(threads), int(seed))
    np.savetxt(out, predictions)
    print(json.dumps({"predictions": out, "bin_seconds": bin_seconds, "training_seconds": train_seconds,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--peer-run":
        peer_main()
    else:
        main()
