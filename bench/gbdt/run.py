"""The GBDT benchmark: fsml against LightGBM and XGBoost (hist) with equal parameters
(num_leaves 31, learning_rate 0.1, max_bin 255, lambda_l2 1, 2 threads) on LightGBM's example
data and on a seeded 1 M x 40 synthetic set with missing values. Each run is its own process;
wall times and peak RSS are measured per process. Writes gbdt-bench.{json,md}.

    run.py --fsml .build/release/fsml --shared ../shared/data/gbdt --work data/bench/gbdt --out artifacts/reports
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
from sklearn.metrics import log_loss, mean_squared_error, roc_auc_score

HERE = os.path.dirname(os.path.abspath(__file__))
SMALL_RUNS = 5
sys.path.insert(0, os.path.join(HERE, "..", "common"))
from measure import measured  # noqa: E402
from results import command_line, load_average, table, write_section  # noqa: E402


def run_measured(cmd):
    out, wall, rss, _ = measured(cmd)
    return out, wall, rss


def labels(path, fmt):
    sep = "\t" if fmt == "tsv" else ","
    with open(path) as f:
        return np.array([float(line.split(sep, 1)[0]) for line in f])


def scores(objective, y, p, w=None):
    """Test metrics, weighted by the test file's .weight when it has one (every tool trains on its
    training file's .weight, as LightGBM's example intends)."""
    if objective == "binary":
        return {"auc": roc_auc_score(y, p, sample_weight=w),
                "logloss": log_loss(y, np.clip(p, 1e-15, 1 - 1e-15), sample_weight=w)}
    return {"rmse": mean_squared_error(y, p, sample_weight=w) ** 0.5}


def test_weights(path):
    return np.loadtxt(path + ".weight") if os.path.exists(path + ".weight") else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fsml", required=True)
    ap.add_argument("--shared", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--threads", default="1,2", help="thread counts, comma-separated; each dataset runs at each")
    ap.add_argument("--only", default="", help="run only the datasets whose names contain this (e.g. synthetic)")
    args = ap.parse_args()
    load_before = load_average()
    thread_counts = [int(t) for t in args.threads.split(",")]
    os.makedirs(args.work, exist_ok=True)
    os.makedirs(args.out, exist_ok=True)
    if not os.path.exists(os.path.join(args.work, "synth_train.csv")):
        subprocess.check_call([sys.executable, os.path.join(HERE, "make_data.py"), args.work, str(args.rows), "7"])
    info = json.load(open(os.path.join(args.work, "synth_info.json")))
    datasets = [
        ("binary", f"{args.shared}/binary.train", f"{args.shared}/binary.test", "tsv", "binary", 100),
        ("regression", f"{args.shared}/regression.train", f"{args.shared}/regression.test", "tsv", "regression", 100),
        ("synthetic 1M x 40", f"{args.work}/synth_train.csv", f"{args.work}/synth_test.csv", "csv", "binary", 200),
    ]
    datasets = [d for d in datasets if args.only in d[0]]
    results = []
    for name, train, test, fmt, objective, rounds in datasets:
        for threads in thread_counts:
            y_test = labels(test, fmt)
            row = {"dataset": name, "rounds": rounds, "objective": objective, "threads": threads}
            # fsml: train, predict, time prediction, export to XGBoost.
            model = os.path.join(args.work, f"fsml-{objective}-{rounds}-{threads}.json")
            params = ["num_leaves=31", "learning_rate=0.1", "max_bin=255", "lambda_l2=1", f"num_iterations={rounds}",
                      f"num_threads={threads}", f"objective={objective}"]
            cmd = [args.fsml, "train", "--data", train, "--data-format", fmt, "--out", model, "--format", "json"]
            for p in params:
                cmd += ["--param", p]
            out, wall, rss = run_measured(cmd)
            trained = json.loads(out)
            preds_path = model + ".pred"
            run_measured([args.fsml, "predict", "--model", model, "--data", test, "--data-format", fmt, "--out", preds_path])
            p = np.loadtxt(preds_path)
            bench, _, _ = run_measured([args.fsml, "bench", "predict", "--model", model, "--data", test, "--data-format", fmt, "--format", "json"])
            bench = json.loads(bench)
            row["fsml"] = {"wall_seconds": wall, "peak_rss_mb": rss, "bin_seconds": trained["binning_seconds"],
                           "training_seconds": trained["training_seconds"],
                           "bin_and_train_seconds": trained["binning_seconds"] + trained["training_seconds"],
                           "batch_rows_per_second": bench["batch_rows_per_second"],
                           "single_row_p50_ns": bench["single_row_p50_ns"], "clock_overhead_ns": bench["clock_overhead_ns"],
                           **scores(objective, y_test, p, test_weights(test))}
            # The export loads in XGBoost and predicts the same.
            exported = model + ".xgb.json"
            run_measured([args.fsml, "model", "export-xgboost", model, exported])
            import xgboost as xgb
            import pandas as pd
            xt = pd.read_csv(test, sep="\t" if fmt == "tsv" else ",", header=None).to_numpy(dtype=np.float32)[:, 1:]
            loaded = xgb.Booster(model_file=exported)
            q = loaded.predict(xgb.DMatrix(xt, missing=np.nan, feature_names=loaded.feature_names))
            row["fsml"]["xgboost_export_max_abs_diff"] = float(np.max(np.abs(q - p)))
            def peer_cmd(tool):
                return [sys.executable, os.path.join(HERE, "peers.py"), tool, train, test, fmt, objective, str(rounds),
                        str(threads), os.path.join(args.work, f"{tool}-{objective}-{rounds}-{threads}.model")]
            for tool in ["lightgbm", "xgboost"]:
                out, wall, rss = run_measured(peer_cmd(tool))
                r = json.loads(out)
                p = np.loadtxt(r["predictions"])
                row[tool] = {"wall_seconds": wall, "peak_rss_mb": rss, "bin_seconds": r["dataset_seconds"],
                             "training_seconds": r["training_seconds"],
                             "bin_and_train_seconds": r["dataset_seconds"] + r["training_seconds"],
                             "batch_rows_per_second": r["batch_rows_per_second"],
                             "single_row_p50_ns": r["single_row_p50_ns"], **scores(objective, y_test, p, test_weights(test))}
            # The small sets train in a fraction of a second, where one run says little: more runs, the tools
            # taking turns, and the median training time (the 1M set runs once: its runs take minutes).
            if name != "synthetic 1M x 40":
                times = {tool: [row[tool]["training_seconds"]] for tool in ["fsml", "lightgbm", "xgboost"]}
                for _ in range(SMALL_RUNS - 1):
                    times["fsml"].append(json.loads(run_measured(cmd)[0])["training_seconds"])
                    for tool in ["lightgbm", "xgboost"]:
                        times[tool].append(json.loads(run_measured(peer_cmd(tool))[0])["training_seconds"])
                for tool, seconds in times.items():
                    row[tool]["training_seconds"] = float(np.median(seconds))
                    row[tool]["bin_and_train_seconds"] = row[tool]["bin_seconds"] + row[tool]["training_seconds"]
                    row[tool]["training_runs"] = len(seconds)
            lgb_, fsml = row["lightgbm"], row["fsml"]
            row["ratios_fsml_over_lightgbm"] = {
                "training_seconds": fsml["training_seconds"] / lgb_["training_seconds"],
                "bin_and_train_seconds": fsml["bin_and_train_seconds"] / lgb_["bin_and_train_seconds"],
                "peak_rss": fsml["peak_rss_mb"] / lgb_["peak_rss_mb"],
                "batch_rows_per_second": fsml["batch_rows_per_second"] / lgb_["batch_rows_per_second"],
            }
            results.append(row)
            print(f"{name}, {threads} thread(s): done", file=sys.stderr)
    report = {"threads": thread_counts, "synthetic": info, "results": results,
              "parameters": "num_leaves 31, learning_rate 0.1, max_bin 255, lambda_l2 1; XGBoost hist lossguide max_leaves 31"}
    with open(os.path.join(args.out, "gbdt-bench.json"), "w") as f:
        json.dump(report, f, indent=2)
    md = ["# GBDT benchmark", "",
          f"fsml vs LightGBM and XGBoost (hist, lossguide), at {args.threads} threads, equal parameters: {report['parameters']}.",
          f"Synthetic set: {info['rows']:,} rows x 40, about 5 % missing in 10 features; best possible test AUC {info['bayes_test_auc']:.4f}.",
          "Training seconds exclude loading; 'bin+train' adds dataset construction (binning). Peak RSS is each process's own,",
          "including loading the data (pandas for the peers). Single-row latency: fsml in-process per call (including the",
          "clock's own cost, given below); peers through their Python APIs (what a Python server would see).", ""]
    for row in results:
        metric = "auc" if row["objective"] == "binary" else "rmse"
        md += [f"## {row['dataset']} ({row['rounds']} rounds, {row['threads']} thread(s))", "",
               f"| tool | test {metric} | " + ("test logloss | " if metric == "auc" else "") +
               "train s | bin+train s | peak RSS MB | batch predict rows/s | single-row p50 |",
               "|---|---|" + ("---|" if metric == "auc" else "") + "---|---|---|---|---|"]
        for tool in ["fsml", "lightgbm", "xgboost"]:
            r = row[tool]
            lat = r["single_row_p50_ns"]
            md.append(f"| {tool} | {r[metric]:.4f} | " + (f"{r['logloss']:.4f} | " if metric == "auc" else "") +
                      f"{r['training_seconds']:.2f} | {r['bin_and_train_seconds']:.2f} | {r['peak_rss_mb']:.0f} | "
                      f"{r['batch_rows_per_second']:,.0f} | {lat / 1000:.2f} µs |")
        ratio = row["ratios_fsml_over_lightgbm"]
        md += ["", f"fsml / LightGBM: training time {ratio['training_seconds']:.2f}, bin+train {ratio['bin_and_train_seconds']:.2f}, "
               f"peak RSS {ratio['peak_rss']:.2f}, batch predict throughput {ratio['batch_rows_per_second']:.2f}. "
               f"fsml's XGBoost export, loaded in xgboost: max |prediction difference| {row['fsml']['xgboost_export_max_abs_diff']:.2e}. "
               f"fsml single-row timing includes {row['fsml']['clock_overhead_ns']:.0f} ns of clock reads.", ""]
    with open(os.path.join(args.out, "gbdt-bench.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    rows = []
    for row in results:
        metric = "auc" if row["objective"] == "binary" else "rmse"
        for tool in ["fsml", "lightgbm", "xgboost"]:
            r = row[tool]
            ratio = r["training_seconds"] / row["lightgbm"]["training_seconds"]
            rows.append([row["dataset"], row["threads"], tool, f"{metric} {r[metric]:.4f}", f"{r['training_seconds']:.2f}",
                         f"{r['bin_seconds']:.2f}", f"{ratio:.2f}", f"{r['peak_rss_mb']:.0f}"])
    write_section("gbdt", "Gradient-boosted trees: fsml, LightGBM, XGBoost", command_line("bench-gbdt"),
                  [f"Equal parameters: {report['parameters']}. Training seconds exclude loading and binning "
                   "(XGBoost bins in its QuantileDMatrix); each tool in its own process. LightGBM's binary example "
                   "has sample weights beside it (binary.train.weight): every tool trains with them and the test "
                   "metric is weighted by binary.test.weight. Binary and regression: training seconds are the median of "
                   f"{SMALL_RUNS} runs of each tool, taking turns; the 1M x 40 set: one run each.", ""] +
                  table(["data", "threads", "tool", "test metric", "train s", "bin s", "train ÷ LightGBM",
                         "peak RSS MB"], rows), load_before)
    print("\n".join(md))


if __name__ == "__main__":
    main()
