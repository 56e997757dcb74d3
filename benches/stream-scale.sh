#!/usr/bin/env bash
# Stream mode at scale: a fake Mesos 1.x master (benches/stream-master.py) with a generated cluster of
# 100k tasks on 5k agents starts new tasks at a fixed rate; for each, the time from its TASK_RUNNING
# event (or, polling, from the moment the master's state has it) to its name resolving, asked every
# millisecond (2,000 queries a second in all at most). Also reported: the p50/p99 of a fixed name
# asked 200 times a second meanwhile, the CPU of the refresher and stream threads over the window,
# and the server's RSS (current and peak). Runs the same in poll mode (refreshSeconds POLL_SECONDS)
# and in stream mode (refreshSeconds STREAM_SECONDS, 60: the polls, the safety net, are edits too when
# only tasks differ).
#
#   bash benches/stream-scale.sh                      # 100k tasks, 50 new tasks/s, 10 s per mode
#   RATE=200 SECONDS_PER_MODE=10 bash benches/stream-scale.sh
#   MODES=stream TASKS=10000 AGENTS=500 bash benches/stream-scale.sh
#   MODES=stream STREAM_SECONDS=5 bash benches/stream-scale.sh      # stream mode polling every 5 s too
#   SUBSCRIBED_TASKS=1000000 MODES=stream SECONDS_PER_MODE=0 bash benches/stream-scale.sh
#       # a 1M-task SUBSCRIBED (the polled state keeps TASKS): time to resolvable and RSS only
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

TASKS=${TASKS:-100000} AGENTS=${AGENTS:-5000} RATE=${RATE:-50} SECONDS_PER_MODE=${SECONDS_PER_MODE:-10}
MODES=${MODES:-poll stream} POLL_SECONDS=${POLL_SECONDS:-5} SUBSCRIBED_TASKS=${SUBSCRIBED_TASKS:-0}
STREAM_SECONDS=${STREAM_SECONDS:-60}
source benches/common.sh

cargo build --release --quiet
sub=$([[ $SUBSCRIBED_TASKS != 0 ]] && echo " (SUBSCRIBED: $SUBSCRIBED_TASKS tasks)" || true)
echo "cluster: $TASKS tasks on $AGENTS agents$sub; $RATE new tasks/s for $SECONDS_PER_MODE s"
for mode in $MODES; do
    http_port=$(free_port) dns_port=$(free_port)
    refresh=$([[ $mode == stream ]] && echo "$STREAM_SECONDS" || echo "$POLL_SECONDS")
    cat >"$work/config-$mode.json" <<JSON
{"masters": ["127.0.0.1:$http_port"], "refreshSeconds": $refresh, "listener": "127.0.0.1", "port": $dns_port,
 "httpon": false, "resolvers": ["127.0.0.1:9"], "stateTimeoutSeconds": 60, "stateSource": "$mode"}
JSON
    rm -f "$work/pid"
    python3 benches/stream-master.py --port "$http_port" --dns-port "$dns_port" --pid-file "$work/pid" \
        --tasks "$TASKS" --agents "$AGENTS" --rate "$RATE" --seconds "$SECONDS_PER_MODE" \
        --subscribed-tasks "$SUBSCRIBED_TASKS" $([[ $mode == stream ]] && echo --stream) >"$work/result-$mode" 2>"$work/master-$mode.log" &
    master=$!
    pids+=("$master")
    # The server starts once the master serves (it generates the cluster first).
    for _ in $(seq 1200); do
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
    times=$(grep -E 'refreshed records from the event stream' "$work/log-$mode" | grep -oE 'in [0-9]+ ms' | cut -d' ' -f2 || true)
    if [[ -n $times ]]; then
        echo "$times" | sort -n | awk '{a[NR]=$1} END {printf "  publishes from the stream: %d, ms each: median %d, max %d\n", NR, a[int((NR+1)/2)], a[NR]}'
    fi
done
