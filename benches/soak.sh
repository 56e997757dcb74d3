#!/usr/bin/env bash
# Soak: the release binary beside a fake master (benches/soak-master.py) of TASKS tasks (100k), first
# quiet for QUIET seconds (the quiet cluster's resident RSS), then with churn for DURATION: every 2 s
# 10% of the tasks are replaced (killed, and a new instance of the same app started elsewhere). Poll
# mode polls every 2 s (every poll sees a new document); stream mode gets the kills and starts as
# events. A light dnsperf load (RATE queries/s of names that stay) runs throughout. Prints the
# server's resident RSS every SAMPLE_EVERY seconds (printed every PRINT_EVERY), then per mode: the
# quiet RSS (smallest and largest sample: between polls and inside one), the same after the warm-up
# (the first WARMUP seconds of churn), the growth of the largest sample from the first to the last
# third after warm-up, and the largest against the quiet cluster's largest. Samples are a second
# apart: at 10 s (the old default) against 2 s polls every quiet sample fell at the same point of the
# poll cycle, between polls, so the quiet largest missed its polls' parse (9-12 MB) while churn
# samples, whose edits take longer, caught theirs. Beside them, each phase's true peak (the kernel's
# VmHWM, reset at the phase's start through /proc/PID/clear_refs) is printed, not judged.
# Fails if RSS after warm-up exceeds 1.5x the quiet RSS, if its peaks grow by more than 10%, if a
# refresh fails, or if more than 0.1% of queries are lost.
#
#   bash benches/soak.sh                  # 30 minutes of churn per mode, poll then stream
#   bash benches/soak.sh 10m              # a duration: seconds, or with s/m/h
#   MODES=stream TASKS=10000 bash benches/soak.sh 120
#   BIN=/path/to/mesos-dns LOGS=/tmp/soak bash benches/soak.sh 4m   # a built binary; keep the server logs
#
# A secondary is not configured (the IXFR journal is then not kept); SECONDARY=1 sets
# `transferAllowFrom` so that it is, within `ixfrJournalBytes` (16 MiB by default).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

duration_arg=${1:-30m}
case $duration_arg in
*h) DURATION=$((${duration_arg%h} * 3600)) ;;
*m) DURATION=$((${duration_arg%m} * 60)) ;;
*s) DURATION=${duration_arg%s} ;;
*) DURATION=$duration_arg ;;
esac
TASKS=${TASKS:-100000} AGENTS=${AGENTS:-5000} MODES=${MODES:-poll stream} RATE=${RATE:-2000}
QUIET=${QUIET:-60} WARMUP=${WARMUP:-120} SAMPLE_EVERY=${SAMPLE_EVERY:-1} PRINT_EVERY=${PRINT_EVERY:-10}
SECONDARY=${SECONDARY:-0}
((WARMUP < DURATION)) || WARMUP=$((DURATION / 3))

if ! command -v dnsperf >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq dnsperf >/dev/null
fi
source benches/common.sh
rss_mb() { awk '/^VmRSS:/ {printf "%d", $2 / 1024}' "/proc/$1/status"; }
hwm_mb() { awk '/^VmHWM:/ {printf "%d", $2 / 1024}' "/proc/$1/status"; }
# Starts a new peak (VmHWM) from the current RSS; where the kernel refuses, the peak is the process's.
reset_hwm() { echo 5 >"/proc/$1/clear_refs" 2>/dev/null || true; }

[[ -n ${BIN:-} ]] || cargo build --release --quiet
bin=${BIN:-target/release/mesos-dns}
echo "soak: $TASKS tasks on $AGENTS agents, quiet ${QUIET} s, then 10% replaced every 2 s for ${DURATION} s" \
    "(warm-up ${WARMUP} s); dnsperf at $RATE queries/s; RSS every ${SAMPLE_EVERY} s"
fail=0
summary=()
for mode in $MODES; do
    master_port=$(free_port) dns_port=$(free_port) http_port=$(free_port)
    refresh=$([[ $mode == stream ]] && echo 60 || echo 2)
    transfer=$([[ $SECONDARY == 1 ]] && echo '"transferAllowFrom": ["127.0.0.0/8"],' || true)
    cat >"$work/config-$mode.json" <<JSON
{"masters": ["127.0.0.1:$master_port"], "refreshSeconds": $refresh, "stateTimeoutSeconds": 300,
 "listener": "127.0.0.1", "port": $dns_port, "httpon": true, "httpListener": "127.0.0.1",
 "httpport": $http_port, "resolvers": ["127.0.0.1:9"], "externalon": false, $transfer
 "stateSource": "$mode"}
