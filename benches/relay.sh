#!/usr/bin/env bash
# Relay benchmark: dnsperf through mesos-dns (names outside the domain, relayed to a local upstream)
# without its answer cache, the same names answered from the cache (a second mesos-dns, `cacheOn`, warmed
# with one pass through the names first), dnsperf straight at that upstream, and authoritative answers
# from mesos-dns for reference. The summary gives each one's CPU per query, and the cached and uncached
# relay's CPU next to the authoritative answer's.
#
# The upstream is Debian's unbound with local data for the queried names and `local-zone: "." refuse`, so
# it never recurses anywhere. Everything listens on 127.0.0.1; every process started here is killed at
# exit. Each dnsperf run is bounded (-l seconds, at most -q queries outstanding). With two cores or more,
# the servers (mesos-dns and unbound) are pinned to core 0 and dnsperf to core 1, as in dnsperf.sh, so a
# relayed query pays for both servers' work on one core; the CPU each server spent per answered query is
# read from /proc/PID/stat and reported too.
#
#   bash benches/relay.sh                 # 10 s per run, as fast as it goes
#   DURATION=5 RATE=20000 bash benches/relay.sh   # fixed offered load (dnsperf -Q), shorter runs
#
# Installs dnsperf and unbound with apt-get when they are missing (needs root), and builds the release
# binary. On a small machine all three processes share the CPUs: read the ratio, not the absolute QPS.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

DURATION=${DURATION:-10}
RATE=${RATE:-}
OUTSTANDING=${OUTSTANDING:-100}
NAMES=${NAMES:-1000}

step() { printf '\n==> %s\n' "$*" >&2; }

