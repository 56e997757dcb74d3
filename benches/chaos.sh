#!/usr/bin/env bash
# The chaos run, long: tests/chaos.rs for CHAOS_SECONDS (600 by default, about 37 rounds of a leader
# failover with agents under `recovered_slaves`, tasks starting and stopping, a SIGHUP, the preferred
# upstream going dark and coming back, and a SIGKILL and restart while every master fails), with a prober
# asking for a fixed set of living tasks' names all along and a second one relaying distinct outside
# names. Prints the chaos line: wrong or missing answers for living tasks and NXDOMAINs (goal 0 each),
# crashes (0), the relayed names' p50/p99/worst latency and the server's peak RSS.
#
#   bash benches/chaos.sh                 # ten minutes
#   CHAOS_SECONDS=120 bash benches/chaos.sh
#
# Everything runs on loopback (fake masters and resolvers inside the test); the run is bounded in time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
CHAOS_SECONDS=${CHAOS_SECONDS:-600} cargo test --release --test chaos -- --nocapture 2>&1 | grep -E '^chaos:|test result|panicked|assert'
