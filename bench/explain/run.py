"""The explain benchmark and interop check: SHAP contributions of 100 k rows x 100 trees by
`fsml explain` (exact path-dependent TreeSHAP), against shap's TreeExplainer and XGBoost's own
pred_contribs on the same model, in the same run. Two models: one trained by XGBoost (hist,
max_depth 6) and read by fsml as XGBoost JSON, and one trained by fsml (num_leaves 31) and exported
to XGBoost JSON. fsml's contributions must equal XGBoost's within Float32 tolerance (XGBoost
computes in Float32), and sum to the margin; the run fails otherwise. Writes the explain section
of bench/RESULTS.md.

    run.py --fsml .build/release/fsml --work data/bench/explain
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import pandas as pd
import shap
import xgboost as xgb

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
from measure import measured, measured_cpu  # noqa: E402
from results import command_line, load_average, table, write_section  # noqa: E402

# Float32 tolerance for contributions of order 1 summed over 100 trees in Float32 by XGBoost.
TOLERANCE = 1e-4


def make_data(rows, features, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, features)).astype(np.float32)
    logit = 1.2 * x[:, 0] - 0.8 * x[:, 1] + np.where(x[:, 2] > 0.3, 0.9, -0.4) + 0.5 * x[:, 3] * x[:, 4]
    y = (rng.uniform(size=rows) < 1 / (1 + np.exp(-logit))).astype(np.float32)
    x[rng.uniform(size=x.shape) < 0.05] = np.nan
    return x, y


def write_csv(path, x, y):
    frame = pd.DataFrame(x, columns=[f"f{j}" for j in range(x.shape[1])])
    frame.insert(0, "label", y)
    frame.to_csv(path, index=False, na_rep="", float_format="%.9g")


def fsml_explain(fsml, model, data, out, threads):
    env_threads = os.environ.get("FSML_THREADS")
    os.environ["FSML_THREADS"] = str(threads)
    try:
        stdout, wall, rss, _, cpu = measured_cpu([fsml, "explain", "--model", model, "--data", data, "--label-column", "label",
                                         "--out", out, "--format", "json", "--top", "5"])
    finally:
        if env_threads is None:
            os.environ.pop("FSML_THREADS", None)
        else:
            os.environ["FSML_THREADS"] = env_threads
    return json.loads(stdout), wall, rss, cpu


def timed(what, f):
    """The value, wall seconds and CPU seconds (every thread of this process) of f()."""
    start = time.perf_counter()
    cpu = time.process_time()
    value = f()
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    print(f"explain: {what} {seconds:.2f} s ({cpu:.2f} CPU s)", file=sys.stderr, flush=True)
    return value, seconds, cpu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fsml", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--features", type=int, default=20)
    ap.add_argument("--trees", type=int, default=100)
    ap.add_argument("--no-results", action="store_true", help="do not write bench/RESULTS.md")
    args = ap.parse_args()
    load_before = load_average()
    os.makedirs(args.work, exist_ok=True)
    x, y = make_data(args.rows, args.features, 7)
    data = os.path.join(args.work, "explain.csv")
    write_csv(data, x, y)
    dmatrix = xgb.DMatrix(x, label=y, missing=np.nan, feature_names=[f"f{j}" for j in range(args.features)])

    # Model 1: trained by XGBoost, read by fsml from its JSON.
    booster = xgb.train({"objective": "binary:logistic", "tree_method": "hist", "max_depth": 6, "eta": 0.1,
                         "nthread": 2, "seed": 7}, dmatrix, num_boost_round=args.trees)
    xgb_model = os.path.join(args.work, "xgboost-model.json")
    booster.save_model(xgb_model)
    # Model 2: trained by fsml, exported to XGBoost JSON.
    fsml_model = os.path.join(args.work, "fsml-model.json")
    exported = os.path.join(args.work, "fsml-model.xgb.json")
    measured([args.fsml, "train", "--data", data, "--label-column", "label", "--out", fsml_model, "--param",
              f"num_iterations={args.trees}", "--param", "num_leaves=31"])
    measured([args.fsml, "model", "export-xgboost", fsml_model, exported])

    failures = []
    rows = []
    checks = []
    for name, fsml_input, xgb_input in (("trained by XGBoost (max_depth 6)", xgb_model, xgb_model),
                                        ("trained by fsml (31 leaves), exported", fsml_model, exported)):
        model = xgb.Booster(model_file=xgb_input)
        leaves = sum(1 for line in model.get_dump() for node in line.split("\n") if "leaf=" in node)
        out = os.path.join(args.work, "contributions.csv")
        timings = {}
        for threads in (1, 2):
            result, wall, rss, cpu = fsml_explain(args.fsml, fsml_input, data, out, threads)
            timings[f"fsml {threads}"] = (result["seconds"], cpu, wall, rss)
            print(f"explain: fsml, {threads} thread(s) {result['seconds']:.2f} s ({wall:.2f} s wall)", file=sys.stderr,
                  flush=True)
        ours = pd.read_csv(out).to_numpy()
        margins = model.predict(dmatrix, output_margin=True)
        for threads in (1, 2):
            model.set_param({"nthread": threads})
            theirs, seconds, cpu = timed(f"XGBoost pred_contribs, {threads} thread(s)",
                                    lambda: model.predict(dmatrix, pred_contribs=True))
            timings[f"xgboost {threads}"] = (seconds, cpu, None, None)
        explainer = shap.TreeExplainer(model)
        values, seconds, cpu = timed("shap TreeExplainer", lambda: explainer.shap_values(x))
        timings["shap"] = (seconds, cpu, None, None)
        diff = float(np.max(np.abs(ours - theirs)))
        shap_diff = float(np.max(np.abs(ours[:, :-1] - values)))
        bias_diff = abs(float(ours[0, -1]) - float(np.atleast_1d(explainer.expected_value)[0]))
        sum_diff = float(np.max(np.abs(ours.sum(axis=1) - margins)))
        checks.append(f"- {name}: {model.num_boosted_rounds()} trees, {leaves} leaves; max |fsml − XGBoost "
                      f"pred_contribs| {diff:.2e} (bias included), max |fsml − shap| {shap_diff:.2e}, "
                      f"bias − shap's expected_value {bias_diff:.2e}, max |Σ fsml − XGBoost margin| {sum_diff:.2e}")
        if diff > TOLERANCE or shap_diff > TOLERANCE or sum_diff > TOLERANCE:
            failures.append(name)
        shap_seconds, shap_cpu = timings["shap"][0], timings["shap"][1]
        for label, (seconds, cpu, wall, rss) in timings.items():
            rows.append([name, label.replace("fsml", "fsml explain").replace("xgboost", "XGBoost pred_contribs")
                         .replace("shap", "shap TreeExplainer (1 thread)"),
                         f"{seconds:.2f}", f"{shap_seconds / seconds:.2f}x", f"{cpu:.2f}", f"{shap_cpu / cpu:.2f}x",
                         f"{wall:.2f}" if wall else "", f"{rss:.0f}" if rss else ""])
    header = ["model", "explainer (threads)", "contributions s", "vs shap", "CPU s", "CPU vs shap", "process wall s",
              "peak RSS MB"]
    body = [f"{args.rows:,} rows x {args.features} features (5 % missing), {args.trees} trees, binary:logistic; "
            "contributions by exact path-dependent TreeSHAP. `contributions s` is the computation alone (fsml's "
            "own timer around it; Python's around the call); the fsml process also parses the CSV and writes "
            "the contributions CSV. CPU s is user + system time of every thread: of the fsml process (so it includes "
            "parsing and writing), of the Python process during the call for the others; on a loaded machine it is the "
            "fairer comparison. shap's TreeExplainer computes on one thread.", "",
            *table(header, rows), "", "Agreement (the run fails beyond " + f"{TOLERANCE:g}):", *checks]
    print("\n".join(body))
    if not args.no_results:
        write_section("explain", "explain: SHAP contributions against shap and XGBoost",
                      command_line("bench-explain"), body, load_before)
    if failures:
        sys.exit("explain: contributions differ beyond tolerance for " + ", ".join(failures))


if __name__ == "__main__":
    main()
