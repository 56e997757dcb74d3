#!/usr/bin/env bash
# The HTTP API at scale: a generated state of 100k tasks on 5k agents served on loopback by a static file
# server; the release binary loads it, then each big document is fetched whole while a UDP prober asks
# `leader.mesos` every 5 ms. Reports per request: its time, the DNS answer latency during it (median,
# p99, max; a probe not answered in 1 s counts as 1000 ms), and the server's RSS before, at peak (sampled
# every 5 ms) and 2 s after.
#
#   bash benches/http.sh                    # 100k tasks, 5k agents (a minute or two)
#   TASKS=10000 AGENTS=500 bash benches/http.sh
#   BIN=target/x86_64-unknown-linux-musl/release/mesos-dns bash benches/http.sh   # the static build
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

TASKS=${TASKS:-100000} AGENTS=${AGENTS:-5000}
source benches/common.sh

cargo build --release --quiet
master_port=$(free_port) dns_port=$(free_port) http_port=$(free_port)
mkdir -p "$work/www/master"
python3 tests/fixtures/gen-state.py --agents "$AGENTS" --tasks "$TASKS" --leader "127.0.0.1:$master_port" >"$work/www/master/state"
size=$(stat -c %s "$work/www/master/state")
python3 -m http.server "$master_port" --bind 127.0.0.1 --directory "$work/www" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 100); do
    curl -sf -o /dev/null "http://127.0.0.1:$master_port/master/state" && break
    sleep 0.1
done

cat >"$work/config.json" <<JSON
{"masters": ["127.0.0.1:$master_port"], "refreshSeconds": 3600, "listener": "127.0.0.1", "port": $dns_port,
 "httpon": true, "httpListener": "127.0.0.1", "httpport": $http_port, "resolvers": ["127.0.0.1:9"],
 "stateTimeoutSeconds": 120, "EnumerationOn": true}
JSON
"${BIN:-target/release/mesos-dns}" -v -config="$work/config.json" 2>"$work/log" &
server=$!
pids+=("$server")

for _ in $(seq 1200); do
    grep -q 'refreshed records' "$work/log" 2>/dev/null && break
    sleep 0.1
done
grep -q 'refreshed records' "$work/log" || { echo "no refresh in 120 s:"; cat "$work/log"; exit 1; }
records=$(grep -m1 -oE '[0-9]+ records \([^)]*\) under [0-9]+ names' "$work/log" || true)
echo "state: $TASKS tasks on $AGENTS agents, $((size / 1024 / 1024)) MB; $records"

python3 - "$server" "$dns_port" "$http_port" <<'PY'
import socket, statistics, struct, sys, threading, time, urllib.request

pid, dns_port, http_port = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])

def rss_mb():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0

def query(qid):
    name = b"".join(bytes([len(l)]) + l for l in b"leader.mesos".split(b".")) + b"\0"
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + name + struct.pack(">HH", 1, 1)

def probe(stop, latencies):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    qid = 0
    while not stop.is_set() and len(latencies) < 20000:
        qid = (qid + 1) & 0xFFFF
        t0 = time.perf_counter()
        s.sendto(query(qid), ("127.0.0.1", dns_port))
        try:
            while True:
                data, _ = s.recvfrom(4096)
                if data[:2] == struct.pack(">H", qid):
                    break
            latencies.append((time.perf_counter() - t0) * 1000)
        except socket.timeout:
            latencies.append(1000.0)
        time.sleep(max(0.0, 0.005 - (time.perf_counter() - t0)))

def sample(stop, peak):
    while not stop.is_set():
        peak[0] = max(peak[0], rss_mb())
        time.sleep(0.005)

def measure(path):
    before = rss_mb()
    stop, latencies, peak = threading.Event(), [], [before]
    threads = [threading.Thread(target=probe, args=(stop, latencies)), threading.Thread(target=sample, args=(stop, peak))]
    for t in threads:
        t.start()
    time.sleep(0.1)
    t0 = time.perf_counter()
    size = 0
    with urllib.request.urlopen(f"http://127.0.0.1:{http_port}{path}", timeout=60) as r:
        while chunk := r.read(1 << 20):
            size += len(chunk)
    took = time.perf_counter() - t0
    time.sleep(0.1)
    stop.set()
    for t in threads:
        t.join()
    time.sleep(2)
    lat = sorted(latencies)
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    return (path, size / 1e6, took, statistics.median(lat), p99, lat[-1], len(lat), before, peak[0], rss_mb())

rows = [measure(p) for p in ("/v1/axfr", "/v1/enumerate", "/v1/axfr", "/v1/enumerate")]
print("| request | size | request time | DNS during it: median / p99 / max (probes) | server RSS before / peak / after |")
print("|---|---|---|---|---|")
for path, mb, took, med, p99, mx, n, before, peak, after in rows:
    print(f"| `{path}` | {mb:.0f} MB | {took:.2f} s | {med:.1f} ms / {p99:.1f} ms / {mx:.1f} ms ({n}) | {before:.0f} / {peak:.0f} / {after:.0f} MB |")
PY
