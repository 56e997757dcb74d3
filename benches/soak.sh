#!/usr/bin/env bash
# Soak: the release binary refreshing every second from a fake master whose state changes every second
# (it cycles through generated states of different sizes and seeds), under a steady dnsperf load for
# DURATION seconds. Everything is on 127.0.0.1. Samples the server's RSS every 10 s and reports the
# first, last and largest sample, dnsperf's summary and the refresh counts from /metrics.
# Fails if more than 0.1% of queries are lost, if any answer is not NOERROR, if any refresh fails, or if
# RSS grew by more than 20% from the first sample to the last.
#
#   bash benches/soak.sh                       # 600 s at 10,000 queries per second
#   DURATION=60 RATE=5000 bash benches/soak.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

DURATION=${DURATION:-600} RATE=${RATE:-10000} SAMPLE_EVERY=10

if ! command -v dnsperf >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq dnsperf >/dev/null
fi

source benches/common.sh
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

cargo build --release --quiet
bin=target/release/mesos-dns
master_port=$(free_port) dns_port=$(free_port) http_port=$(free_port)

# --- four states of different sizes, all naming the fake master as leader --------------------------
states=()
for v in "1 40 800" "2 60 1200" "3 50 1000" "4 80 1600"; do
    read -r seed agents tasks <<<"$v"
    python3 tests/fixtures/gen-state.py --seed "$seed" --agents "$agents" --tasks "$tasks" --apps 120 \
        --leader "127.0.0.1:$master_port" >"$work/state$seed.json"
    states+=("$work/state$seed.json")
done

cat >"$work/config.json" <<JSON
{"masters": ["127.0.0.1:$master_port"], "refreshSeconds": 1, "stateTimeoutSeconds": 5,
 "listener": "127.0.0.1", "port": $dns_port, "httpon": true, "httpListener": "127.0.0.1",
 "httpport": $http_port, "resolvers": ["127.0.0.1:9"], "externalon": false}
JSON

# --- the queries: every (name, type) that exists in all four states, from each state's -vv dump -------
# (the dumps serve on a port the kernel picks: nothing to collide with the run's ports or anyone else's)
sed -e 's/"httpon": true/"httpon": false/' -e "s/\"port\": $dns_port/\"port\": 0/" "$work/config.json" >"$work/dump.json"
for s in "${states[@]}"; do
    "$bin" -vv -config="$work/dump.json" -state-file="$s" 2>"$work/dump.log" &
    dumper=$!
    for _ in $(seq 100); do grep -q 'refreshed records' "$work/dump.log" 2>/dev/null && break; sleep 0.1; done
    kill "$dumper" && wait "$dumper" || true
    grep -q 'refreshed records' "$work/dump.log" || { echo "FAIL: no records from $s"; cat "$work/dump.log"; exit 1; }
    grep -oE '\] [^ ]+\. [0-9]+ IN (A|AAAA|SRV) .*$' "$work/dump.log" | awk '{print $2, $5}' | sort -u >"$s.names"
