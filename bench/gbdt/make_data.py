"""Writes the seeded synthetic binary set of the GBDT benchmark: N rows x 40 features, about 5 %
missing values in 10 of them, labels drawn from a known nonlinear probability (so the best possible
AUC is known). CSV, label in column 0, no header. Usage: make_data.py OUT_DIR [ROWS] [SEED]"""
import json
import os
import sys

import numpy as np


def make(rows, rng):
    x = np.empty((rows, 40), dtype=np.float64)
    x[:, 0:10] = rng.normal(size=(rows, 10))
    x[:, 10:20] = rng.uniform(-2, 2, size=(rows, 10))
    x[:, 20:25] = rng.lognormal(0, 0.8, size=(rows, 5))
    x[:, 25:30] = rng.integers(0, 12, size=(rows, 5)).astype(np.float64)  # ordinal, few values
    x[:, 30:35] = x[:, 0:5] * 0.6 + rng.normal(scale=0.8, size=(rows, 5))  # correlated copies
    x[:, 35:40] = rng.normal(size=(rows, 5))  # pure noise
    logit = (
        0.9 * x[:, 0] - 0.7 * x[:, 1] + 0.5 * np.sin(2 * x[:, 2]) + 0.6 * (x[:, 3] > 0.5)
        + 0.4 * x[:, 4] * x[:, 5] + 0.5 * np.abs(x[:, 10]) - 0.45 * (x[:, 11] ** 2) / 2
        + 0.35 * np.log(x[:, 20]) + 0.15 * (x[:, 25] - 6) / 3 + 0.6 * ((x[:, 26] % 3) == 0)
        - 0.3 * x[:, 12] * (x[:, 13] > 0) - 0.5
    )
    p = 1 / (1 + np.exp(-logit))
    y = (rng.uniform(size=rows) < p).astype(np.float64)
    # Missing values in 10 features; in two of them missingness depends on the label's drivers.
    for j in [1, 4, 7, 11, 14, 21, 26, 31, 33, 38]:
        rate = 0.05
        mask = rng.uniform(size=rows) < rate
        if j in (1, 11):
            mask = rng.uniform(size=rows) < (rate * 2 * p)
        x[mask, j] = np.nan
    return x, y, p


def write(path, x, y):
    with open(path, "w") as f:
        for start in range(0, len(y), 100_000):
            block = np.column_stack([y[start:start + 100_000], x[start:start + 100_000]])
            lines = []
            for row in block:
                lines.append(",".join("" if np.isnan(v) else f"{v:.6g}" for v in row))
            f.write("\n".join(lines) + "\n")


def auc(p, y):
    order = np.argsort(p, kind="mergesort")
    ranks = np.empty(len(p))
    ranks[order] = np.arange(1, len(p) + 1)
    pos = y == 1
    return (ranks[pos].sum() - pos.sum() * (pos.sum() + 1) / 2) / (pos.sum() * (~pos).sum())


def main():
    out = sys.argv[1]
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 7
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(seed)
    x, y, _ = make(rows, rng)
    xt, yt, pt = make(rows // 5, rng)
    write(os.path.join(out, "synth_train.csv"), x, y)
    write(os.path.join(out, "synth_test.csv"), xt, yt)
    with open(os.path.join(out, "synth_info.json"), "w") as f:
        json.dump({"rows": rows, "test_rows": rows // 5, "seed": seed, "bayes_test_auc": auc(pt, yt),
                   "positive_rate": float(y.mean())}, f)


if __name__ == "__main__":
    main()
