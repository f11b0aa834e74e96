"""Reads the runs fsml's tests tracked with MLflow itself (mlflow-skinny's file store) and checks
that MLflow sees exactly what fsml wrote: experiments, runs, status, params, latest metrics, metric
histories, tags, aliases (experiment tags) and artifacts.

Usage: check_mlflow.py TRACKING_DIR   (written by fsmlTests when FSML_INTEROP_DIR is set)
"""
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
import mlflow  # noqa: E402
from mlflow.entities import ViewType  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402


def fail(message):
    print(f"check_mlflow: {message}", file=sys.stderr)
    sys.exit(1)


def main():
    root = Path(sys.argv[1]).resolve()
    summaries = [json.loads(p.read_text()) for p in root.glob("*/*/fsml-run.json")]
    if not summaries:
        fail(f"no fsml runs under {root}: the tracking tests did not write here")
    client = MlflowClient(tracking_uri=root.as_uri())
    experiments = {e.experiment_id: e for e in client.search_experiments(view_type=ViewType.ALL)}
    checked_metrics = 0
    for s in summaries:
        exp = experiments.get(s["experiment_id"])
        if exp is None or exp.name != s["experiment_name"]:
            fail(f"experiment {s['experiment_id']} ({s['experiment_name']}) not seen by MLflow")
        run = client.get_run(s["run_id"])
        if run.info.status != s["status"]:
            fail(f"run {s['run_id']}: MLflow status {run.info.status}, fsml {s['status']}")
        if run.info.run_name != s["run_name"]:
            fail(f"run {s['run_id']}: name {run.info.run_name!r} != {s['run_name']!r}")
        if run.data.params != s["params"]:
            fail(f"run {s['run_id']}: params differ: {run.data.params} vs {s['params']}")
        for key, value in s["metrics"].items():
            got = run.data.metrics.get(key)
            same = got is not None and (got == value or (value is None and math.isnan(got)))
            if not same:
                fail(f"run {s['run_id']}: metric {key} MLflow {got} fsml {value}")
            checked_metrics += 1
        for key, value in s["tags"].items():
            if run.data.tags.get(key) != value:
                fail(f"run {s['run_id']}: tag {key} MLflow {run.data.tags.get(key)!r} fsml {value!r}")
        # A tuning study's runs: the study (parent), its trials and its retrained best (children).
        role = s["tags"].get("fsml.tune.role")
        # A model trained elsewhere and logged by `fsml model import-*` has no training history.
        if role is None and "fsml.model.imported_from" in s["tags"]:
            role = "imported"
        history_key = "best_valid_auc" if role == "study" else "rung_valid_auc" if role == "trial" else "iter_valid_auc"
        history_file = root / s["experiment_id"] / s["run_id"] / "metrics" / history_key
        if history_file.exists() or role is None:
            history = client.get_metric_history(s["run_id"], history_key)
            lines = history_file.read_text().splitlines()
            if len(history) != len(lines) or sorted(m.step for m in history) != sorted(int(l.split()[2]) for l in lines):
                fail(f"run {s['run_id']}: {history_key} history {len(history)} points, file {len(lines)} lines")
        if role in ("trial", "best"):
            parent = run.data.tags.get("mlflow.parentRunId")
            if parent is None or client.get_run(parent).data.tags.get("fsml.tune.role") != "study":
                fail(f"run {s['run_id']}: a {role} run whose parent MLflow does not see as a study")
        expected = {None: {"model.json", "report.html"}, "study": {"study.json", "report.html"}, "best": {"model.json"},
                    "imported": {"model.json", "model"}}
        artifacts = {a.path for a in client.list_artifacts(s["run_id"])}
        if not expected.get(role, set()) <= artifacts:
            fail(f"run {s['run_id']}: artifacts seen by MLflow: {sorted(artifacts)}")
    # Search with a filter and an order, as a user of MLflow would.
    found = client.search_runs(
        experiment_ids=list({s["experiment_id"] for s in summaries}),
        filter_string="metrics.valid_auc > 0.5 and params.model = 'gbdt'",
        order_by=["metrics.valid_auc DESC"],
    )
    if {r.info.run_id for r in found} != {
        s["run_id"] for s in summaries if (s["metrics"].get("valid_auc") or 0) > 0.5 and s["params"].get("model") == "gbdt"
    }:
        fail("search_runs with a filter does not return fsml's runs")
    # mlflow migrate-filestore turns the folder into SQLite; the runs read back the same from there.
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{tmp}/mlflow.db"
        subprocess.run(
            [str(Path(sys.executable).parent / "mlflow"), "migrate-filestore", "--source", str(root), "--target", db],
            check=True, capture_output=True,
        )
        sql = MlflowClient(tracking_uri=db)
        for s in summaries:
            run = sql.get_run(s["run_id"])
            if run.data.params != s["params"] or run.info.status != s["status"]:
                fail(f"run {s['run_id']}: params or status differ after migrate-filestore")
            for key, value in s["metrics"].items():
                got = run.data.metrics.get(key)
                if value is not None and got != value:
                    fail(f"run {s['run_id']}: metric {key} is {got} after migrate-filestore, fsml wrote {value}")
            if "fsml.tune.role" not in s["tags"] and len(sql.get_metric_history(s["run_id"], "iter_valid_auc")) != len(
                client.get_metric_history(s["run_id"], "iter_valid_auc")
            ):
                fail(f"run {s['run_id']}: iter_valid_auc history differs after migrate-filestore")
    aliased = check_registry(root, summaries)
    registered = check_models(root, summaries, fsml=sys.argv[2] if len(sys.argv) > 2 else None)
    aliases = 0
    for e in experiments.values():
        aliases += sum(1 for k in e.tags if k.startswith("fsml.alias."))
    print(
        f"MLflow {mlflow.__version__} read {len(summaries)} fsml runs in {len(experiments)} experiments: "
        f"status, params, {checked_metrics} metrics, tags, histories and artifacts identical; {aliases} aliases; "
        f"the same after mlflow migrate-filestore to SQLite; {registered} fsml models registered and loaded by pyfunc; "
        f"{aliased} aliases of fsml's own registrations resolved and loaded by MLflow's registry"
    )


