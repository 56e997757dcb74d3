# Shared by the bench scripts (sourced): a scratch directory in $work, background processes in $pids
# that are stopped (and the scratch removed) on exit, and free loopback ports.
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# Waits (at most 10 s) until something listens on 127.0.0.1:$1, so that a server started next does not
# begin with a failed fetch and wait a whole refresh period for the retry.
wait_listening() {
    python3 - "$1" <<'PY'
import socket, sys, time
deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.02)
sys.exit("nothing listens on 127.0.0.1:%s" % sys.argv[1])
PY
}
