#!/usr/bin/env bash
# Installs the Debian packages fsml builds, tests and runs with. Idempotent: prints nothing and
# exits at once when everything is present; uses sudo when not root. `setup.sh --bench` adds what
# only the benchmarks need (a Java runtime for Spark, wrk).
set -euo pipefail

packages=(
  libhiredis-dev libsqlite3-dev zlib1g-dev libopenblas-dev liblapacke-dev librdkafka-dev
  redis-server pkg-config
  # Renders the HTML reports in the tests (headless), as a reader's browser would.
  chromium
)
if [ "${1:-}" = "--bench" ]; then
  packages+=(openjdk-17-jre-headless wrk)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "setup: installing ${missing[*]}" >&2
$sudo apt-get update -qq >/dev/null
# A container's policy-rc.d may refuse to start redis-server's service; fsml starts its own.
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done" >&2
