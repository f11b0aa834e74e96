#!/usr/bin/env bash
# The main job (`make all`): events → stream (Redis + offline store) → tracked training → promote →
# serve with the stream job inside → open-loop load → parity → reports. Every step is the fsml
# binary; this script only sequences them. Sizes and ports come from the Makefile's variables.
set -euo pipefail
FSML=${FSML:-.build/release/fsml}
PORT=${FSML_REDIS_PORT:-6379}
SERVE_PORT=${FSML_SERVE_PORT:-8080}
REPORTS=${REPORTS:-artifacts/reports}
ONLINE="redis://127.0.0.1:$PORT/0"
started=$(date +%s)
step() { echo "== $* ($(( $(date +%s) - started )) s)" >&2; }

step "generate $EVENTS events"
"$FSML" generate events --events "$EVENTS" --users "$USERS" --products "$PRODUCTS" --days "$DAYS" \
  --seed "$SEED" --malformed-fraction 0.001 --out "$EVENTS_FILE" >/dev/null
# A fresh feature store for these events: online states, offline store, checkpoints.
redis-cli -p "$PORT" FLUSHDB >/dev/null
rm -rf data/offline data/checkpoints data/rejects data/served
# The stream folds all but the last tenth of the file now; the server's stream job replays that
# tenth live while the load asks for its example events at their own times (as live traffic would).
lines=$(gzip -cdf "$EVENTS_FILE" | wc -l)
head_lines=$(( lines - lines / 10 ))
replay_rate=$(( (lines - head_lines) / (LOAD_SECONDS + 15) + 1 ))
step "stream the first $head_lines of $lines events into $ONLINE and the offline store"
"$FSML" stream --source "file:$EVENTS_FILE" --until-end --max-lines "$head_lines" --online "$ONLINE"
stamp=$(date -u +%Y%m%dT%H%M%S)
mkdir -p "$REPORTS"
# The same dataset and split twice: the seven features of the first release (user, product and
# session activity) and every feature view (with user×product and price features).
step "train the baseline: the seven features of the first release (experiment ctr)"
baseline_id=$("$FSML" train --experiment ctr --run-name "baseline-$stamp" --format json \
  --views user_activity,product_stats,session_activity | sed -n 's/^  "run_id": "\(.*\)",$/\1/p')
step "train the full model: every feature view, on the baseline's dataset"
run_id=$("$FSML" train --experiment ctr --run-name "make-all-$stamp" --format json \
  --dataset "data/datasets/$baseline_id.parquet" | sed -n 's/^  "run_id": "\(.*\)",$/\1/p')
"$FSML" compare runs "$baseline_id" "$run_id" --html "$REPORTS/compare-baseline.html"
"$FSML" runs promote "$run_id"
step "serve with the stream job inside (port $SERVE_PORT), replaying the rest at $replay_rate events/s"
"$FSML" serve --stream "file:$EVENTS_FILE" --rate "$replay_rate" --online "$ONLINE" --port "$SERVE_PORT" \
  --log-sample 0.2 2>data/serve.log &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  grep -q "listening on" data/serve.log 2>/dev/null && break
  kill -0 $server 2>/dev/null || { cat data/serve.log >&2; exit 1; }
  sleep 0.1
done
step "open-loop load: 500 req/s for ${LOAD_SECONDS}s, each request for an example event the stream is about to fold"
"$FSML" bench serve --url "http://127.0.0.1:$SERVE_PORT" --rps 500 --duration "$LOAD_SECONDS" \
  --ids-from "$EVENTS_FILE" --follow-stream --name make-all --out "$REPORTS"
# Stopping the server checkpoints its stream job: the online and offline stores then hold the same events.
kill $server && wait $server 2>/dev/null || true
trap - EXIT
step "parity: online against point-in-time offline"
"$FSML" parity --online "$ONLINE" --sample 2000 --out "$REPORTS"
# Data quality and skew are reported; a failed expectation is shown, not fatal to the main job.
step "validate: expectations on the offline store; skew of served features against the training set; drift of the last day"
"$FSML" validate --offline-store --out "$REPORTS" || echo "validate: expectations failed, see $REPORTS/validate.html" >&2
"$FSML" validate skew --run "$run_id" --out "$REPORTS" || echo "validate skew: features flagged, see $REPORTS/skew.html" >&2
"$FSML" validate drift --dataset "data/datasets/$baseline_id.parquet" --out "$REPORTS" >/dev/null \
  || echo "validate drift: the last day drifted from the days before, see $REPORTS/drift.html" >&2
"$FSML" reports --dir "$REPORTS" --run "$baseline_id" --run "$run_id"
step "done: open $REPORTS/index.html"
