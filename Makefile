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

.PHONY: all setup build build-debug test lint format bench bench-engine bench-gbdt bench-pit bench-stream bench-tracking clean help

help:
	@echo "make all     the main job: setup, release build, generate events, list the features"
	@echo "make test    lint, debug build, every test (installs what it needs)"
	@echo "make bench   release build, then the benchmarks into artifacts/reports/"
	@echo "other: setup build lint format clean"

setup:
	@scripts/setup.sh

build: setup
	$(SWIFT) build -c release

build-debug: setup
	$(SWIFT) build --build-tests

lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

test: setup lint build-debug tests/interop/.venv/.ready
	rm -rf .build/interop/experiments
	FSML_INTEROP_DIR=$(CURDIR)/.build/interop $(SWIFT) test --skip-build
	tests/interop/.venv/bin/python tests/interop/check_parquet.py .build/interop
	tests/interop/.venv/bin/python tests/interop/check_mlflow.py .build/interop/experiments

# Readers of fsml's files that fsml does not control (pyarrow, DuckDB), for the interop checks.
tests/interop/.venv/.ready: tests/interop/requirements.txt
	python3 -m venv tests/interop/.venv
	tests/interop/.venv/bin/pip install -q --disable-pip-version-check -r tests/interop/requirements.txt
	touch $@

all: build
	$(RELEASE) generate events --events $(EVENTS) --users $(USERS) --products $(PRODUCTS) --days $(DAYS) \
		--seed $(SEED) --malformed-fraction 0.001 --out $(EVENTS_FILE)
	$(RELEASE) features list

bench: bench-engine bench-gbdt bench-pit bench-stream bench-tracking

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

bench/pit/.venv/.ready: bench/pit/requirements.txt
	python3 -m venv bench/pit/.venv
	bench/pit/.venv/bin/pip install -q --disable-pip-version-check -r bench/pit/requirements.txt
	touch $@

bench-pit: build bench/pit/.venv/.ready
	bench/pit/.venv/bin/python bench/pit/run.py --fsml $(RELEASE) --work data/bench/pit --out artifacts/reports

bench/stream/.venv/.ready: bench/stream/requirements.txt
	scripts/setup.sh --bench
	python3 -m venv bench/stream/.venv
	bench/stream/.venv/bin/pip install -q --disable-pip-version-check -r bench/stream/requirements.txt
	touch $@

bench-stream: build bench/stream/.venv/.ready
	bench/stream/.venv/bin/python bench/stream/run.py --fsml $(RELEASE) --work data/bench/stream --out artifacts/reports

clean:
	rm -rf .build data artifacts

# `fsml runs list` and `fsml compare runs` on an experiment of 1 000 runs.
bench-tracking: build tests/interop/.venv/.ready
	python3 bench/tracking/run.py --fsml $(RELEASE) --data Tests/GBDTTests/Fixtures/binary.train \
		--valid Tests/GBDTTests/Fixtures/binary.test --work data/bench/tracking --out artifacts/reports \
		--mlflow-python tests/interop/.venv/bin/python
