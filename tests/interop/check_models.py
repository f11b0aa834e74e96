"""Checks fsml's models against LightGBM and onnxruntime. Usage: check_models.py DIR FSML
- DIR/models/OBJECTIVE.lightgbm.txt (written by ModelInteropFixtureTests) loaded by
  lightgbm.Booster predicts DIR/models/rows.csv as fsml did (OBJECTIVE.fsml.pred), within 1e-9;
- DIR/models/OBJECTIVE.onnx run by onnxruntime predicts the same within 1e-6 (ONNX keeps leaf
  values in float32);
- LightGBM models trained here on the same rows, imported with `fsml model import-lightgbm`, are
  scored by `fsml predict` as LightGBM scores them, within 1e-9.
A multiclass model's predictions are a row of class probabilities a line."""
import os
import re
import subprocess
import sys
import tempfile

import lightgbm as lgb
import numpy as np
import onnxruntime


def main():
    root, fsml = sys.argv[1], sys.argv[2]
    models = os.path.join(root, "models")
    rows = np.genfromtxt(os.path.join(models, "rows.csv"), delimiter=",", dtype=np.float32, missing_values="",
                         filling_values=np.nan)
    failures = []
    for name in sorted(os.listdir(models)):
        if not name.endswith(".lightgbm.txt"):
            continue
        objective = name[:-len(".lightgbm.txt")]
        got = lgb.Booster(model_file=os.path.join(models, name)).predict(rows)
        want = np.loadtxt(os.path.join(models, objective + ".fsml.pred"))
        worst = float(np.max(np.abs(got - want)))
        print(f"fsml {objective} model in LightGBM: max |difference| {worst:.3g}")
        if worst > 1e-9:
            failures.append(f"export {objective}")
        if not os.path.exists(os.path.join(models, objective + ".onnx")):
            continue  # categorical splits do not export to ONNX
        session = onnxruntime.InferenceSession(os.path.join(models, objective + ".onnx"))
        onnx_out = session.run(["prediction"], {"input": rows})[0]
        worst = float(np.max(np.abs(onnx_out.reshape(want.shape) - want)))
        print(f"fsml {objective} model in onnxruntime: max |difference| {worst:.3g}")
        if worst > 1e-6:
            failures.append(f"onnx {objective}")
    rng = np.random.default_rng(3)
    labels = (rows[:, 0] + rng.normal(size=len(rows)) > 1).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "rows.csv")
        np.savetxt(data, np.c_[np.zeros(len(rows)), rows], delimiter=",", fmt="%.9g")
        # Three classes: the binary label, and for positives a split on the second feature.
        classes = labels + (labels > 0) * (rows[:, 1] > 0)
        # "categorical": binary with the first feature split by category.
        for objective in ["binary", "regression", "poisson", "huber", "quantile", "multiclass", "categorical"]:
            params = {"objective": "binary" if objective == "categorical" else objective, "num_leaves": 15,
                      "min_data_in_leaf": 5, "verbose": -1, "num_threads": 1}
            if objective == "multiclass":
                params["num_class"] = 3
            categorical = "auto"
            if objective == "categorical":
                params.update({"max_cat_to_onehot": 2, "min_data_per_group": 10, "cat_smooth": 1})
                categorical = [0]
            y = classes if objective == "multiclass" else labels + (objective == "poisson")
            booster = lgb.train(params, lgb.Dataset(rows, y, categorical_feature=categorical), 20)
            if objective == "categorical" and not re.search(r"^num_cat=[1-9]", booster.model_to_string(), re.M):
                failures.append("LightGBM trained no categorical split")
            model = os.path.join(tmp, objective + ".txt")
            booster.save_model(model)
            imported = os.path.join(tmp, objective + ".json")
            subprocess.run([fsml, "model", "import-lightgbm", model, imported], check=True, capture_output=True)
            out = os.path.join(tmp, objective + ".pred")
            subprocess.run([fsml, "predict", "--model", imported, "--data", data, "--data-format", "csv", "--header",
                            "no", "--out", out], check=True, capture_output=True)
            worst = float(np.max(np.abs(np.loadtxt(out) - booster.predict(rows))))
            print(f"LightGBM {objective} model in fsml: max |difference| {worst:.3g}")
            if worst > 1e-9:
                failures.append(f"import {objective}")
    if failures:
        sys.exit("model interop failed: " + ", ".join(failures))


if __name__ == "__main__":
    main()