JSON
    python3 benches/soak-master.py --port "$master_port" --tasks "$TASKS" --agents "$AGENTS" \
        --queries "$work/queries-$mode" 2>"$work/master-$mode.log" &
    master=$!
    pids+=("$master")
    for _ in $(seq 1200); do
        curl -sf --max-time 5 -o /dev/null "http://127.0.0.1:$master_port/master/state" && break
        sleep 0.1
    done
    "$bin" -v -config="$work/config-$mode.json" 2>"$work/server-$mode.log" &
    server=$!
    pids+=("$server")
    for _ in $(seq 1200); do
        grep -q 'refreshed records' "$work/server-$mode.log" 2>/dev/null && break
        sleep 0.1
    done
    grep -q 'refreshed records' "$work/server-$mode.log" || {
        echo "FAIL: $mode: no first refresh"
        tail "$work/server-$mode.log"
        exit 1
    }
    dnsperf -s 127.0.0.1 -p "$dns_port" -d "$work/queries-$mode" -l $((QUIET + DURATION)) -Q "$RATE" -c 2 -t 2 \
        >"$work/dnsperf-$mode.out" 2>&1 &
    perf=$!
    pids+=("$perf")

    # Samples, bounded: (QUIET + DURATION) / SAMPLE_EVERY of them.
    # The quiet phase is read from its 10th second (as when samples were 10 s apart), away from the
    # first build.
    quiet=() churn=() t=0 quiet_hwm=? churn_hwm=?
    for _ in $(seq $(((QUIET + DURATION) / SAMPLE_EVERY))); do
        sleep "$SAMPLE_EVERY"
        t=$((t + SAMPLE_EVERY))
        kill -0 "$server" 2>/dev/null || {
            echo "FAIL: $mode: the server exited"
            tail "$work/server-$mode.log"
            exit 1
        }
        rss=$(rss_mb "$server")
        if ((t <= QUIET)); then
            ((t >= 10 && t - SAMPLE_EVERY < 10)) && reset_hwm "$server"
            ((t >= 10)) && quiet+=("$rss")
            phase=quiet
            if ((t + SAMPLE_EVERY > QUIET)); then
                quiet_hwm=$(hwm_mb "$server")
                kill -USR1 "$master"
            fi
        else
            churn+=("$((t - QUIET)):$rss")
            phase=churn
            # The churn's peak counts from the end of the warm-up.
            ((t - QUIET <= WARMUP && t - QUIET + SAMPLE_EVERY > WARMUP)) && reset_hwm "$server"
        fi
        ((t % PRINT_EVERY < SAMPLE_EVERY)) && echo "$mode t=${t}s $phase rss=${rss}MB"
    done
    churn_hwm=$(hwm_mb "$server")
    wait "$perf" || true
    metrics=$(curl -s --max-time 5 "http://127.0.0.1:$http_port/metrics" || true)
    kill "$server" "$master" 2>/dev/null || true
    [[ -z ${LOGS:-} ]] || { mkdir -p "$LOGS" && cp "$work/server-$mode.log" "$LOGS/"; }

    ok=$(awk '/^mesos_dns_refreshes_total\{result="success"\}/ {print $2}' <<<"$metrics")
    failed=$(awk '/^mesos_dns_refreshes_total\{result="failure"\}/ {print $2}' <<<"$metrics")
    journal=$(awk '/^mesos_dns_ixfr_journal_bytes/ {print $2}' <<<"$metrics")
    lost_pct=$(awk '/Queries lost/ {gsub(/[()%]/, "", $4); print $4}' "$work/dnsperf-$mode.out")
    qps=$(awk '/Queries per second/ {print $4}' "$work/dnsperf-$mode.out")
    lat=$(tr -d '(,' <"$work/dnsperf-$mode.out" | awk '/Average Latency/ {print $4 * 1000 " ms average, max " $8 * 1000 " ms"}')
    # Each sample falls between polls (the resident floor) or inside one (a refresh's transient peak):
    # both are reported, and the peaks of the first and last thirds after warm-up are compared.
    quiet_min=$(printf '%s\n' "${quiet[@]}" | sort -n | head -1)
    quiet_max=$(printf '%s\n' "${quiet[@]}" | sort -n | tail -1)
    report=$(printf '%s\n' "${churn[@]}" | awk -F: -v w="$WARMUP" -v q="$quiet_max" '
        $1 > w { n++; r[n] = $2; if ($2 > max) max = $2; if (min == "" || $2 < min) min = $2 }
        END {
            if (n < 3) { print "few"; exit }
            k = int(n / 3); for (i = 1; i <= k; i++) { if (r[i] > a) a = r[i]; if (r[n - k + i] > b) b = r[n - k + i] }
            printf "%d %d %.1f %.2f", min, max, (b - a) * 100 / a, max / q
        }')
    read -r after_min after_max drift ratio <<<"$report"
    line="$mode: quiet RSS ${quiet_min}-${quiet_max} MB; with churn after warm-up ${after_min}-${after_max} MB"
    line+=" (largest ${ratio}x the quiet largest), peak drift first->last third ${drift}%;"
    hwm_ratio=$(awk -v c="$churn_hwm" -v q="$quiet_hwm" 'BEGIN {if (q > 0) printf "%.2f", c / q; else print "?"}')
    line+=" true peak (VmHWM) quiet ${quiet_hwm} MB, churn after warm-up ${churn_hwm} MB (${hwm_ratio}x);"
    line+=" refreshes ${ok:-?} ok ${failed:-?} failed;"
    line+=" journal ${journal:-?} bytes; dnsperf ${qps:-?} q/s, lost ${lost_pct:-?}%, ${lat:-?}"
    summary+=("$line")
    grep -E 'refresh failed|WARN|ERROR' "$work/server-$mode.log" | head -5 | sed "s/^/  $mode log: /" || true
    if [[ $report == few ]]; then
        echo "FAIL: $mode: too few samples after warm-up"
        fail=1
        continue
    fi
    awk -v r="$ratio" 'BEGIN {exit !(r > 1.5)}' && { echo "FAIL: $mode: RSS above 1.5x the quiet cluster's"; fail=1; }
    awk -v d="$drift" 'BEGIN {exit !(d > 10)}' && { echo "FAIL: $mode: RSS peaks grow by more than 10%"; fail=1; }
    [[ "${failed:-x}" == 0 && "${ok:-0}" -gt 0 ]] || { echo "FAIL: $mode: refreshes failed (or /metrics unreadable)"; fail=1; }
    awk -v p="${lost_pct:-100}" 'BEGIN {exit !(p > 0.1)}' && { echo "FAIL: $mode: lost more than 0.1% of queries"; fail=1; }
done
printf '%s\n' "${summary[@]}"
((fail == 0)) && echo PASS
exit "$fail"