def check_registry(root, summaries):
    """The models `fsml runs promote --registered-model` registered beside the runs, read by MLflow's
    own registry client: every alias resolves to the version of the run fsml registered, and
    models:/NAME@ALIAS loads in pyfunc and predicts as the run's own model does."""
    import numpy as np
    import pandas as pd
    if not (root / "models").is_dir():
        return 0
    mlflow.set_tracking_uri(root.as_uri())
    mlflow.set_registry_uri(root.as_uri())
    client = MlflowClient(tracking_uri=root.as_uri(), registry_uri=root.as_uri())
    runs = {s["run_id"]: s for s in summaries}
    checked = 0
    for model in client.search_registered_models():
        for alias, number in model.aliases.items():
            version = client.get_model_version_by_alias(model.name, alias)
            if str(version.version) != str(number) or version.run_id not in runs:
                fail(f"registered model {model.name}@{alias}: version {version.version} of run {version.run_id}")
            s = runs[version.run_id]
            columns = [c["name"] for c in json.loads(
                (root / s["experiment_id"] / s["run_id"] / "artifacts" / "model" / "MLmodel").read_text()
                .split("inputs: '")[1].split("'\n")[0])]
            frame = pd.DataFrame(np.random.default_rng(3).normal(size=(50, len(columns))).astype(np.float32),
                                 columns=columns)
            got = np.asarray(mlflow.pyfunc.load_model(f"models:/{model.name}@{alias}").predict(frame), dtype=float)
            want = np.asarray(mlflow.pyfunc.load_model(f"runs:/{s['run_id']}/model").predict(frame), dtype=float)
            if not np.array_equal(got, want):
                fail(f"models:/{model.name}@{alias} predicts {got[:3]}, runs:/{s['run_id']}/model {want[:3]}")
            checked += 1
    if checked == 0:
        fail(f"{root}/models holds no alias MLflow can resolve")
    return checked


