#!/usr/bin/env bash
# The concurrency paths under ThreadSanitizer (`make tsan`): `fsml serve --stream` (HTTP server,
# stream job in process, model follower, entity cache, store reader) under open-loop load, while
# another run is promoted and followed; then `fsml serve` on Redis (the event loops' Redis
# connections, the decoded-state cache) under load; point-in-time builds (the evaluator, writer and
# read-ahead threads), labelled and from a spine. Any race ThreadSanitizer reports fails the run.
# Usage: scripts/tsan.sh FSML (a binary built with --sanitize=thread)
set -euo pipefail
FSML=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SECONDS_OF_LOAD=${TSAN_LOAD_SECONDS:-20}
work=$(mktemp -d /tmp/fsml-tsan.XXXXXX)
reports=$work/tsan
mkdir -p "$reports"
export TSAN_OPTIONS="halt_on_error=0 second_deadlock_stack=1 log_path=$reports/report"
export SWIFT_BACKTRACE=enable=no
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
redis_port=$(free_port)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" >/dev/null &
pids+=($!)
until redis-cli -p "$redis_port" ping >/dev/null 2>&1; do sleep 0.1; done
online="redis://127.0.0.1:$redis_port/0"
cd "$work"
say() { echo "tsan: $*" >&2; }

"$FSML" init >/dev/null
"$FSML" generate events --events 60000 --users 800 --products 120 --days 2 --seed 3 --out events.jsonl >/dev/null
say "stream the events into the online and offline stores"
"$FSML" stream --source file:events.jsonl --until-end --online "$online" 2>/dev/null
say "point-in-time builds: labelled, by event time, and from a spine"
"$FSML" build --out labelled.parquet --event-time-only >/dev/null 2>&1
python3 -c '
import json
print("user_id,product_id,session_id,event_timestamp")
for n, line in zip(range(3000), open("events.jsonl")):
    e = json.loads(line)
    print(e["user_id"], e["product_id"], e["session_id"], e["event_ts"], sep=",")' > spine.csv
"$FSML" build --spine spine.csv --out spine.parquet >/dev/null 2>&1
say "train and promote a first model"
train() {
  "$FSML" train --experiment ctr --param num_iterations=8 --param "seed=$1" --format json 2>/dev/null |
    sed -n 's/^  "run_id": "\(.*\)",$/\1/p'
}
first=$(train 1)
"$FSML" runs promote "$first" >/dev/null
say "serve --stream with load; promote a second model while it runs"
"$FSML" serve --stream file:events.jsonl --rate 2000 --checkpoint "$work/serve-checkpoints" --name served \
  --no-offline --online "$online" --port 0 --port-file port --log-sample 0.5 2>serve.log &
server=$!
pids+=($server)
until [ -s port ]; do
  kill -0 "$server" 2>/dev/null || { cat serve.log >&2; exit 1; }
  sleep 0.1
done
url="http://127.0.0.1:$(cat port)"
"$FSML" bench serve --url "$url" --rps 300 --duration "$SECONDS_OF_LOAD" --ids-from events.jsonl \
  --out "$work/bench" --name predict >/dev/null 2>bench.log &
load=$!
"$FSML" bench serve --url "$url" --rps 50 --duration "$SECONDS_OF_LOAD" --ids-from events.jsonl --endpoint rank \
  --rank-size 20 --out "$work/bench" --name rank >/dev/null 2>bench-rank.log &
rank=$!
second=$(train 2)
"$FSML" runs promote "$second" >/dev/null
kill -HUP "$server"
# /readyz names a run by the first 8 characters of its id.
until curl -fs "$url/readyz" | grep -q "run-${second:0:8}"; do
  kill -0 "$server" 2>/dev/null || { cat serve.log >&2; exit 1; }
  sleep 0.2
done
say "the server follows run $second; features of one user while the stream job folds"
for _ in $(seq 1 50); do curl -fs "$url/features/user/u_10001" >/dev/null || true; done
wait "$load" "$rank"
kill -TERM "$server"
wait "$server" || { say "the server exited with $?"; cat serve.log >&2; exit 1; }
say "serve from Redis (event-loop reads, no cache) under load"
rm -f port
"$FSML" serve --online "$online" --cache-ttl 0 --port 0 --port-file port --log-sample 0 2>serve-redis.log &
server=$!
pids+=($server)
until [ -s port ]; do
  kill -0 "$server" 2>/dev/null || { cat serve-redis.log >&2; exit 1; }
  sleep 0.1
done
url="http://127.0.0.1:$(cat port)"
"$FSML" bench serve --url "$url" --rps 300 --duration "$SECONDS_OF_LOAD" --ids-from events.jsonl \
  --out "$work/bench" --name predict-redis >/dev/null 2>bench-redis.log &
load=$!
"$FSML" bench serve --url "$url" --rps 50 --duration "$SECONDS_OF_LOAD" --ids-from events.jsonl --endpoint rank \
  --rank-size 20 --out "$work/bench" --name rank-redis >/dev/null 2>bench-rank-redis.log &
rank=$!
wait "$load" "$rank"
kill -TERM "$server"
wait "$server" || { say "the Redis server exited with $?"; cat serve-redis.log >&2; exit 1; }
if compgen -G "$reports/report*" >/dev/null; then
  say "ThreadSanitizer reported races (reports in $reports):"
  cat "$reports"/report* | grep -E '^(WARNING|SUMMARY)' | sort | uniq -c >&2
  exit 1
fi
say "no race reported: builds, servers, stream job, model follower, caches, store reader and Redis reads ($(grep -c . bench.log) + $(grep -c . bench-redis.log) load lines)"
rm -rf "$work"
