#!/usr/bin/env bash
# dnsperf harness: our server beside NSD and Knot (Debian's) and the floor, a C loop that only bounces
# packets (benches/bounce.c), all serving the records of tests/fixtures/fake.json on loopback. Each
# server is pinned to core 0 and dnsperf to core 1; each run is bounded in time. Reports QPS, lost
# queries and CPU microseconds per answered query (user and system, from /proc/PID/stat before and
# after: the total from schedstat, in nanoseconds, split into user and system as the clock ticks
# split it), over UDP (and TCP for us and NSD in the first round), and the ratios of each round: on a
# shared machine only ratios from one round mean something, so ROUNDS rounds (3) are run in turn.
# PERF=1 also counts, per answered query over UDP, each server's system calls, context switches and
# wake-ups of other CPUs (perf stat; where the kernel time goes).
#
#   bash benches/dnsperf.sh            # 10 s per run, 3 rounds
#   SECONDS_PER_RUN=30 ROUNDS=5 bash benches/dnsperf.sh
#   BASE_BIN=/tmp/mesos-dns-before bash benches/dnsperf.sh   # another build beside ours, as `base`
#   QPS=80000 PERF=1 bash benches/dnsperf.sh   # the same offered rate for all; syscalls per query
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

RUN=${SECONDS_PER_RUN:-10} ROUNDS=${ROUNDS:-3}
# QPS=N offers every server the same rate (dnsperf -Q): the CPU a query costs depends on the rate
# (the busier a server, the more queries each wake-up takes), and at full speed the rate follows
# whatever else runs on dnsperf's core.
rate=${QPS:+-Q $QPS}
STATE=${STATE:-tests/fixtures/fake.json}
PORT_US=15353 PORT_NSD=15354 PORT_BOUNCE=15355 PORT_KNOT=15356 PORT_BASE=15357
SERVER_CPU=0 CLIENT_CPU=1

