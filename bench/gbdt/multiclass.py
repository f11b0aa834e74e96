"""Multiclass: fsml against LightGBM and XGBoost (hist, lossguide) on LightGBM's multiclass example
(multiclass.train / multiclass.test, 5 classes), the example's train.conf parameters (num_leaves 31,
learning_rate 0.05, max_bin 255) for 100 rounds without early stopping, at 1 and 2 threads. Test
multi_logloss and accuracy of every tool are computed here, by one function, from its probabilities.
    multiclass.py --fsml .build/release/fsml --shared ../shared/data/gbdt --work data/bench/gbdt --out artifacts/reports
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

CLASSES = 5
ROUNDS = 100
RUNS = 5
PARAMS = {"num_leaves": 31, "learning_rate": 0.05, "max_bin": 255}


def scores(p, y):
    """multi_logloss (probabilities clipped at 1e-15) and accuracy (the first most probable class)."""
    p = np.asarray(p).reshape(len(y), CLASSES)
    truth = p[np.arange(len(y)), y.astype(int)]
    return float(np.mean(-np.log(np.clip(truth, 1e-15, 1)))), float(np.mean(np.argmax(p, axis=1) == y))


def load(path):
    values = np.loadtxt(path, delimiter="\t", dtype=np.float32)
    return values[:, 1:], values[:, 0]


def peer_main():
    _, _, tool, train, test, threads, out = sys.argv
    import resource
    threads = int(threads)
    x, y = load(train)
    xt, _ = load(test)
    if tool == "lightgbm":
        import lightgbm as lgb
        dataset = lgb.Dataset(x, y, params={"max_bin": 255, "verbose": -1})
        t0 = time.perf_counter()
        dataset.construct()
        t1 = time.perf_counter()
        booster = lgb.train({**PARAMS, "objective": "multiclass", "num_class": CLASSES, "num_threads": threads,
                             "verbose": -1, "seed": 0, "deterministic": True}, dataset, num_boost_round=ROUNDS)
        t2 = time.perf_counter()
        predictions = booster.predict(xt, num_threads=threads)
    else:
        import xgboost as xgb
        t0 = time.perf_counter()
        dataset = xgb.QuantileDMatrix(x, y, max_bin=255, nthread=threads)
        t1 = time.perf_counter()
        booster = xgb.train({"objective": "multi:softprob", "num_class": CLASSES, "tree_method": "hist",
                             "grow_policy": "lossguide", "max_leaves": 31, "max_depth": 0, "eta": 0.05,
                             "max_bin": 255, "nthread": threads, "seed": 0}, dataset, num_boost_round=ROUNDS)
        t2 = time.perf_counter()
        predictions = booster.predict(xgb.DMatrix(xt, nthread=threads))
    np.savetxt(out, predictions)
    print(json.dumps({"predictions": out, "bin_seconds": t1 - t0, "training_seconds": t2 - t1,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


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
    train, test = f"{args.shared}/multiclass.train", f"{args.shared}/multiclass.test"
    _, labels = load(test)
    rows, report = [], []
    for threads in [int(t) for t in args.threads.split(",")]:
        model = os.path.join(args.work, f"fsml-multiclass-{threads}.json")
        cmd = [args.fsml, "train", "--data", train, "--data-format", "tsv", "--out", model, "--format", "json",
               "--param", "objective=multiclass", "--param", f"num_class={CLASSES}",
               "--param", f"num_iterations={ROUNDS}", "--param", f"num_threads={threads}"]
        cmd += sum((["--param", f"{k}={v}"] for k, v in PARAMS.items()), [])
        # Every tool RUNS times, taking turns; each deterministic, so one run's predictions stand for all and
        # the training seconds are the median.
        fsml_seconds, peers = [], {"lightgbm": [], "xgboost": []}
        for _ in range(RUNS):
            out, _, rss, _ = measured(cmd)
            fsml_seconds.append(json.loads(out)["training_seconds"])
            for tool in peers:
                peers[tool].append(json.loads(measured([sys.executable, __file__, "--peer-run", tool, train, test,
                                                        str(threads),
                                                        os.path.join(args.work, f"{tool}-multiclass-{threads}.pred")])[0]))
        measured([args.fsml, "predict", "--model", model, "--data", test, "--data-format", "tsv", "--out",
                  model + ".pred"])
        runs = [("fsml", np.loadtxt(model + ".pred"), float(np.median(fsml_seconds)), rss)]
        # The XGBoost export predicts the same in xgboost (Float32 leaves).
        import xgboost as xgb
        measured([args.fsml, "model", "export-xgboost", model, model + ".xgb.json"])
        exported = xgb.Booster(model_file=model + ".xgb.json")
        xt, _ = load(test)
        export_diff = float(np.max(np.abs(exported.predict(xgb.DMatrix(xt, feature_names=exported.feature_names))
                                          - runs[0][1])))
        for tool, results in peers.items():
            runs.append((tool, np.loadtxt(results[-1]["predictions"]),
                         float(np.median([r["training_seconds"] for r in results])), results[-1]["peak_rss_mb"]))
        lightgbm_seconds = runs[1][2]
        for tool, p, seconds, mb in runs:
            logloss, accuracy = scores(p, labels)
            report.append({"threads": threads, "tool": tool, "multi_logloss": logloss, "accuracy": accuracy,
                           "training_seconds": seconds, "peak_rss_mb": mb,
                           **({"xgboost_export_max_abs_diff": export_diff} if tool == "fsml" else {})})
            rows.append([threads, tool, f"{logloss:.4f}", f"{accuracy:.3f}", f"{seconds:.2f}",
                         f"{seconds / lightgbm_seconds:.2f}", f"{mb:.0f}"])
        print(f"multiclass, {threads} thread(s): done; XGBoost export max |difference| {export_diff:.2e}",
              file=sys.stderr)
    with open(os.path.join(args.out, "gbdt-multiclass-bench.json"), "w") as f:
        json.dump(report, f, indent=2)
    write_section("gbdt-multiclass", "Multiclass: fsml, LightGBM, XGBoost", command_line("bench-gbdt"),
                  [f"LightGBM's multiclass example: multiclass.train (7,000 rows, 28 features, {CLASSES} classes) and "
                   f"multiclass.test (500 rows); its train.conf parameters ({', '.join(f'{k} {v}' for k, v in PARAMS.items())}) "
                   f"for {ROUNDS} rounds, no early stopping; XGBoost hist, lossguide, max_leaves 31. Test multi_logloss and "
                   "accuracy of every tool computed by one function from its probabilities; training seconds exclude "
                   f"loading and binning, the median of {RUNS} runs of each tool taking turns; peak RSS of each tool's own process. fsml's XGBoost export, loaded in "
                   f"xgboost, predicts within {max(r.get('xgboost_export_max_abs_diff', 0) for r in report):.1e} of fsml.",
                   ""] +
                  table(["threads", "tool", "test multi_logloss", "accuracy", "train s", "train ÷ LightGBM",
                         "peak RSS MB"], rows), load_before)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--peer-run":
        peer_main()
    else:
        main()
