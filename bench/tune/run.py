"""The tuning benchmark: `fsml tune` (TPE, 30 trials, 3 rolling-origin folds by time with a gap of
the label horizon) on the shop's dataset, against the default parameters on the same folds, and
against Optuna's TPE driving LightGBM with the same space, budget, seed, early stopping and folds
(read from the study's study.json: the same rows in every fold). The objective on both sides is
the mean over the folds of the validation AUC at the iteration early stopping keeps. Writes the
`tune` section of bench/RESULTS.md and tune-bench.json.

    run.py --fsml .build/release/fsml --dataset data/datasets/<id>.parquet --work data/bench/tune --out artifacts/reports
"""
import argparse
import json
import os
import sys
import time

import lightgbm as lgb
import numpy as np
import optuna
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
from measure import measured  # noqa: E402
from results import command_line, load_average, table, write_section  # noqa: E402

SPACE = ("learning_rate=loguniform(0.01,0.3) num_leaves=int(8,128) feature_fraction=uniform(0.5,1) "
         "min_data_in_leaf=choice(10,20,50) lambda_l2=loguniform(0.001,10)")


def lgb_space(trial):
    return {
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
        "num_leaves": trial.suggest_int("num_leaves", 8, 128),
        "feature_fraction": trial.suggest_float("feature_fraction", 0.5, 1.0),
        "min_data_in_leaf": trial.suggest_categorical("min_data_in_leaf", [10, 20, 50]),
        "lambda_l2": trial.suggest_float("lambda_l2", 0.001, 10, log=True),
    }


def folds_of(study, frame):
    """The study's folds as row masks: training rows before train_end, validation rows in [valid_start, valid_end)."""
    t = pd.to_datetime(frame[study["columns"]["time"]], utc=True)
    out = []
    for f in study["folds"]:
        train = (t < pd.Timestamp(f["train_end"])).to_numpy()
        valid = ((t >= pd.Timestamp(f["valid_start"])) & (t < pd.Timestamp(f["valid_end"]))).to_numpy()
        assert train.sum() == f["train_rows"] and valid.sum() == f["valid_rows"], (f, train.sum(), valid.sum())
        out.append((train, valid))
    return out


