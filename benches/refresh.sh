#!/usr/bin/env bash
# Refresh at scale: a generated state of 100k tasks on 5k agents (46 MB of JSON) served over HTTP on
# loopback by a static file server; mesos-dns fetches it every second. Reports the time from the start of
# a fetch to the new snapshot being live (the refresher's own log line), against the time
# `python3 -c 'import json; json.load(open(F))'` takes on the same file in the same run, and the server's
# peak resident memory against the document's size, and how long DNS answers took meanwhile (a prober
# asks leader.mesos every 5 ms: median, p99 and worst latency).
#
#   bash benches/refresh.sh                 # 100k tasks, 5k agents
#   TASKS=10000 AGENTS=500 bash benches/refresh.sh
#   ENUMERATION=false bash benches/refresh.sh   # without /v1/enumerate's per-task record list
#   BIN=target/x86_64-unknown-linux-musl/release/mesos-dns bash benches/refresh.sh   # the static build
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

TASKS=${TASKS:-100000} AGENTS=${AGENTS:-5000} REFRESHES=${REFRESHES:-5}
source benches/common.sh

cargo build --release --quiet
http_port=$(free_port) dns_port=$(free_port)
mkdir -p "$work/www/master"
python3 tests/fixtures/gen-state.py --agents "$AGENTS" --tasks "$TASKS" --leader "127.0.0.1:$http_port" >"$work/www/master/state"
size=$(stat -c %s "$work/www/master/state")
python3 -m http.server "$http_port" --bind 127.0.0.1 --directory "$work/www" >/dev/null 2>&1 &
pids+=($!)

# Python's json.load on the same file, best of 3, in this run, before the server starts (so the two never
# compete for the CPU).
py_ms=$(python3 - "$work/www/master/state" <<'PY'
import json, sys, time
best = min((lambda t0: (json.load(open(sys.argv[1])), time.perf_counter() - t0)[1])(time.perf_counter()) for _ in range(3))
print(round(best * 1000))
PY
)

cat >"$work/config.json" <<JSON
{"masters": ["127.0.0.1:$http_port"], "refreshSeconds": 1, "listener": "127.0.0.1", "port": $dns_port,
 "httpon": false, "resolvers": ["127.0.0.1:9"], "stateTimeoutSeconds": 60,
 "EnumerationOn": ${ENUMERATION:-true}}
JSON
env ${SERVER_ENV:-} "${BIN:-target/release/mesos-dns}" -v -config="$work/config.json" 2>"$work/log" &
server=$!
pids+=("$server")

# Wait (bounded: 60 s) for REFRESHES refreshes while a prober asks leader.mesos every 5 ms.
python3 benches/dns-probe.py "$dns_port" leader.mesos 0.005 120 "$work/stop" >"$work/probe" &
pids+=($!)
probe=$!
for _ in $(seq 600); do
    n=$(grep -c 'refreshed records' "$work/log" || true)
    [[ $n -ge $REFRESHES ]] && break
    sleep 0.1
done
touch "$work/stop"
wait "$probe" || true
times=$(grep -oE 'refreshed records.* in [0-9]+ ms' "$work/log" | grep -oE '[0-9]+ ms$' | cut -d' ' -f1)
best=$(echo "$times" | sort -n | head -1)
median=$(echo "$times" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
records=$(grep -m1 -oE '[0-9]+ records \([^)]*\) under [0-9]+ names' "$work/log")

echo "state: $TASKS tasks on $AGENTS agents, $((size / 1024 / 1024)) MB; $records"
echo "refresh (fetch start -> snapshot live), ms: $(echo $times | tr '\n' ' ')"
echo "python json.load, best of 3: $py_ms ms"
awk -v b="$best" -v m="$median" -v p="$py_ms" 'BEGIN {printf "ratio refresh/python: best %.2f, median %.2f  (target <= 0.25)\n", b / p, m / p}'
awk -v h="$hwm" -v s="$size" 'BEGIN {printf "peak RSS: %d MB = %.2f x the document  (target <= 2.50)\n", h / 1024, h * 1024 / s}'
echo "DNS during the refreshes (leader.mesos every 5 ms): $(cat "$work/probe")"
