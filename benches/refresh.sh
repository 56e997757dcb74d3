#!/usr/bin/env bash
# Refresh at scale, poll mode: a generated state served over HTTP on loopback by a static file server,
# fetched by mesos-dns. Prints, from one run:
#   - the full refresh time (fetch start -> snapshot live, the refresher's own log line) beside the floor:
#     reading the same file and validating it with serde_json into IgnoredAny (benches/floor.rs), and
#     their ratio (issue 28: at most 5x at 1M tasks);
#   - the second poll, of the same document: a quiet cluster's poll, published as an edit of 0 tasks
#     (polls as edits: it costs the parse, not a rebuild), beside the floor;
#   - where a refresh's time goes (the refresher's `-v` stage line: fetch and header, tasks and records,
#     carry, index, publish);
#   - resident RSS after the first refresh and peak RSS across two polls, as ratios to the document's
#     size (targets: resident 1.2x at 1M, 1.5x at 100k; peak 2.0x);
#   - DNS meanwhile (a prober asks leader.mesos every 5 ms: answered, lost, median, p99, worst).
#
#   bash benches/refresh.sh            # 100k tasks on 5k agents (46 MB)
#   bash benches/refresh.sh 1M         # 1M tasks on 20k agents, 50 frameworks (434 MB)
#   ENUMERATION=false bash benches/refresh.sh 100k   # without /v1/enumerate
#   BIN=target/x86_64-unknown-linux-musl/release/mesos-dns bash benches/refresh.sh   # the static build
#
# Generated states are kept in target/bench-states/ (a 1M-task one takes a minute of Python to write).
# The machine may be shared: compare the ratios, not the times, and repeat.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

size=${1:-100k}
case "$size" in
    100k) TASKS=100000 AGENTS=5000 FRAMEWORKS=5 gap=10 ;;
    1M) TASKS=1000000 AGENTS=20000 FRAMEWORKS=50 gap=60 ;;
    *) echo "usage: refresh.sh [100k|1M]" >&2; exit 2 ;;
esac
source benches/common.sh

[[ -n ${BIN:-} ]] || cargo build --release --quiet
# The floor does not depend on the crate's code: built once (a bench target links the whole crate).
floor_bin=$(ls -t target/release/deps/floor-* 2>/dev/null | grep -v '\.d$' | head -1 || true)
if [[ -z $floor_bin ]]; then
    cargo build --release --quiet --bench floor
    floor_bin=$(ls -t target/release/deps/floor-* | grep -v '\.d$' | head -1)
fi
http_port=$(free_port) dns_port=$(free_port)
mkdir -p "$work/www/master" target/bench-states
cached=target/bench-states/state-$TASKS-$AGENTS-$FRAMEWORKS.json
if [[ ! -s $cached ]]; then
    python3 tests/fixtures/gen-state.py --agents "$AGENTS" --tasks "$TASKS" --frameworks "$FRAMEWORKS" \
        --leader 127.0.0.1:1 >"$cached.tmp"
    mv "$cached.tmp" "$cached"
fi
# The served state names the file server as its leader (the first 300 bytes hold `pid` and `leader`).
python3 - "$cached" "$work/www/master/state" "$http_port" <<'PY'
import shutil, sys
src, dst, port = sys.argv[1:]
with open(src, "rb") as f, open(dst, "wb") as out:
    head = f.read(300)
    out.write(head.replace(b'"master@127.0.0.1:1"', b'"master@127.0.0.1:%s"' % port.encode(), 2))
    shutil.copyfileobj(f, out, 1 << 20)
PY
size_bytes=$(stat -c %s "$work/www/master/state")

# The floor, before the servers start (so that the two never compete for the CPU): best of 3.
floor_s=$("$floor_bin" "$work/www/master/state" 3)

python3 -m http.server "$http_port" --bind 127.0.0.1 --directory "$work/www" >/dev/null 2>&1 &
pids+=($!)
wait_listening "$http_port"
# Polls `gap` seconds apart (more than a refresh takes on a busy machine), so that the resident memory
# after the first refresh is read before the second begins.
cat >"$work/config.json" <<JSON
{"masters": ["127.0.0.1:$http_port"], "refreshSeconds": $gap, "listener": "127.0.0.1", "port": $dns_port,
 "httpon": false, "resolvers": ["127.0.0.1:9"], "stateTimeoutSeconds": 120,
 "EnumerationOn": ${ENUMERATION:-true}}
JSON
env ${SERVER_ENV:-} "${BIN:-target/release/mesos-dns}" -v -config="$work/config.json" 2>"$work/log" &
server=$!
pids+=("$server")
rss() { awk "/$1/ {print \$2}" "/proc/$server/status"; }

python3 benches/dns-probe.py "$dns_port" leader.mesos 0.005 600 "$work/stop" >"$work/probe" &
probe=$!
pids+=("$probe")
refreshes() { grep -c 'refreshed records' "$work/log" || true; }
# Bounded waits: 10 minutes for everything.
resident=0
for _ in $(seq 6000); do
    if [[ $resident == 0 && $(refreshes) -ge 1 ]]; then
        sleep 1
        resident=$(rss VmRSS)
    fi
    [[ $(refreshes) -ge 2 ]] && break
    sleep 0.1
done
hwm=$(rss VmHWM)
touch "$work/stop"
wait "$probe" || true
times=$(grep -oE 'refreshed records.* in [0-9]+ ms' "$work/log" | grep -oE '[0-9]+ ms$' | cut -d' ' -f1)
first=$(echo "$times" | head -1)
records=$(grep -m1 -oE '[0-9]+ records \([^)]*\) under [0-9]+ names' "$work/log" || echo "no refresh")

echo "state: $TASKS tasks on $AGENTS agents, $FRAMEWORKS frameworks, $((size_bytes / 1000000)) MB; $records"
echo "refresh (fetch start -> snapshot live), ms: $(echo $times | tr '\n' ' ')"
grep -oE 'refresh stages: .*' "$work/log" | sed 's/^/  /'
awk -v t="$first" -v f="$floor_s" 'BEGIN {printf "floor (read + serde_json into IgnoredAny, best of 3): %d ms; first refresh / floor: %.2f  (target <= 5)\n", f * 1000, t / (f * 1000)}'
quiet=$(echo "$times" | sed -n 2p)
edited=$(grep -m1 -oE 'the poll differs from the last poll in [0-9]+ tasks only: edited' "$work/log" || echo "rebuilt, not edited")
awk -v t="${quiet:-0}" -v f="$floor_s" -v e="$edited" 'BEGIN {printf "quiet poll (the same document again; %s): %d ms; quiet poll / floor: %.2f\n", e, t, t / (f * 1000)}'
awk -v r="$resident" -v s="$size_bytes" 'BEGIN {printf "resident RSS after the first refresh: %d MB = %.2f x the document\n", r / 1024, r * 1024 / s}'
awk -v h="$hwm" -v s="$size_bytes" 'BEGIN {printf "peak RSS across two polls: %d MB = %.2f x the document  (target <= 2.0)\n", h / 1024, h * 1024 / s}'
echo "DNS during the refreshes (leader.mesos every 5 ms): $(cat "$work/probe")"
