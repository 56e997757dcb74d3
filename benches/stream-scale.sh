#!/usr/bin/env bash
# Stream mode at scale, beside poll mode on the same state, from one run. A fake Mesos 1.x master
# (benches/stream-master.py) serves a generated cluster (the shape of tools/gen-state.py) both as
# /master/state and as the SUBSCRIBED event of the operator API's stream; the server runs in poll mode
# on it, then in stream mode. Printed at the end:
#   - stream mode: the time from the SUBSCRIBE call to the cluster resolving (a task started once
#     SUBSCRIBED has been written resolves only once it has been applied and published), peak RSS
#     (VmHWM: the first poll and SUBSCRIBED included) and resident RSS (VmRSS) once resolvable;
#   - poll mode: the first refresh's time, peak and resident RSS, and stream/poll resident (the ratio).
# With SECONDS_PER_MODE > 0 it also starts new tasks at RATE per second for that long in each mode and
# reports, for each, the time from its TASK_RUNNING event (or, polling, from the moment the master's
# state has it) to its name resolving, asked every millisecond; the p50/p99 of a fixed name asked 200
# times a second meanwhile; the CPU of the refresher and stream threads over the window.
#
#   bash benches/stream-scale.sh 100k        # 100k tasks on 5k agents, 5 frameworks
#   bash benches/stream-scale.sh 1M          # 1M tasks on 20k agents, 50 frameworks (gen-state.py's 1M)
#   SECONDS_PER_MODE=10 RATE=50 bash benches/stream-scale.sh 100k   # and event -> resolvable latency
#   MODES=stream TASKS=10000 AGENTS=500 bash benches/stream-scale.sh
#   MODES=stream STREAM_SECONDS=5 bash benches/stream-scale.sh 100k   # stream mode polling every 5 s too
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

case "${1:-}" in
    100k) TASKS=${TASKS:-100000} AGENTS=${AGENTS:-5000} FRAMEWORKS=${FRAMEWORKS:-5} ;;
    1M) TASKS=${TASKS:-1000000} AGENTS=${AGENTS:-20000} FRAMEWORKS=${FRAMEWORKS:-50} ;;
    "") ;;
    *) echo "usage: $0 [100k|1M]" >&2; exit 2 ;;
esac
TASKS=${TASKS:-100000} AGENTS=${AGENTS:-5000} FRAMEWORKS=${FRAMEWORKS:-5} RATE=${RATE:-50}
SECONDS_PER_MODE=${SECONDS_PER_MODE:-0} MODES=${MODES:-poll stream} POLL_SECONDS=${POLL_SECONDS:-5}
STREAM_SECONDS=${STREAM_SECONDS:-60}  # with SECONDS_PER_MODE 0, both modes poll once only
source benches/common.sh

cargo build --release --quiet
echo "cluster: $TASKS tasks on $AGENTS agents, $FRAMEWORKS frameworks; $RATE new tasks/s for $SECONDS_PER_MODE s"
for mode in $MODES; do
    http_port=$(free_port) dns_port=$(free_port)
    refresh=$([[ $mode == stream ]] && echo "$STREAM_SECONDS" || echo "$POLL_SECONDS")
    # Polling with no window to measure, one refresh: the memory is read after it, never during another.
    # Streaming, so too: only SUBSCRIBED can make the warm-up task resolve (no poll meanwhile).
    [[ $SECONDS_PER_MODE == 0 ]] && refresh=600
    cat >"$work/config-$mode.json" <<JSON
{"masters": ["127.0.0.1:$http_port"], "refreshSeconds": $refresh, "listener": "127.0.0.1", "port": $dns_port,
 "httpon": false, "resolvers": ["127.0.0.1:9"], "stateTimeoutSeconds": 60, "stateSource": "$mode"}
JSON
    rm -f "$work/pid"
    python3 benches/stream-master.py --port "$http_port" --dns-port "$dns_port" --pid-file "$work/pid" \
        --tasks "$TASKS" --agents "$AGENTS" --frameworks "$FRAMEWORKS" --rate "$RATE" --seconds "$SECONDS_PER_MODE" \
        $([[ $mode == stream ]] && echo --stream) >"$work/result-$mode" 2>"$work/master-$mode.log" &
    master=$!
    pids+=("$master")
    # The server starts once the master serves (it generates the cluster first).
    for _ in $(seq 6000); do
        grep -q serving "$work/master-$mode.log" && break
        sleep 0.1
    done
    "${BIN:-target/release/mesos-dns}" -v -config="$work/config-$mode.json" 2>"$work/log-$mode" &
    server=$!
    pids+=("$server")
    echo "$server" >"$work/pid"
    wait "$master" || true
    kill "$server" 2>/dev/null || true
    echo "$mode (refreshSeconds $refresh): $(cat "$work/result-$mode")"
    grep -m1 -oE 'refreshed records from [^ ]*: [0-9]+ records.* in [0-9]+ ms' "$work/log-$mode" | sed 's/^/  first refresh: /' || true
    # When the stream thread had read SUBSCRIBED, and how long its publish took (the log's clock).
    grep -E 'subscribing to|subscribed to the event stream|refreshed records from the event stream' "$work/log-$mode" | head -3 | sed 's/^/  log: /' || true
    times=$(grep -E 'refreshed records from the event stream' "$work/log-$mode" | grep -oE 'in [0-9]+ ms' | cut -d' ' -f2 || true)
    if [[ -n $times ]]; then
        echo "$times" | sort -n | awk '{a[NR]=$1} END {printf "  publishes from the stream: %d, ms each: median %d, max %d\n", NR, a[int((NR+1)/2)], a[NR]}'
    fi
done
# The figures side by side (the result lines are JSON).
python3 - "$work" $MODES <<'PY'
import json, os, re, sys
work, modes = sys.argv[1], sys.argv[2:]
res = {}
for m in modes:
    try:
        res[m] = json.loads(open(os.path.join(work, "result-" + m)).read().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError):
        res[m] = {}
    log = open(os.path.join(work, "log-" + m)).read()
    first = re.search(r"refreshed records from \S+: .* in (\d+) ms", log)
    res[m]["first_ms"] = int(first.group(1)) if first else None
mem = lambda m, k: res.get(m, {}).get("memory_mb", {}).get(k)
print("summary:")
if "poll" in res:
    print("  poll:   first refresh %s ms; RSS peak %s MB, resident %s MB" % (res["poll"]["first_ms"], mem("poll", "VmHWM"), mem("poll", "VmRSS")))
if "stream" in res:
    s = res["stream"]
    line = "  stream: SUBSCRIBE -> resolvable %s s (target <= 10); RSS peak %s MB (target <= 1536), resident %s MB" % (
        s.get("subscribe_to_resolvable_s"), mem("stream", "VmHWM"), mem("stream", "VmRSS"))
    if mem("poll", "VmRSS") and mem("stream", "VmRSS"):
        line += " = %.2f x poll mode's (target <= 1.30)" % (mem("stream", "VmRSS") / mem("poll", "VmRSS"))
    print(line)
PY