def check_models(root, summaries, fsml):
    """Every run with a model/ artifact is registered from runs:/RUN/model into a model registry,
    loaded back with mlflow.pyfunc (MLflow's LightGBM flavor) and scores random rows as fsml scores
    them from the run's model.json."""
    import numpy as np
    import pandas as pd
    count = 0
    with tempfile.TemporaryDirectory() as tmp:
        mlflow.set_tracking_uri(root.as_uri())
        mlflow.set_registry_uri(f"sqlite:///{tmp}/registry.db")
        for s in summaries:
            client = MlflowClient()
            names = {a.path for a in client.list_artifacts(s["run_id"], "model")}
            if "model/MLmodel" not in names:
                continue
            version = mlflow.register_model(f"runs:/{s['run_id']}/model", "fsml-interop")
            model = mlflow.pyfunc.load_model(f"models:/fsml-interop/{version.version}")
            columns = [c["name"] for c in json.loads(
                (root / s["experiment_id"] / s["run_id"] / "artifacts" / "model" / "MLmodel").read_text()
                .split("inputs: '")[1].split("'\n")[0])]
            rng = np.random.default_rng(7)
            frame = pd.DataFrame(rng.normal(size=(200, len(columns))).astype(np.float32), columns=columns)
            frame.iloc[::5, 0] = np.nan
            got = np.asarray(model.predict(frame), dtype=float).reshape(-1)
            if fsml:
                data = Path(tmp) / "rows.csv"
                np.savetxt(data, np.c_[np.zeros(len(frame)), frame.to_numpy()], delimiter=",", fmt="%.9g")
                out = Path(tmp) / "fsml.pred"
                model_json = root / s["experiment_id"] / s["run_id"] / "artifacts" / "model.json"
                subprocess.run([fsml, "predict", "--model", str(model_json), "--data", str(data), "--data-format",
                                "csv", "--header", "no", "--out", str(out)], check=True, capture_output=True)
                want = np.loadtxt(out)
                if "calibration" not in s["params"] and np.max(np.abs(got - want)) > 1e-9:
                    fail(f"run {s['run_id']}: MLflow's pyfunc predicts {got[:3]}, fsml {want[:3]}")
            if count == 0:
                check_models_serve(f"models:/fsml-interop/{version.version}", root, tmp, frame.fillna(0.0),
                                   np.asarray(model.predict(frame.fillna(0.0)), dtype=float).reshape(-1))
            count += 1
    return count


def check_models_serve(uri, root, tmp, frame, want):
    """`mlflow models serve` (MLflow's own scoring server, in this venv) answers /invocations for an
    fsml model from the registry as pyfunc predicts it."""
    import socket
    import time
    import urllib.error
    import urllib.request
    import numpy as np
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(os.environ, MLFLOW_TRACKING_URI=root.as_uri(), MLFLOW_REGISTRY_URI=f"sqlite:///{tmp}/registry.db",
               PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    log = open(Path(tmp) / "serve.log", "w")
    server = subprocess.Popen([str(Path(sys.executable).parent / "mlflow"), "models", "serve", "-m", uri,
                               "--env-manager", "local", "--host", "127.0.0.1", "-p", str(port)],
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        # Ready when /ping answers; a server that exits has failed. The deadline only bounds a hang.
        deadline = time.monotonic() + 300
        while True:
            if server.poll() is not None:
                fail(f"mlflow models serve exited ({server.returncode}): {(Path(tmp) / 'serve.log').read_text()[-800:]}")
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=5).status == 200:
                    break
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            if time.monotonic() > deadline:
                fail("mlflow models serve never answered /ping")
            time.sleep(0.2)
        body = json.dumps({"dataframe_split": {"columns": list(frame.columns), "data": frame.to_numpy().tolist()}})
        request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", body.encode(),
                                         {"Content-Type": "application/json"})
        answer = json.loads(urllib.request.urlopen(request, timeout=60).read())
        got = np.asarray(answer["predictions"], dtype=float).reshape(-1)
        if got.shape != want.shape or np.max(np.abs(got - want)) > 1e-9:
            fail(f"mlflow models serve answers {got[:3]}, pyfunc {want[:3]}")
        print(f"mlflow models serve: {len(got)} rows scored as pyfunc scores them")
    finally:
        server.terminate()
        server.wait()
        log.close()


if __name__ == "__main__":
    main()