done
sort "${states[@]/%/.names}" | uniq -c | awk -v n=${#states[@]} '$1 == n {print $2, $3}' |
    shuf --random-source=<(yes) >"$work/queries"
echo "names per state: $(wc -l "${states[@]/%/.names}" | awk '$2 != "total" {printf "%s ", $1}')- in all: $(wc -l <"$work/queries")"
[[ -s "$work/queries" ]] || { echo "FAIL: no name is common to all states"; exit 1; }

# --- run -------------------------------------------------------------------------------------------
python3 benches/soak-master.py "$master_port" 1 "${states[@]}" &
pids+=($!)
for _ in $(seq 100); do curl -sf --max-time 1 -o /dev/null "http://127.0.0.1:$master_port/master/state" && break; sleep 0.1; done
"$bin" -v -config="$work/config.json" 2>"$work/server.log" &
server=$!
pids+=("$server")
for _ in $(seq 100); do grep -q 'refreshed records' "$work/server.log" 2>/dev/null && break; sleep 0.1; done
grep -q 'refreshed records' "$work/server.log" || { echo "FAIL: no first refresh"; cat "$work/server.log"; exit 1; }

dnsperf -s 127.0.0.1 -p "$dns_port" -d "$work/queries" -l "$DURATION" -Q "$RATE" -c 4 -t 2 >"$work/dnsperf.out" 2>&1 &
perf=$!
pids+=("$perf")

# RSS every SAMPLE_EVERY seconds while dnsperf runs (bounded: DURATION / SAMPLE_EVERY + 6 samples).
samples=()
for _ in $(seq $((DURATION / SAMPLE_EVERY + 6))); do
    sleep "$SAMPLE_EVERY"
    kill -0 "$perf" 2>/dev/null || break
    kill -0 "$server" 2>/dev/null || { echo "FAIL: the server exited"; tail "$work/server.log"; exit 1; }
    samples+=("$(rss_kb "$server")")
done
wait "$perf" || true
metrics=$(curl -s --max-time 5 "http://127.0.0.1:$http_port/metrics" || true)

# --- report ----------------------------------------------------------------------------------------
ok=$(awk -F' ' '/^mesos_dns_refreshes_total\{result="success"\}/ {print $2}' <<<"$metrics")
failed=$(awk -F' ' '/^mesos_dns_refreshes_total\{result="failure"\}/ {print $2}' <<<"$metrics")
sizes=$({ grep -oE ': [0-9]+ records \(' "$work/server.log" || true; } | sort -u | wc -l)
first=${samples[0]:-0} last=${samples[-1]:-0}
max=$(printf '%s\n' "${samples[@]}" | sort -n | tail -1)
qps=$(awk '/Queries per second/ {print $4}' "$work/dnsperf.out")
sent=$(awk '/Queries sent/ {print $3}' "$work/dnsperf.out")
lost=$(awk '/Queries lost/ {print $3}' "$work/dnsperf.out")
lost_pct=$(awk '/Queries lost/ {gsub(/[()%]/, "", $4); print $4}' "$work/dnsperf.out")
codes=$(grep -A0 'Response codes' "$work/dnsperf.out" | sed 's/.*Response codes: *//')

echo "duration: ${DURATION} s at up to $RATE queries/s; ${#samples[@]} RSS samples every ${SAMPLE_EVERY} s"
echo "dnsperf: sent $sent, QPS $qps, lost $lost ($lost_pct%), response codes: $codes"
echo "refreshes (/metrics): $ok ok, $failed failed; distinct record counts seen: $sizes"
grep 'state refresh failed' "$work/server.log" | head -5 || true
echo "RSS: first $((first / 1024)) MB ($first kB), last $((last / 1024)) MB ($last kB), max $((max / 1024)) MB ($max kB)"
awk -v f="$first" -v l="$last" 'BEGIN {printf "RSS growth first -> last: %+.1f%%\n", (l - f) * 100 / f}'

fail=0
awk -v p="${lost_pct:-100}" 'BEGIN {exit !(p > 0.1)}' && { echo "FAIL: lost more than 0.1%"; fail=1; }
grep -q 'Response codes: *NOERROR [0-9]* (100.00%)' "$work/dnsperf.out" || { echo "FAIL: answers other than NOERROR"; fail=1; }
[[ "${failed:-x}" == 0 && "${ok:-0}" -gt 0 ]] || { echo "FAIL: refreshes failed (or /metrics unreadable)"; fail=1; }
awk -v f="$first" -v l="$last" 'BEGIN {exit !(f == 0 || l > f * 1.2)}' && { echo "FAIL: RSS grew more than 20%"; fail=1; }
if ((fail)); then
    echo "--- dnsperf ---"; cat "$work/dnsperf.out"
    echo "--- server log (last 20 lines) ---"; tail -20 "$work/server.log"
    exit 1
fi
echo "PASS"
