#!/usr/bin/env bash
# Load benchmark of the availability API, on loopback only.
#
# Runs, one after the other and under the same gunicorn settings
# (api/gunicorn.conf.py, GUNICORN_WORKERS/GUNICORN_THREADS as set):
#   1. a bare Flask route returning a constant small JSON (bench/api_bare_app.py);
#   2. GET /api/v1/availability for 20 ids on the SQLite store.
# and prints one row each (requests/s, p50, p99) plus the ratios against the
# targets: availability >= 60% of the bare route's requests/s, p99 < 2x its p99.
#
# Usage: bash bench/api_load.sh    (DURATION=10s CONNECTIONS=16 WRK_THREADS=1 to tune)
# Exit status is 0 even when a target is missed: this measures, it does not gate.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-16}
WRK_THREADS=${WRK_THREADS:-1}
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

# Print "requests_per_second p50_ms p99_ms" for one wrk run against $1.
measure() {
  local url=$1
  wrk --threads "$WRK_THREADS" --connections "$CONNECTIONS" --duration 2s "$url" >/dev/null # warm-up
  wrk --threads "$WRK_THREADS" --connections "$CONNECTIONS" --duration "$DURATION" --latency "$url" \
    >"$work/wrk.txt"
  "$PYTHON" - "$work/wrk.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
def pct(p):
    number, unit = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M).groups()
    return float(number) * scale[unit]
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
if errors:
    sys.exit(f"wrk saw {errors.group(1)} error responses:\n{text}")
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
print(f"{rps:.0f} {pct(50):.2f} {pct(99):.2f}")
PY
}

ids=$(seq -f "bench-piece-%02g" 1 20 | paste -sd, -)
export API_STORE_URL="sqlite:///$work/availability.sqlite3"
"$PYTHON" - "$ids" <<'PY'
import sys, time
from api.store import open_store
store = open_store(__import__("os").environ["API_STORE_URL"])
store.sync_inventory({slug: 3 for slug in sys.argv[1].split(",")}, now=int(time.time()))
PY

bare_port=$(free_port)
start_server api_bare_app:app "$bare_port" --chdir bench
read -r bare_rps bare_p50 bare_p99 < <(measure "http://127.0.0.1:$bare_port/bare")
kill "${pids[0]}" && wait "${pids[0]}" 2>/dev/null || true

api_port=$(free_port)
start_server api.wsgi:app "$api_port"
read -r api_rps api_p50 api_p99 < <(measure "http://127.0.0.1:$api_port/api/v1/availability?ids=$ids")

echo "wrk ${WRK_THREADS} thread(s), ${CONNECTIONS} connections, ${DURATION}; gunicorn ${GUNICORN_WORKERS} workers x ${GUNICORN_THREADS} threads; $(nproc) cores"
printf '%-34s %12s %10s %10s\n' "target" "requests/s" "p50 ms" "p99 ms"
printf '%-34s %12s %10s %10s\n' "bare Flask route (constant JSON)" "$bare_rps" "$bare_p50" "$bare_p99"
printf '%-34s %12s %10s %10s\n' "GET /api/v1/availability, 20 ids" "$api_rps" "$api_p50" "$api_p99"
"$PYTHON" - "$bare_rps" "$bare_p99" "$api_rps" "$api_p99" <<'PY'
import sys
bare_rps, bare_p99, api_rps, api_p99 = map(float, sys.argv[1:])
throughput, tail = api_rps / bare_rps, api_p99 / bare_p99
print(f"throughput {throughput:.0%} of bare (target >= 60%: {'met' if throughput >= 0.6 else 'MISSED'}); "
      f"p99 {tail:.2f}x bare (target < 2x: {'met' if tail < 2 else 'MISSED'})")
PY
