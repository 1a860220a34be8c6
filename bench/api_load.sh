#!/usr/bin/env bash
# Load benchmark of the availability API, on loopback only.
#
# Runs, one after the other and under the same gunicorn settings
# (api/gunicorn.conf.py, GUNICORN_WORKERS/GUNICORN_THREADS as set):
#   1. a bare Flask route returning a constant small JSON (bench/api_bare_app.py);
#   2. GET /api/v1/availability for 20 ids on the SQLite store.
# and prints one row each (requests/s, p50, p99) plus the ratios against the
# targets: availability >= 60% of the bare route's requests/s with the in-process
# cache off (API_AVAILABILITY_CACHE_SECONDS=0), >= 90% with it on (the default),
# and p99 < 2x the bare route's p99 either way.
#
# Usage: bash bench/api_load.sh    (DURATION=10s CONNECTIONS=16 WRK_THREADS=1 to tune;
#        ROUNDS=3 alternates the two targets three times and adds the medians)
# The API's own settings pass through, e.g. API_AVAILABILITY_CACHE_SECONDS=0 to measure
# every request reading the store. bench/api_inprocess.py measures CPU per request.
# Exit status is 0 even when a target is missed: this measures, it does not gate.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-16}
WRK_THREADS=${WRK_THREADS:-1}
ROUNDS=${ROUNDS:-1}
export GUNICORN_WORKERS=${GUNICORN_WORKERS:-2}
export GUNICORN_THREADS=${GUNICORN_THREADS:-4}
PYTHON=.venv/bin/python

command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
[ -x "$PYTHON" ] || { echo "run 'make install' first" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Start gunicorn with the API's config; $1 = app, $2 = port, then extra gunicorn args.
start_server() {
  local app=$1 port=$2
  shift 2
  GUNICORN_BIND="127.0.0.1:$port" "$PYTHON" -m gunicorn --config api/gunicorn.conf.py "$@" "$app" \
    >"$work/server-$port.log" 2>&1 &
  pids+=("$!")
  for _ in $(seq 100); do
    if "$PYTHON" -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$port/healthz' if '$app'.startswith('api.') else 'http://127.0.0.1:$port/bare', timeout=1)" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  echo "server $app did not start; log:" >&2
  cat "$work/server-$port.log" >&2
  exit 1
}

# CPU time (clock ticks, user + system) used so far by gunicorn master $1 and its workers.
server_cpu_ticks() {
  local total=0 pid stat fields
  for pid in "$1" $(pgrep -P "$1"); do
    stat=$(<"/proc/$pid/stat") || continue
    read -r -a fields <<<"${stat##*) }" # fields from "state" on: utime is [11], stime [12]
    total=$((total + fields[11] + fields[12]))
  done
  echo "$total"
}

# Print "requests_per_second p50_ms p99_ms server_cpu_us_per_request" for one wrk run
# against $1, served by gunicorn master $2. CPU per request barely moves with other
# load on the machine, unlike requests/s and latency.
measure() {
  local url=$1 server=$2 cpu_before cpu_after
  wrk --threads "$WRK_THREADS" --connections "$CONNECTIONS" --duration 2s "$url" >/dev/null # warm-up
  cpu_before=$(server_cpu_ticks "$server")
  wrk --threads "$WRK_THREADS" --connections "$CONNECTIONS" --duration "$DURATION" --latency "$url" \
    >"$work/wrk.txt"
  cpu_after=$(server_cpu_ticks "$server")
  "$PYTHON" - "$work/wrk.txt" "$((cpu_after - cpu_before))" "$(getconf CLK_TCK)" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
cpu_seconds = int(sys.argv[2]) / int(sys.argv[3])
scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
def pct(p):
    number, unit = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M).groups()
    return float(number) * scale[unit]
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
if errors:
    sys.exit(f"wrk saw {errors.group(1)} error responses:\n{text}")
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
requests = int(re.search(r"(\d+) requests in", text).group(1))
print(f"{rps:.0f} {pct(50):.2f} {pct(99):.2f} {cpu_seconds / requests * 1e6:.0f}")
PY
}