def cv_auc(params, x, y, folds, rounds, early_stopping, threads):
    scores = []
    for train, valid in folds:
        p = {"objective": "binary", "metric": "auc", "verbose": -1, "num_threads": threads, "seed": 0,
             "max_bin": 255, **params}
        if p.get("feature_fraction", 1.0) < 1.0:
            p["feature_fraction_seed"] = 0
        booster = lgb.train(p, lgb.Dataset(x[train], y[train]), num_boost_round=rounds,
                            valid_sets=[lgb.Dataset(x[valid], y[valid])],
                            callbacks=[lgb.early_stopping(early_stopping, verbose=False)])
        scores.append(booster.best_score["valid_0"]["auc"])
    return float(np.mean(scores))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fsml", required=True)
    ap.add_argument("--dataset", required=True, help="the shop's training set (fsml build, Parquet)")
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--trials", type=int, default=30)
    ap.add_argument("--cv", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=500)
    ap.add_argument("--early-stopping", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    load_before = load_average()
    os.makedirs(args.work, exist_ok=True)
    os.makedirs(args.out, exist_ok=True)
    tracking = os.path.join(args.work, "experiments")

    # fsml tune (its own process, measured), then its study.json gives the folds to the peer.
    cmd = [args.fsml, "tune", "--experiment", "bench-tune", "--dataset", args.dataset, "--space", SPACE,
           "--trials", str(args.trials), "--cv", str(args.cv), "--seed", str(args.seed),
           "--param", f"num_iterations={args.rounds}", "--param", f"early_stopping_rounds={args.early_stopping}",
           "--tracking-dir", tracking, "--format", "json"]
    out, fsml_wall, fsml_rss, _ = measured(cmd)
    fsml = json.loads(out)
    study_path = os.path.join(os.path.dirname(fsml["report"]), "study.json")
    study = json.load(open(study_path))
    fsml_best_so_far = np.maximum.accumulate([v if v is not None else -1 for v in fsml["trial_values"]]).tolist()

    cols = study["columns"]
    frame = pd.read_parquet(args.dataset, columns=cols["features"] + [cols["label"], cols["time"]])
    x = frame[cols["features"]].to_numpy(dtype=np.float32)
    y = frame[cols["label"]].to_numpy(dtype=np.float32)
    folds = folds_of(study, frame)

    start = time.perf_counter()
    lgb_default = cv_auc({}, x, y, folds, args.rounds, args.early_stopping, args.threads)
    default_seconds = time.perf_counter() - start

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=args.seed)
    ostudy = optuna.create_study(direction="maximize", sampler=sampler)
    start = time.perf_counter()
    ostudy.optimize(lambda t: cv_auc(lgb_space(t), x, y, folds, args.rounds, args.early_stopping, args.threads),
                    n_trials=args.trials)
    optuna_wall = time.perf_counter() - start
    optuna_values = [t.value for t in ostudy.trials]
    optuna_best_so_far = np.maximum.accumulate(optuna_values).tolist()

    result = {
        "dataset": args.dataset, "rows": len(frame), "features": len(cols["features"]), "folds": study["folds"],
        "trials": args.trials, "space": SPACE,
        "fsml": {"default_auc": fsml["baseline_value"], "tuned_auc": fsml["best_value"],
                 "best_params": fsml["best_params"], "wall_seconds": fsml_wall, "peak_rss_mb": fsml_rss,
                 "best_so_far": fsml_best_so_far},
        "lightgbm_optuna": {"default_auc": lgb_default, "default_seconds": default_seconds,
                            "tuned_auc": ostudy.best_value, "best_params": ostudy.best_params,
                            "wall_seconds": optuna_wall + default_seconds, "best_so_far": optuna_best_so_far},
    }
    json.dump(result, open(os.path.join(args.out, "tune-bench.json"), "w"), indent=2)

    f, o = result["fsml"], result["lightgbm_optuna"]
    checkpoints = [c for c in (5, 10, 20, 30, 50, 100) if c <= args.trials]
    lines = [
        f"The shop's dataset ({len(frame):,} examples × {len(cols['features'])} features), {args.cv} rolling-origin "
        f"folds by time (gap {study['settings']['gap']}; validation blocks from {study['folds'][0]['valid_start']}), "
        f"the same rows in every fold on both sides; objective: the mean over the folds of the validation AUC at "
        f"early stopping's iteration ({args.rounds} rounds at most, patience {args.early_stopping}); {args.trials} "
        f"TPE trials with seed {args.seed}, no pruning, over `{SPACE}`. The default parameters are LightGBM's "
        f"(learning_rate 0.1, num_leaves 31, min_data_in_leaf 20) with the same rounds and early stopping.", "",
        *table(["", "default parameters", f"tuned ({args.trials} trials)", "gain", "wall s (with defaults)"], [
            ["fsml tune (TPE)", f"{f['default_auc']:.5f}", f"{f['tuned_auc']:.5f}",
             f"{f['tuned_auc'] - f['default_auc']:+.5f}", f"{f['wall_seconds']:.0f}"],
            ["LightGBM + Optuna TPE", f"{o['default_auc']:.5f}", f"{o['tuned_auc']:.5f}",
             f"{o['tuned_auc'] - o['default_auc']:+.5f}", f"{o['wall_seconds']:.0f}"],
        ]), "",
        "Best so far after n trials:", "",
        *table(["trials"] + [str(c) for c in checkpoints], [
            ["fsml tune"] + [f"{f['best_so_far'][c - 1]:.5f}" for c in checkpoints],
            ["LightGBM + Optuna"] + [f"{o['best_so_far'][c - 1]:.5f}" for c in checkpoints],
        ]), "",
        f"Best parameters: fsml {json.dumps(f['best_params'])}; Optuna "
        f"{json.dumps({k: round(v, 5) if isinstance(v, float) else v for k, v in o['best_params'].items()})}.",
    ]
    write_section("tune", "Tuning: fsml tune beside Optuna's TPE with LightGBM", command_line("bench-tune"), lines,
                  load_before)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
