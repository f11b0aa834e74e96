"""Writes the XGBoost SHAP fixture TreeSHAPTests reads: a small model trained by XGBoost (with
missing values, so default directions matter), rows, and XGBoost's own pred_contribs for them.

    python make_xgboost_shap.py   # with xgboost (bench/gbdt's or bench/explain's venv)
"""
import os

import numpy as np
import xgboost as xgb

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(16)
x = rng.normal(size=(3000, 8)).astype(np.float32)
logit = 1.5 * x[:, 0] - x[:, 1] + np.where(x[:, 2] > 0, 1.0, -0.5) + 0.7 * x[:, 3] * x[:, 4]
y = (rng.uniform(size=3000) < 1 / (1 + np.exp(-logit))).astype(np.float32)
x[rng.uniform(size=x.shape) < 0.1] = np.nan
d = xgb.DMatrix(x, label=y, missing=np.nan)
booster = xgb.train({"objective": "binary:logistic", "tree_method": "hist", "max_depth": 4, "eta": 0.3,
                     "seed": 16, "nthread": 1}, d, num_boost_round=20)
booster.save_model(os.path.join(HERE, "xgboost-shap-model.json"))
rows = x[:60]
contribs = booster.predict(xgb.DMatrix(rows, missing=np.nan), pred_contribs=True)
np.savetxt(os.path.join(HERE, "xgboost-shap-rows.csv"), rows, delimiter=",", fmt="%.9g")
np.savetxt(os.path.join(HERE, "xgboost-shap-contribs.csv"), contribs, delimiter=",", fmt="%.9g")
print("xgboost", xgb.__version__)