# --- Tools -----------------------------------------------------------------------------------------
missing=()
command -v dnsperf >/dev/null 2>&1 || missing+=(dnsperf)
command -v unbound >/dev/null 2>&1 || [[ -x /usr/sbin/unbound ]] || missing+=(unbound)
command -v dig >/dev/null 2>&1 || missing+=(dnsutils)
if ((${#missing[@]})); then
    step "installing ${missing[*]}"
    if [[ $(id -u) -ne 0 ]]; then
        echo "error: ${missing[*]} missing and not running as root; install them: apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends "${missing[@]}"
fi
UNBOUND=$(command -v unbound || echo /usr/sbin/unbound)
if (($(nproc) >= 2)); then
    PIN_SERVER=(taskset -c 0)
    PIN_CLIENT=(taskset -c 1)
else
    PIN_SERVER=()
    PIN_CLIENT=()
fi
CLK_TCK=$(getconf CLK_TCK)

step "building the release binary"
cargo build --release --bin mesos-dns
BIN=${BIN:-target/release/mesos-dns}

# --- Scratch space and clean-up --------------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/mesos-dns-relay-bench.XXXXXX")
pids=()
cleanup() {
    local status=$? pid log code
    if ((status != 0)); then
        for log in "$work"/*.log; do
            [[ -e $log ]] || continue
            echo "---- tail of $(basename "$log") ----" >&2
            tail -n 20 "$log" >&2
        done
        for pid in "${pids[@]}"; do
            if ! kill -0 "$pid" 2>/dev/null; then
                wait "$pid" 2>/dev/null && code=0 || code=$?
                echo "process $pid had already exited, status $code" >&2
            fi
        done
    fi
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A loopback port free for both UDP and TCP (bounded number of tries).
free_port() {
    local port i
    for i in $(seq 1 200); do
        port=$((20000 + RANDOM % 30000))
        if [[ -z $(ss -Hlnu "sport = :$port") && -z $(ss -Hlnt "sport = :$port") ]]; then
            echo "$port"
            return 0
        fi
    done
    echo "no free port" >&2
    return 1
}

# Waits (bounded) until 127.0.0.1:$1 answers $2 with NOERROR.
wait_answering() {
    local i
    for i in $(seq 1 100); do
        if dig @127.0.0.1 -p "$1" "$2" A +time=1 +tries=1 2>/dev/null | grep -q 'status: NOERROR'; then
            return 0
        fi
        sleep 0.1
    done
    echo "nothing answers $2 on 127.0.0.1:$1" >&2
    return 1
}

# --- The upstream: unbound with local data ---------------------------------------------------------
UP_PORT=$(free_port)
{
    cat <<EOF
server:
    interface: 127.0.0.1@$UP_PORT
    port: $UP_PORT
    do-ip6: no
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "$work"
    pidfile: ""
    logfile: ""
    use-syslog: no
    verbosity: 0
    num-threads: 1
    so-reuseport: no
    module-config: "iterator"
    access-control: 127.0.0.0/8 allow
    local-zone: "." refuse
    local-zone: "example.com." static
EOF
    for i in $(seq 1 "$NAMES"); do
        echo "    local-data: \"host$i.example.com. 300 IN A 127.1.$((i / 256)).$((i % 256))\""
    done
    printf 'remote-control:\n    control-enable: no\n'
} >"$work/unbound.conf"
"${PIN_SERVER[@]}" "$UNBOUND" -d -c "$work/unbound.conf" >"$work/unbound.log" 2>&1 &
up_pid=$!
pids+=("$up_pid")

# --- mesos-dns: the tutorial state from a file, the upstream as its only resolver -------------------
# Two servers: one without the answer cache (every query relayed), one with it.
# start_mesos_dns NAME CACHE_ON -> sets ${NAME}_port and ${NAME}_pid
start_mesos_dns() {
    local name=$1 cache_on=$2 port
    port=$(free_port)
    while [[ $port == "$UP_PORT" || $port == "${uncached_port:-}" ]]; do port=$(free_port); done
    cat >"$work/$name.json" <<EOF
{
  "masters": ["127.0.0.1:5050"],
  "listener": "127.0.0.1",
  "port": $port,
  "httpon": false,
  "refreshSeconds": 60,
  "timeout": 5,
  "resolvers": ["127.0.0.1:$UP_PORT"],
  "cacheOn": $cache_on,
  "domain": "mesos"
}
EOF
    "${PIN_SERVER[@]}" "$BIN" -v -config="$work/$name.json" -state-file=tests/fixtures/tutorial-0.21.json \
        >"$work/mesos-dns-$name.log" 2>&1 &
    pids+=("$!")
    printf -v "${name}_port" '%s' "$port"
    printf -v "${name}_pid" '%s' "$!"
}
start_mesos_dns uncached false
start_mesos_dns cached true

wait_answering "$UP_PORT" host1.example.com
for port in "$uncached_port" "$cached_port"; do
    wait_answering "$port" nginx.marathon-0.7.6.mesos
    wait_answering "$port" host1.example.com
done

for i in $(seq 1 "$NAMES"); do echo "host$i.example.com A"; done >"$work/outside.txt"
printf '%s A\n' nginx.marathon-0.7.6.mesos leader.mesos master.mesos >"$work/inside.txt"
printf '%s SRV\n' _nginx._tcp.marathon-0.7.6.mesos >>"$work/inside.txt"

# CPU time (user + system, clock ticks) a process has used so far.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# Runs dnsperf against port $2 with query file $3; saves its report as $work/$1.out and the CPU ticks
# the mesos-dns of pid $4 and unbound spent meanwhile as $work/$1.cpu.
run() {
    local name=$1 port=$2 file=$3 dns_pid=$4
    local args=(-s 127.0.0.1 -p "$port" -d "$file" -l "$DURATION" -q "$OUTSTANDING" -c 4 -t 2)
    [[ -n $RATE ]] && args+=(-Q "$RATE")
    step "dnsperf: $name (${args[*]})"
    local dns0 up0
    dns0=$(cpu_ticks "$dns_pid")
    up0=$(cpu_ticks "$up_pid")
    "${PIN_CLIENT[@]}" dnsperf "${args[@]}" >"$work/$name.out" 2>&1
    echo "$(($(cpu_ticks "$dns_pid") - dns0)) $(($(cpu_ticks "$up_pid") - up0))" >"$work/$name.cpu"
    grep -E 'Queries (sent|completed|lost)|Queries per second|Average Latency' "$work/$name.out" >&2
}

run relayed "$uncached_port" "$work/outside.txt" "$uncached_pid"
step "warming the cache: one pass through the names"
"${PIN_CLIENT[@]}" dnsperf -s 127.0.0.1 -p "$cached_port" -d "$work/outside.txt" -n 1 -q 10 >/dev/null 2>&1
run cached "$cached_port" "$work/outside.txt" "$cached_pid"
run direct "$UP_PORT" "$work/outside.txt" "$uncached_pid"
run authoritative "$cached_port" "$work/inside.txt" "$cached_pid"

# --- Summary ---------------------------------------------------------------------------------------
field() { # field NAME 'Label:' -> the first number after the label
    awk -v label="$2" 'index($0, label) { $0 = substr($0, index($0, label) + length(label)); print $1; exit }' \
        "$work/$1.out"
}
# CPU microseconds per completed query: field $2 of $work/$1.cpu (1: mesos-dns, 2: unbound).
cpu_per_query() {
    awk -v ticks="$(cut -d' ' -f"$2" "$work/$1.cpu")" -v n="$(field "$1" 'Queries completed:')" -v hz="$CLK_TCK" \
        'BEGIN { printf "%.2f", (n > 0 ? ticks / hz * 1e6 / n : 0) }'
}
printf '\n%-44s %10s %8s %14s %16s %16s\n' "run ($DURATION s, ${RATE:-max} qps offered)" "QPS" "lost" \
    "avg latency" "mesos-dns CPU" "unbound CPU"
for name in relayed cached direct authoritative; do
    label=$name
    case $name in
    relayed) label="relayed: dnsperf -> mesos-dns -> unbound" ;;
    cached) label="cached:  dnsperf -> mesos-dns (cache hits)" ;;
    direct) label="direct:  dnsperf -> unbound" ;;
    authoritative) label="authoritative: dnsperf -> mesos-dns" ;;
    esac
    printf '%-44s %10.0f %8s %11.3f ms %11s us/q %11s us/q\n' "$label" "$(field "$name" 'Queries per second:')" \
        "$(field "$name" 'Queries lost:')" "$(awk "BEGIN { print $(field "$name" 'Average Latency (s):') * 1000 }")" \
        "$(cpu_per_query "$name" 1)" "$(cpu_per_query "$name" 2)"
done
awk -v r="$(field relayed 'Queries per second:')" -v d="$(field direct 'Queries per second:')" \
    -v rl="$(field relayed 'Average Latency (s):')" -v dl="$(field direct 'Average Latency (s):')" \
    'BEGIN { printf "\nrelayed / direct: %.2f x the QPS, %.2f x the average latency\n", r / d, rl / dl }'
awk -v c="$(cpu_per_query cached 1)" -v r="$(cpu_per_query relayed 1)" -v a="$(cpu_per_query authoritative 1)" \
    'BEGIN { if (a > 0) printf "mesos-dns CPU per query against an authoritative answer: cached %.2f x, uncached relay %.2f x\n", c / a, r / a }'