need=()
command -v dnsperf >/dev/null || need+=(dnsperf)
command -v nsd >/dev/null || need+=(nsd)
command -v gcc >/dev/null || need+=(gcc)
command -v knotd >/dev/null || need+=(knot)
if [[ ${PERF:-} == 1 ]]; then command -v perf >/dev/null || need+=(linux-perf); fi
if ((${#need[@]})); then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
fi

source benches/common.sh

cargo build --release --quiet
bin=target/release/mesos-dns

# --- the records: ours, dumped with -vv, become NSD's zone and dnsperf's queries ---------------------
sed -e "s/\"port\": 5353/\"port\": $PORT_US/" -e 's/"httpon": true/"httpon": false/' config.json.example >"$work/config.json"
taskset -c $SERVER_CPU "$bin" -vv -config="$work/config.json" -state-file="$STATE" 2>"$work/us.log" &
us=$!
pids+=("$us")
for _ in $(seq 50); do grep -q 'refreshed records' "$work/us.log" 2>/dev/null && break; sleep 0.1; done
grep -oE '\] [^ ]+\. [0-9]+ IN (A|AAAA|SRV) .*$' "$work/us.log" | cut -c3- | sort -u >"$work/records"
{
    echo '$ORIGIN mesos.'
    echo '@ 60 IN SOA ns1.mesos. root.ns1.mesos. 1 60 600 86400 60'
    echo '@ 60 IN NS ns1.mesos.'
    cat "$work/records"
} >"$work/mesos.zone"
# Every name and type once, plus names that do not exist (NXDOMAIN), shuffled deterministically.
{
    awk '{print $1, $4}' "$work/records" | sort -u
    for i in $(seq 20); do echo "no-such-task-$i.marathon.mesos. A"; done
} | shuf --random-source=<(yes) >"$work/queries"
echo "records: $(wc -l <"$work/records"), distinct queries: $(wc -l <"$work/queries")"

cat >"$work/nsd.conf" <<CONF
server:
    ip-address: 127.0.0.1@$PORT_NSD
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "$work"
    database: ""
    zonelistfile: "$work/zone.list"
    xfrdfile: "$work/xfrd.state"
    pidfile: "$work/nsd.pid"
    logfile: "$work/nsd.log"
    verbosity: 0
    tcp-count: 100
    # NSD limits responses per source /24 by default (RRL); dnsperf is one source.
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
remote-control:
    control-enable: no
zone:
    name: mesos
    zonefile: mesos.zone
CONF
taskset -c $SERVER_CPU nsd -d -c "$work/nsd.conf" &
nsd_pid=$!
pids+=("$nsd_pid")

mkdir -p "$work/knot"
cat >"$work/knot.conf" <<CONF
server:
    listen: 127.0.0.1@$PORT_KNOT
    rundir: $work/knot
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: $work/knot.log
    any: warning
database:
    storage: $work/knot
zone:
  - domain: mesos
    file: $work/mesos.zone
    journal-content: none
    zonefile-sync: -1
CONF
taskset -c $SERVER_CPU knotd -c "$work/knot.conf" 2>"$work/knotd.stderr" &
knot=$!
pids+=("$knot")

if [[ -n ${BASE_BIN:-} ]]; then
    sed -e "s/\"port\": $PORT_US/\"port\": $PORT_BASE/" "$work/config.json" >"$work/config-base.json"
    taskset -c $SERVER_CPU "$BASE_BIN" -config="$work/config-base.json" -state-file="$STATE" 2>"$work/base.log" &
    base=$!
    pids+=("$base")
fi

# --- the floor: receive a datagram, set QR, send it back -----------------------------------------
gcc -O2 -o "$work/bounce" benches/bounce.c
taskset -c $SERVER_CPU "$work/bounce" $PORT_BOUNCE &
bounce=$!
pids+=("$bounce")

for port in $PORT_NSD $PORT_KNOT; do
    for _ in $(seq 50); do
        dig @127.0.0.1 -p $port mesos SOA +short +time=1 +tries=1 2>/dev/null | grep -q ns1 && break
        sleep 0.1
    done
done
# The same query's reply from each (sizes; the sections we add that the others do not).
for name in $(awk '$4 == "A" {print $1; exit}' "$work/records") leader.mesos. no-such-task-1.marathon.mesos.; do
    for port in $PORT_US $PORT_NSD $PORT_KNOT; do
        printf '%-36s port %s: ' "$name A" "$port"
        dig @127.0.0.1 -p "$port" "$name" A +time=1 +tries=1 | awk '/MSG SIZE/ {size = $NF}
            /^;; flags:/ {gsub(/[;,]/, ""); c = sprintf("answer %s authority %s additional %s", $(NF-4), $(NF-2), $NF)}
            END {printf "%s bytes, %s\n", size, c}'
    done
done

# A process and all its descendants (NSD runs xfrd -> main -> server processes).
tree() {
    local p
    echo "$1"
    for p in $(pgrep -P "$1" 2>/dev/null || true); do tree "$p"; done
}

# CPU ticks (user, system) of a process tree, and its CPU time in nanoseconds (schedstat: exact,
# where the ticks split it into user and system at 100 Hz).
ticks() {
    local u=0 s=0 ns=0 p t
    for p in $(tree "$1"); do
        local stat
        stat=$(cat "/proc/$p/stat" 2>/dev/null) || continue
        # Fields after "(comm)", which may hold spaces: state is [0], utime [11], stime [12].
        read -r -a f <<<"${stat##*) }"
        u=$((u + f[11])) s=$((s + f[12]))
        for t in /proc/"$p"/task/*/schedstat; do
            read -r run _ <"$t" 2>/dev/null && ns=$((ns + run))
        done
    done
    echo "$u $s $ns"
}

declare -A result
run() { # name pid port mode
    local name=$1 pid=$2 port=$3 mode=$4
    local before after out completed lost qps
    local perf_pid=
    if [[ ${PERF:-} == 1 && $mode == udp ]]; then
        perf stat -x, -e raw_syscalls:sys_enter,context-switches,ipi:ipi_send_cpu \
            -p "$(tree "$pid" | paste -sd,)" -o "$work/perf.$name" -- sleep "$RUN" 2>/dev/null &
        perf_pid=$!
    fi
    before=$(ticks "$pid")
    # shellcheck disable=SC2086 # $rate is empty or two words
    out=$(taskset -c $CLIENT_CPU dnsperf -s 127.0.0.1 -p "$port" -d "$work/queries" -l "$RUN" -c 8 -q 64 -m "$mode" $rate 2>&1)
    after=$(ticks "$pid")
    completed=$(echo "$out" | awk '/Queries completed/ {print $3}')
    lost=$(echo "$out" | awk '/Queries lost/ {gsub(/[()%]/, "", $4); print $4}')
    qps=$(echo "$out" | awk '/Queries per second/ {print $4}')
    read -r bu bs bns <<<"$before"
    read -r au as ans <<<"$after"
    local user sys total
    # The ticks' user/system split of the exact total.
    user=$(awk -v u=$((au - bu)) -v s=$((as - bs)) -v ns=$((ans - bns)) -v n="$completed" \
        'BEGIN {printf "%.2f", (u + s > 0 ? u / (u + s) : 0) * ns / 1e3 / n}')
    total=$(awk -v ns=$((ans - bns)) -v n="$completed" 'BEGIN {printf "%.2f", ns / 1e3 / n}')
    sys=$(awk -v a="$total" -v b="$user" 'BEGIN {printf "%.2f", a - b}')
    printf '%-10s %-4s %10.0f %8s %10s %10s %10s\n' "$name" "$mode" "$qps" "$lost" "$user" "$sys" "$total"
    if [[ -n $perf_pid ]]; then
        wait "$perf_pid" || true
        [[ -s $work/perf.$name ]] &&
            awk -F, -v n="$completed" '/^[0-9]/ {printf "  %s %.3f", $3, $1 / n} END {print "  per query"}' "$work/perf.$name"
    fi
    result[$name.$mode.user]=$user result[$name.$mode.sys]=$sys result[$name.$mode.total]=$total
    result[$name.$mode.lost]=$lost
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

for round in $(seq "$ROUNDS"); do
    printf '\nround %d\n%-10s %-4s %10s %8s %10s %10s %10s\n' "$round" server mode qps lost% 'user us/q' 'sys us/q' 'total us/q'
    run mesos-dns "$us" $PORT_US udp
    run nsd "$nsd_pid" $PORT_NSD udp
    run knot "$knot" $PORT_KNOT udp
    run bounce "$bounce" $PORT_BOUNCE udp
    if [[ -n ${BASE_BIN:-} ]]; then
        run base "$base" $PORT_BASE udp
        echo "round $round UDP total CPU per query, mesos-dns / base: $(ratio "${result[mesos-dns.udp.total]}" "${result[base.udp.total]}")"
    fi
    if ((round == 1)); then
        run mesos-dns "$us" $PORT_US tcp
        run nsd "$nsd_pid" $PORT_NSD tcp
    fi
    u=mesos-dns.udp
    echo "round $round UDP, mesos-dns against: NSD user $(ratio "${result[$u.user]}" "${result[nsd.udp.user]}") (target <= 0.6)," \
        "NSD total $(ratio "${result[$u.total]}" "${result[nsd.udp.total]}") (<= 0.95)," \
        "floor total $(ratio "${result[$u.total]}" "${result[bounce.udp.total]}") (<= 1.2)," \
        "Knot total $(ratio "${result[$u.total]}" "${result[knot.udp.total]}");" \
        "sys beyond the floor $(awk -v a="${result[$u.sys]}" -v b="${result[bounce.udp.sys]}" 'BEGIN {printf "%+.2f", a - b}') us," \
        "NSD's $(awk -v a="${result[nsd.udp.sys]}" -v b="${result[bounce.udp.sys]}" 'BEGIN {printf "%+.2f", a - b}') us;" \
        "lost ${result[$u.lost]}%"
    if ((round == 1)); then
        echo "round 1 TCP total CPU per query, mesos-dns / NSD: $(ratio "${result[mesos-dns.tcp.total]}" "${result[nsd.tcp.total]}")"
    fi
done