ids=$(seq -f "bench-piece-%02g" 1 20 | paste -sd, -)
export API_STORE_URL="sqlite:///$work/availability.sqlite3"
"$PYTHON" - "$ids" <<'PY'
import sys, time
from api.stores import open_store
store = open_store(__import__("os").environ["API_STORE_URL"])
store.sync_inventory({slug: 3 for slug in sys.argv[1].split(",")}, now=int(time.time()))
PY

bare_port=$(free_port)
start_server api_bare_app:app "$bare_port" --chdir bench
bare_pid=${pids[-1]}
api_port=$(free_port)
start_server api.wsgi:app "$api_port"
api_pid=${pids[-1]}

# Alternate the two targets ROUNDS times (both servers stay up; an idle one costs
# nothing), so load from other processes drifting over the run hits both alike.
rows="$work/rows.txt"
for round in $(seq "$ROUNDS"); do
  bare=$(measure "http://127.0.0.1:$bare_port/bare" "$bare_pid")
  api=$(measure "http://127.0.0.1:$api_port/api/v1/availability?ids=$ids" "$api_pid")
  echo "$round $bare $api" >>"$rows"
done

echo "wrk ${WRK_THREADS} thread(s), ${CONNECTIONS} connections, ${DURATION}; gunicorn ${GUNICORN_WORKERS} workers x ${GUNICORN_THREADS} threads; $(nproc) cores; API_AVAILABILITY_CACHE_SECONDS=${API_AVAILABILITY_CACHE_SECONDS:-1 (default)}"
"$PYTHON" - "$rows" <<'PY'
import os, statistics, sys
cache_on = float(os.environ.get("API_AVAILABILITY_CACHE_SECONDS", "1")) > 0
TARGET = 0.9 if cache_on else 0.6
rounds = [line.split() for line in open(sys.argv[1])]
def row(label, *values):
    print(f"{label:34s} {values[0]:>12} {values[1]:>10} {values[2]:>10} {values[3]:>14}")
def verdict(prefix, bare_rps, bare_p99, api_rps, api_p99):
    throughput, tail = api_rps / bare_rps, api_p99 / bare_p99
    print(f"{prefix}throughput {throughput:.0%} of bare (target >= {TARGET:.0%}: "
          f"{'met' if throughput >= TARGET else 'MISSED'}); p99 {tail:.2f}x bare "
          f"(target < 2x: {'met' if tail < 2 else 'MISSED'})")
    return throughput, tail
row("target", "requests/s", "p50 ms", "p99 ms", "server CPU us")
for n, *values in rounds:
    suffix = f" #{n}" if len(rounds) > 1 else ""
    row("bare Flask route (constant JSON)" + suffix, *values[:4])
    row("GET /api/v1/availability, 20 ids" + suffix, *values[4:])
ratios = []
for n, bare_rps, _, bare_p99, bare_cpu, api_rps, _, api_p99, api_cpu in rounds:
    ratios.append(verdict(f"round {n}: " if len(rounds) > 1 else "",
                          *map(float, (bare_rps, bare_p99, api_rps, api_p99))))
    print(f"{'':{len(n) + 8 if len(rounds) > 1 else 0}}server CPU per request: "
          f"{float(api_cpu) / float(bare_cpu):.2f}x bare")
if len(rounds) > 1:  # each round pairs two neighbouring measurements: the median of ratios
    throughput = statistics.median(r[0] for r in ratios)
    tail = statistics.median(r[1] for r in ratios)
    print(f"median of {len(rounds)} rounds: throughput {throughput:.0%} of bare (target >= {TARGET:.0%}: "
          f"{'met' if throughput >= TARGET else 'MISSED'}); p99 {tail:.2f}x bare "
          f"(target < 2x: {'met' if tail < 2 else 'MISSED'})")
PY
