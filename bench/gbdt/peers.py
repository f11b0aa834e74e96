"""One peer run, in its own process so that its peak RSS is its own:
    peers.py TOOL TRAIN TEST FORMAT OBJECTIVE ROUNDS THREADS MODEL_OUT
TOOL is lightgbm or xgboost. Loads the files with pandas, trains with the benchmark's parameters,
predicts the test set, times single-row prediction, and prints one JSON object."""
import json
import os
import sys
import time

import numpy as np
import pandas as pd


def load(path, fmt):
    frame = pd.read_csv(path, sep="\t" if fmt == "tsv" else ",", header=None, na_values=[""], keep_default_na=True)
    values = frame.to_numpy(dtype=np.float32)
    return values[:, 1:], values[:, 0]


def weights(path):
    """LightGBM's convention, which fsml follows: PATH.weight beside the data, one weight a line."""
    return np.loadtxt(path + ".weight", dtype=np.float32) if os.path.exists(path + ".weight") else None


def main():
    tool, train_path, test_path, fmt, objective, rounds, threads, model_out = sys.argv[1:9]
    rounds, threads = int(rounds), int(threads)
    t0 = time.perf_counter()
    x, y = load(train_path, fmt)
    xt, yt = load(test_path, fmt)
    load_seconds = time.perf_counter() - t0
    if tool == "lightgbm":
        import lightgbm as lgb
        params = {"objective": "binary" if objective == "binary" else "regression", "num_leaves": 31,
                  "learning_rate": 0.1, "max_bin": 255, "lambda_l2": 1.0, "num_threads": threads, "verbose": -1,
                  "seed": 0, "deterministic": True}
        t0 = time.perf_counter()
        dataset = lgb.Dataset(x, label=y, weight=weights(train_path), params={"max_bin": 255, "verbose": -1})
        dataset.construct()
        t1 = time.perf_counter()
        booster = lgb.train(params, dataset, num_boost_round=rounds)
        t2 = time.perf_counter()
        predict = lambda m: booster.predict(m, num_threads=threads)
        single = lambda row: booster.predict(row, num_threads=1)
        booster.save_model(model_out)
    else:
        import xgboost as xgb
        params = {"objective": "binary:logistic" if objective == "binary" else "reg:squarederror",
                  "tree_method": "hist", "grow_policy": "lossguide", "max_leaves": 31, "max_depth": 0, "eta": 0.1,
                  "max_bin": 255, "lambda": 1.0, "nthread": threads, "min_child_weight": 1e-3}
        # QuantileDMatrix bins once, here, as its experts use it with hist: binning is timed apart
        # from training, as it is for fsml and LightGBM.
        t0 = time.perf_counter()
        dtrain = xgb.QuantileDMatrix(
            x, label=y, weight=weights(train_path), missing=np.nan, nthread=threads, max_bin=255)
        t1 = time.perf_counter()
        booster = xgb.train(params, dtrain, num_boost_round=rounds)
        t2 = time.perf_counter()
        predict = lambda m: booster.inplace_predict(m)
        single = lambda row: booster.inplace_predict(row)
        booster.save_model(model_out)
    start = time.perf_counter()
    predictions = predict(xt)
    batch_seconds = time.perf_counter() - start
    latencies = []
    for i in range(2000):
        row = xt[i % len(xt):i % len(xt) + 1]
        s = time.perf_counter()
        single(row)
        latencies.append(time.perf_counter() - s)
    latencies.sort()
    np.savetxt(model_out + ".pred", predictions)
    print(json.dumps({
        "load_seconds": load_seconds, "dataset_seconds": t1 - t0, "training_seconds": t2 - t1,
        "batch_rows_per_second": len(xt) / batch_seconds, "single_row_p50_ns": latencies[len(latencies) // 2] * 1e9,
        "predictions": model_out + ".pred",
    }))


if __name__ == "__main__":
    main()
