"""How long `fsml runs list` and `fsml compare runs` take on an experiment with 1 000 runs.

A few real runs are trained by fsml; they are then copied, with new run ids and perturbed metrics,
until the experiment holds --runs runs (each copy keeps every file of a real run: params, metric
histories, artifacts). Writes artifacts/reports/tracking.json and tracking.md.
"""
import argparse
import json
import random
import shutil
import subprocess
import time
import uuid
from pathlib import Path


def timed(cmd, repeats=5):
    best = None
    out = None
    for _ in range(repeats):
        start = time.perf_counter()
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    return best, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fsml", required=True)
    ap.add_argument("--data", required=True, help="a binary-label CSV/LibSVM training file")
    ap.add_argument("--valid", required=True)
    ap.add_argument("--work", default="data/bench/tracking")
    ap.add_argument("--out", default="artifacts/reports")
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--mlflow-python", help="a python with mlflow-skinny, to time MLflow's search_runs beside fsml")
    args = ap.parse_args()
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    tracking = work / "experiments"
    seeds = 5
    for s in range(seeds):
        subprocess.run(
            [args.fsml, "train", "--data", args.data, "--valid", args.valid, "--experiment", "bench",
             "--run-name", f"seed-{s}", "--param", "num_iterations=30", "--param", f"seed={s}",
             "--param", "feature_fraction=0.8", "--tracking-dir", str(tracking)],
            check=True, capture_output=True)
    exp_dir = next(p for p in tracking.iterdir() if p.is_dir() and p.name != ".trash")
    templates = [p for p in exp_dir.iterdir() if (p / "meta.yaml").exists()]
    rng = random.Random(7)
    for i in range(args.runs - seeds):
        src = templates[i % seeds]
        run_id = uuid.uuid4().hex
        dst = exp_dir / run_id
        shutil.copytree(src, dst)
        meta = (dst / "meta.yaml").read_text().replace(src.name, run_id)
        (dst / "meta.yaml").write_text(meta)
        summary = json.loads((dst / "fsml-run.json").read_text())
        summary["run_id"] = run_id
        summary["run_name"] = f"copy-{i}"
        for k, v in summary["metrics"].items():
            if isinstance(v, float):
                summary["metrics"][k] = v * (1 + rng.uniform(-0.01, 0.01))
        (dst / "fsml-run.json").write_text(json.dumps(summary))
    base = ["--tracking-dir", str(tracking)]
    list_s, list_out = timed([args.fsml, "runs", "list", "--experiment", "bench", "--metrics", "valid_auc"] + base)
    json_s, json_out = timed([args.fsml, "runs", "list", "--experiment", "bench", "--format", "json"] + base)
    cmp_s, _ = timed([args.fsml, "compare", "runs", "--experiment", "bench", "--top", "10", "--metric", "valid_auc"] + base)
    html_s, _ = timed([args.fsml, "compare", "runs", "--experiment", "bench", "--top", "10", "--html",
                       str(work / "compare.html")] + base)
    listed = len(json.loads(json_out))
    assert listed == args.runs, f"listed {listed} runs, expected {args.runs}"
    result = {
        "runs": args.runs,
        "runs_list_table_seconds": round(list_s, 4),
        "runs_list_json_seconds": round(json_s, 4),
        "compare_top10_seconds": round(cmp_s, 4),
        "compare_top10_html_seconds": round(html_s, 4),
        "note": "best of 5 wall-clock runs of the release binary, process start included",
    }
    if args.mlflow_python:
        script = (
            "import os,sys,time;os.environ['MLFLOW_ALLOW_FILE_STORE']='true'\n"
            "from mlflow.tracking import MlflowClient\n"
            "c=MlflowClient(tracking_uri=sys.argv[1]);e=c.get_experiment_by_name('bench')\n"
            "t=time.perf_counter();r=c.search_runs([e.experiment_id],max_results=5000)\n"
            "print(len(r), time.perf_counter()-t)\n"
        )
        mlflow_s, out_text = timed([args.mlflow_python, "-c", script, tracking.resolve().as_uri()], repeats=3)
        found, in_process = out_text.split()
        assert int(found) == args.runs
        result["mlflow_search_runs_seconds"] = round(mlflow_s, 4)
        result["mlflow_search_runs_in_process_seconds"] = round(float(in_process), 4)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "tracking.json").write_text(json.dumps(result, indent=2) + "\n")
    md = ["# Tracking on an experiment with %d runs" % args.runs, "", "| command | seconds |", "|---|---:|"]
    for k, v in result.items():
        if k.endswith("_seconds"):
            md.append(f"| {k[:-8].replace('_', ' ')} | {v:.3f} |")
    (out / "tracking.md").write_text("\n".join(md) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
