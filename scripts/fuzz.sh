#!/usr/bin/env bash
# Runs each fuzz target (Sources/FuzzTargets) under libFuzzer for FUZZ_SECONDS, starting from the
# committed seeds in Fuzz/corpus/<target>; new inputs go to .build-fuzz/corpus/<target>, crashes
# to .build-fuzz/crashes/. Prints inputs executed and crashes per target; fails if any crashed.
# Usage: scripts/fuzz.sh FUZZER [target...]
set -uo pipefail
# libFuzzer reports crashes itself; the Swift backtracer would read memory ASan guards.
export SWIFT_BACKTRACE=enable=no
fuzzer=$1
shift
seconds=${FUZZ_SECONDS:-60}
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=($(ls Fuzz/corpus))
fi
mkdir -p .build-fuzz/crashes .build-fuzz/logs
failed=0
printf '%-14s %12s %8s %8s  %s\n' TARGET EXECUTED EXEC/S CRASHES "NEW INPUTS"
for t in "${targets[@]}"; do
    mkdir -p ".build-fuzz/corpus/$t"
    log=".build-fuzz/logs/$t.log"
    # No LeakSanitizer (per input or at exit): it cannot see pointers that Swift packs into enum
    # payloads (spare bits hold the case), so the project's expressions read as leaked.
    ASAN_OPTIONS=detect_leaks=0 FSML_FUZZ_TARGET=$t "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -detect_leaks=0 \
        -print_final_stats=1 -artifact_prefix=".build-fuzz/crashes/$t-" \
        ".build-fuzz/corpus/$t" "Fuzz/corpus/$t" >"$log" 2>&1
    status=$?
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
    crashes=$(ls .build-fuzz/crashes | grep -c "^$t-" || true)
    printf '%-14s %12s %8s %8s  %s\n' "$t" "${runs:-?}" "${rate:-?}" "$crashes" "$(ls ".build-fuzz/corpus/$t" | wc -l)"
    if [ $status -ne 0 ]; then
        failed=1
        echo "  $t stopped with status $status; its log: $log" >&2
        grep -m3 -E 'Fatal error|ERROR: ' "$log" | sed 's/^/  /' >&2
    fi
done
exit $failed
