#!/bin/sh
# Instructions per A, SRV and NXDOMAIN answer under callgrind (deterministic, unlike wall time), for a
# base commit and the working tree built back to back, each in its own target dir:
#
#   benches/answer-cost.sh BASE_COMMIT     # a commit that has examples/answer_cost.rs
#
# Per answer = (Ir(N answers) - Ir(0 answers)) / N, so the snapshot build cancels out. The working tree
# is measured twice: `answer` on the bytes, and the server's path (`routed`: read once, route, answer).
set -eu
base=${1:?usage: benches/answer-cost.sh BASE_COMMIT}
n=${N:-20000}
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
git -C "$here" worktree add --detach "$tmp/base" "$base" >/dev/null
trap 'git -C "$here" worktree remove --force "$tmp/base"; rm -rf "$tmp"' EXIT
[ -f "$tmp/base/examples/answer_cost.rs" ] || { echo "$base has no examples/answer_cost.rs" >&2; exit 1; }
(cd "$tmp/base" && cargo build -q --release --example answer_cost)
(cd "$here" && cargo build -q --release --example answer_cost)
ir() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 | sed -n 's/.*Collected : //p'; }
for kind in a srv nxdomain; do
    for tree in "$tmp/base" "$here"; do
        bin=$tree/target/release/examples/answer_cost
        for mode in bytes routed; do
            [ "$tree" = "$tmp/base" ] && [ $mode = routed ] && continue
            zero=$(ir "$bin" "$kind" 0 $mode)
            full=$(ir "$bin" "$kind" "$n" $mode)
            echo "$kind $(basename "$tree") $mode: $(( (full - zero) / n )) instructions per answer"
        done
    done
done
