# fsml: the two commands a new machine needs are `make all` (the main job) and `make test`.
SHELL := /bin/bash
SWIFT ?= swift
RELEASE := .build/release/fsml
DEBUG := .build/debug/fsml

# Sizes of the main job's generated data (see `fsml generate events --help`).
EVENTS ?= 1000000
USERS ?= 20000
PRODUCTS ?= 2000
DAYS ?= 7
SEED ?= 42
EVENTS_FILE ?= data/events.jsonl.gz
# Benchmark size: the issue's 10 M events.
BENCH_EVENTS ?= 10000000

.PHONY: all setup build build-debug test lint format bench bench-engine bench-gbdt bench-explain bench-pit bench-pit-10m bench-stream bench-stream-group bench-tracking bench-serve bench-tune up down produce stream-kafka fuzz tsan docs clean help

help:
	@echo "make all     the main job: events, stream, train, promote, serve under load, parity, reports"
	@echo "make test    lint, debug build, every test (installs what it needs)"
	@echo "make bench   release build, then the benchmarks into artifacts/reports/"
	@echo "make fuzz    libFuzzer over each parser of untrusted bytes, FUZZ_SECONDS each (default 60)"
	@echo "make tsan    the server, its stream job and model follower under ThreadSanitizer"
	@echo "make docs    the FSML library's DocC documentation into .build/docs (static HTML)"
	@echo "other: setup build lint format clean"

setup:
	@scripts/setup.sh

build: setup
	$(SWIFT) build -c release

build-debug: setup
	$(SWIFT) build --build-tests

lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Examples Package.swift Fuzz/Sources Fuzz/Package.swift

format:
	$(SWIFT) format --in-place --recursive Sources Tests Examples Package.swift Fuzz/Sources Fuzz/Package.swift

test: setup lint build-debug tests/interop/.venv/.ready
	rm -rf .build/interop/experiments
	FSML_INTEROP_DIR=$(CURDIR)/.build/interop $(SWIFT) test --skip-build
	tests/interop/.venv/bin/python tests/interop/check_parquet.py .build/interop
	tests/interop/.venv/bin/python tests/interop/check_mlflow.py .build/interop/experiments $(DEBUG)
	tests/interop/.venv/bin/python tests/interop/check_models.py .build/interop $(DEBUG)

# Readers of fsml's files that fsml does not control (pyarrow, DuckDB), for the interop checks.
tests/interop/.venv/.ready: tests/interop/requirements.txt
	python3 -m venv tests/interop/.venv
	tests/interop/.venv/bin/pip install -q --disable-pip-version-check -r tests/interop/requirements.txt
	touch $@

# The fuzzer: every module instrumented (--sanitize=fuzzer,address), in its own scratch path.
FUZZ_SECONDS ?= 60
FUZZER := .build-fuzz/debug/fsml-fuzz
fuzz: setup
	@# The fuzz package sees fsml as a path dependency whose build plan SwiftPM keeps even when
	@# files move; building afresh (about two minutes) spares a "missing inputs" failure.
	@rm -f .build-fuzz/debug.yaml .build-fuzz/build.db
	$(SWIFT) build --package-path Fuzz --scratch-path .build-fuzz --sanitize=fuzzer --sanitize=address \
		-Xswiftc -parse-as-library
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh $(FUZZER) $(FUZZ_TARGETS)

# The server with its stream job, model follower and cache under ThreadSanitizer.
tsan: setup
	$(SWIFT) build --scratch-path .build-tsan --sanitize=thread --product fsml
	scripts/tsan.sh .build-tsan/debug/fsml

# The main job: events → stream → train → promote → serve (stream job inside) → load → parity → reports.
FSML_REDIS_PORT ?= 6379
FSML_SERVE_PORT ?= 8080
LOAD_SECONDS ?= 30
export FSML_REDIS_PORT FSML_SERVE_PORT LOAD_SECONDS EVENTS USERS PRODUCTS DAYS SEED EVENTS_FILE

all: build up
	FSML=$(RELEASE) scripts/pipeline.sh
	@$(MAKE) --no-print-directory down

# A local redis-server (data under data/redis) and, when installed, Prometheus scraping fsml.
up: setup
	@mkdir -p data/redis
	@if redis-cli -p $(FSML_REDIS_PORT) ping >/dev/null 2>&1; then \
		echo "redis already answers on port $(FSML_REDIS_PORT)"; \
	else \
		redis-server --port $(FSML_REDIS_PORT) --bind 127.0.0.1 --dir $(CURDIR)/data/redis --save "" \
			--appendonly no --daemonize yes --pidfile $(CURDIR)/data/redis/redis.pid --logfile $(CURDIR)/data/redis/redis.log; \
		for i in $$(seq 1 50); do redis-cli -p $(FSML_REDIS_PORT) ping >/dev/null 2>&1 && break; sleep 0.1; done; \
		echo "redis on 127.0.0.1:$(FSML_REDIS_PORT)"; \
	fi
	@if command -v prometheus >/dev/null && [ ! -f data/prometheus.pid ]; then \
		prometheus --config.file=observability/prometheus.yml --storage.tsdb.path=data/prometheus \
			--web.listen-address=127.0.0.1:9090 >data/prometheus.log 2>&1 & echo $$! > data/prometheus.pid; \
		echo "prometheus on 127.0.0.1:9090"; \
	fi

down:
	@if [ -f data/redis/redis.pid ]; then kill $$(cat data/redis/redis.pid) 2>/dev/null || true; rm -f data/redis/redis.pid; echo "redis stopped"; fi
	@if [ -f data/prometheus.pid ]; then kill $$(cat data/prometheus.pid) 2>/dev/null || true; rm -f data/prometheus.pid; fi

# The Kafka path: a local broker (librdkafka's mock cluster), events into it, the stream job from it.
KAFKA_TOPIC ?= clicks
produce: build
	@test -n "$(BOOTSTRAP)" || { echo "set BOOTSTRAP=host:port (start one with: $(RELEASE) kafka mock --topic $(KAFKA_TOPIC):4)"; exit 1; }
	$(RELEASE) produce --from file:$(EVENTS_FILE) --to kafka://$(BOOTSTRAP)/$(KAFKA_TOPIC) --rate 500

stream-kafka: build up
	@test -n "$(BOOTSTRAP)" || { echo "set BOOTSTRAP=host:port"; exit 1; }
	$(RELEASE) stream --source "kafka://$(BOOTSTRAP)/$(KAFKA_TOPIC)?group=fsml" --online redis://127.0.0.1:$(FSML_REDIS_PORT)/0

bench: bench-engine bench-gbdt bench-explain bench-pit bench-pit-10m bench-stream bench-tracking bench-serve bench-tune

bench-engine: build
	$(RELEASE) bench engine --events $(BENCH_EVENTS) --out data/bench/events.jsonl.gz --report artifacts/reports

# Peers in the benchmark's own venv (make test never needs it).
bench/gbdt/.venv/.ready: bench/gbdt/requirements.txt
	python3 -m venv bench/gbdt/.venv
	bench/gbdt/.venv/bin/pip install -q --disable-pip-version-check -r bench/gbdt/requirements.txt
	touch $@

SHARED_GBDT ?= ../shared/data/gbdt
bench-gbdt: build bench/gbdt/.venv/.ready
	bench/gbdt/.venv/bin/python bench/gbdt/run.py --fsml $(RELEASE) --shared $(SHARED_GBDT) --work data/bench/gbdt --out artifacts/reports
	bench/gbdt/.venv/bin/python bench/gbdt/rank.py --fsml $(RELEASE) --shared $(SHARED_GBDT) --work data/bench/gbdt --out artifacts/reports
	bench/gbdt/.venv/bin/python bench/gbdt/multiclass.py --fsml $(RELEASE) --shared $(SHARED_GBDT) --work data/bench/gbdt --out artifacts/reports

# shap's TreeExplainer and XGBoost's pred_contribs beside fsml explain: 100 k rows x 100 trees.
bench/explain/.venv/.ready: bench/explain/requirements.txt
	python3 -m venv bench/explain/.venv
	bench/explain/.venv/bin/pip install -q --disable-pip-version-check -r bench/explain/requirements.txt
	touch $@

bench-explain: build bench/explain/.venv/.ready
	bench/explain/.venv/bin/python bench/explain/run.py --fsml $(RELEASE) --work data/bench/explain

bench/pit/.venv/.ready: bench/pit/requirements.txt
	python3 -m venv bench/pit/.venv
	bench/pit/.venv/bin/pip install -q --disable-pip-version-check -r bench/pit/requirements.txt
	touch $@

bench-pit: build bench/pit/.venv/.ready
	bench/pit/.venv/bin/python bench/pit/run.py --fsml $(RELEASE) --work data/bench/pit2m --out artifacts/reports --events 2000000

# The labelled training sets alone at 10 M events (fsml with its default memory budget; DuckDB).
bench-pit-10m: build bench/pit/.venv/.ready
	bench/pit/.venv/bin/python bench/pit/run.py --fsml $(RELEASE) --work data/bench/pit10m --out artifacts/reports --events 10000000 --training-set-only

bench/stream/.venv/.ready: bench/stream/requirements.txt
	scripts/setup.sh --bench
	python3 -m venv bench/stream/.venv
	bench/stream/.venv/bin/pip install -q --disable-pip-version-check -r bench/stream/requirements.txt
	touch $@

bench-stream: build bench/stream/.venv/.ready
	bench/stream/.venv/bin/python bench/stream/run.py --fsml $(RELEASE) --work data/bench/stream --out artifacts/reports

# A consumer group of 1, 2 and 3 members on the mock cluster (standard library Python only).
bench-stream-group: build
	python3 bench/stream/group.py --fsml $(RELEASE) --work data/bench/stream-group

# The library's DocC catalog (Sources/FSML/FSML.docc) and every public symbol, as a static site.
docs: setup
	$(SWIFT) package --allow-writing-to-directory .build/docs generate-documentation --target FSML \
		--disable-indexing --transform-for-static-hosting --output-path .build/docs --warnings-as-errors

clean:
	rm -rf .build .build-fuzz .build-tsan data artifacts

# `fsml runs list` and `fsml compare runs` on an experiment of 1 000 runs.
bench-tracking: build tests/interop/.venv/.ready
	python3 bench/tracking/run.py --fsml $(RELEASE) --data Tests/GBDTTests/Fixtures/binary.train \
		--valid Tests/GBDTTests/Fixtures/binary.test --work data/bench/tracking --out artifacts/reports \
		--mlflow-python tests/interop/.venv/bin/python

# fsml serve beside the reference stack (FastAPI + uvicorn + redis-py + LightGBM) in its own venv.
bench/serve/.venv/.ready: bench/serve/requirements.txt
	scripts/setup.sh --bench
	python3 -m venv bench/serve/.venv
	bench/serve/.venv/bin/pip install -q --disable-pip-version-check -r bench/serve/requirements.txt
	touch $@

bench-serve: build bench/serve/.venv/.ready
	bench/serve/.venv/bin/python bench/serve/run.py --fsml $(RELEASE) --work data/bench/serve --out artifacts/reports

# fsml tune beside Optuna's TPE driving LightGBM, on the shop's dataset (TUNE_DATASET, default: built
# now from the offline store that `make all` fills) and the same folds.
bench/tune/.venv/.ready: bench/tune/requirements.txt
	python3 -m venv bench/tune/.venv
	bench/tune/.venv/bin/pip install -q --disable-pip-version-check -r bench/tune/requirements.txt
	touch $@

TUNE_DATASET ?= data/bench/tune/shop.parquet
data/bench/tune/shop.parquet:
	mkdir -p data/bench/tune
	$(RELEASE) build --out $@

bench-tune: build bench/tune/.venv/.ready $(TUNE_DATASET)
	bench/tune/.venv/bin/python bench/tune/run.py --fsml $(RELEASE) --dataset $(TUNE_DATASET) --work data/bench/tune --out artifacts/reports
