#!/usr/bin/env python3
"""A fake Mesos 1.x master for benches/stream-scale.sh, on 127.0.0.1 only: a generated cluster (the tasks
tools/gen-state.py writes for the same --agents, --tasks, --frameworks and --seed, drawn in the same
order: several instances per app, port ranges, container addresses, discovery ports, labels, a share of
non-running tasks) served at /master/state and as the SUBSCRIBED event of `POST /api/v1` streams
(RecordIO in HTTP chunks, a HEARTBEAT every 15 s).

Once the server under test (its pid read from --pid-file) resolves a warm-up task, the master starts new
tasks at --rate per second for --seconds: TASK_ADDED (staging) then TASK_UPDATED (running) to every
stream, and into the polled document. Each new task's name (`bench-N.bench.<domain>`) is asked over UDP
every millisecond (less often when many are pending: 2,000 queries a second in all at most, so
that the prober does not take the CPU the server needs) from the TASK_RUNNING write until it has an
A record; meanwhile a fixed name is asked
200 times a second. At the end it prints one JSON line: event -> resolvable latencies, the fixed name's
query latencies, the CPU of the server's refresher and stream threads over the window, its RSS.

  stream-master.py --port P --dns-port D --pid-file F [--tasks 100000 --agents 5000 --rate 50 --seconds 15]
"""
import argparse, json, os, random, socket, struct, sys, threading, time
import http.server

CLUSTER = "c0ffee00-0000-4000-8000-000000000001"
STATES = ["TASK_RUNNING"] * 17 + ["TASK_STAGING", "TASK_KILLED", "TASK_FINISHED"]
BENCH_FW = CLUSTER + "-bench"


def agent_ip(i):
    return "198.18.%d.%d" % (i // 250, i % 250 + 1)


def agent_id(i):
    return "%s-S%d" % (CLUSTER, i)


def gen_tasks(n, agents, frameworks, seed):
    """Yields (state JSON, v1 JSON) of each task, as text."""
    rnd = random.Random(seed)
    apps = max(1, n // 4)
    for t in range(n):
        app = "app-%d" % rnd.randrange(apps)
        fw = "%s-%04d" % (CLUSTER, int(app[4:]) % frameworks)
        ag = rnd.randrange(agents)
        port = 31000 + rnd.randrange(990)
        state = rnd.choice(STATES)
        kind = rnd.random()
        container = ""
        if kind < 0.2:
            container = ',"container_status":{"network_infos":[{"name":"overlay","ip_addresses":[{"protocol":"IPv4","ip_address":"9.%d.%d.%d"}]}]}' % (t >> 16 & 255, t >> 8 & 255, t & 255)
        elif kind < 0.25:
            container = ',"container_status":{"network_infos":[{"name":"overlay6","ip_addresses":[{"protocol":"IPv6","ip_address":"fd01:b::%x:%x"}]}]}' % (t >> 16, t & 0xffff)
        tid = "%s.%08x-%04x-11e9-8c21-0242ac110002" % (app, t, rnd.randrange(65536))
        last = port + rnd.randrange(3)
        discovery = ""
        if rnd.random() < 0.1:
            discovery = ',"discovery":{"visibility":"FRAMEWORK","name":"%s","ports":{"ports":[{"number":%d,"name":"http","protocol":"tcp"},{"number":%d,"name":"metrics","protocol":"tcp"}]}}' % (app, port, port + 1)
        ts = 1700000000.0 + t
        label = "t%d" % (t % 17)
        polled = ('{"id":"%s","name":"%s","framework_id":"%s","executor_id":"","slave_id":"%s","state":"%s",'
                  '"resources":{"cpus":0.5,"mem":512,"disk":0,"ports":"[%d-%d]"},"statuses":[{"state":"%s","timestamp":%s%s}],'
                  '"labels":[{"key":"team","value":"%s"}]%s}') % (tid, app, fw, agent_id(ag), state, port, last, state, ts, container, label, discovery)
        v1 = ('{"name":"%s","task_id":{"value":"%s"},"framework_id":{"value":"%s"},"agent_id":{"value":"%s"},"state":"%s",'
              '"resources":[{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":%d,"end":%d}]}}],'
              '"statuses":[{"task_id":{"value":"%s"},"state":"%s","timestamp":%s%s}],"labels":{"labels":[{"key":"team","value":"%s"}]}%s}') % (
            app, tid, fw, agent_id(ag), state, port, last, tid, state, ts, container, label, discovery)
        yield polled, v1


def bench_task(i, state):
    """A new task on agent 0, in both forms, and its name's first label."""
    name, tid = "bench-%d" % i, "bench-%d.%08x" % (i, i)
    polled = ('{"id":"%s","name":"%s","framework_id":"%s","slave_id":"%s","state":"%s","resources":{"ports":"[31000-31000]"},'
              '"statuses":[{"state":"%s","timestamp":1.8e9}]}') % (tid, name, BENCH_FW, agent_id(0), state, state)
    v1 = ('{"name":"%s","task_id":{"value":"%s"},"framework_id":{"value":"%s"},"agent_id":{"value":"%s"},"state":"%s",'
          '"resources":[{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31000,"end":31000}]}}],'
          '"statuses":[{"task_id":{"value":"%s"},"state":"%s","timestamp":1.8e9}]}') % (name, tid, BENCH_FW, agent_id(0), state, tid, state)
    return polled, v1, tid, name


class Cluster:
    """The cluster as text pieces: the base tasks are serialised once; new tasks are spliced in."""

    def __init__(self, a):
        leader = "127.0.0.1:%d" % a.port
        fws = [("%s-%04d" % (CLUSTER, f), ["marathon", "chronos", "spark", "kafka", "cassandra"][f % 5] + ("" if f < 5 else "-%d" % f))
               for f in range(a.frameworks)]
        by_fw = {fid: [] for fid, _ in fws}
        v1_tasks = []
        sub_tasks = a.subscribed_tasks or a.tasks
        for i, (polled, v1) in enumerate(gen_tasks(sub_tasks, a.agents, a.frameworks, a.seed)):
            if i < a.tasks:
                by_fw[json_field(polled, "framework_id")].append(polled)
            v1_tasks.append(v1)
        fw_state = ['{"id":"%s","name":"%s","pid":"scheduler-%d@198.19.0.%d:%d","hostname":"198.19.0.%d","active":true,"tasks":[%s]}'
                    % (fid, name, f, f % 250 + 1, 40000 + f, f % 250 + 1, ",".join(by_fw[fid])) for f, (fid, name) in enumerate(fws)]
        agents_state = ['{"id":"%s","pid":"slave(1)@%s:5051","hostname":"%s","active":true,"attributes":{"rack":"r%d"},'
                        '"resources":{"cpus":32,"mem":256000,"disk":1000000,"ports":"[31000-32000]"}}' % (agent_id(i), agent_ip(i), agent_ip(i), i % 40)
                        for i in range(a.agents)]
        self.state_head = ('{"version":"1.9.0","id":"%s","pid":"master@%s","leader":"master@%s","hostname":"127.0.0.1",'
                           '"slaves":[%s],"frameworks":[%s,{"id":"%s","name":"bench","pid":"scheduler-b@198.19.1.1:40000",'
                           '"hostname":"198.19.1.1","active":true,"tasks":[') % (CLUSTER, leader, leader, ",".join(agents_state), ",".join(fw_state), BENCH_FW)
        self.state_head = self.state_head.encode()
        self.state_tail = b"]}]}"
        fw_v1 = ['{"framework_info":{"id":{"value":"%s"},"name":"%s","hostname":"198.19.0.%d","user":"root"},"active":true}'
                 % (fid, name, f % 250 + 1) for f, (fid, name) in enumerate(fws)]
        fw_v1.append('{"framework_info":{"id":{"value":"%s"},"name":"bench","hostname":"198.19.1.1","user":"root"},"active":true}' % BENCH_FW)
        agents_v1 = ['{"agent_info":{"id":{"value":"%s"},"hostname":"%s","port":5051},"pid":"slave(1)@%s:5051","active":true}'
                     % (agent_id(i), agent_ip(i), agent_ip(i)) for i in range(a.agents)]
        head = ('{"type":"SUBSCRIBED","subscribed":{"heartbeat_interval_seconds":15,"get_state":{"get_frameworks":{"frameworks":[%s]},'
                '"get_agents":{"agents":[%s]},"get_tasks":{"tasks":[') % (",".join(fw_v1), ",".join(agents_v1))
        # The base tasks in pieces of about a megabyte (a million tasks are 800 MB: never one string).
        self.sub_pieces = [head.encode()]
        for i in range(0, len(v1_tasks), 2000):
            self.sub_pieces.append((("," if i else "") + ",".join(v1_tasks[i:i + 2000])).encode())
        self.sub_base_empty = not v1_tasks
        del v1_tasks
        self.sub_tail = b"]}}}}"
        self.new_state = []  # state JSON of the bench tasks, by index
        self.new_v1 = []

    def state(self):
        return self.state_head + ",".join(self.new_state).encode() + self.state_tail

    def subscribed(self):
        """The SUBSCRIBED record as (length, pieces)."""
        new = ",".join(self.new_v1).encode()
        if new and not self.sub_base_empty:
            new = b"," + new
        pieces = self.sub_pieces + [new, self.sub_tail]
        return sum(len(p) for p in pieces), pieces


def json_field(text, key):
    """The string value of `"key":{"value":"..."}` or `"key":"..."` in a task's text (no parsing)."""
    i = text.index('"%s":"' % key) + len(key) + 4
    return text[i:text.index('"', i)]


class Master:
    def __init__(self, a):
        self.a = a
        self.cluster = Cluster(a)
        self.lock = threading.Lock()
        self.streams = []  # open stream sockets (wfile)
        self.subscriptions = 0
        self.subscribe_started = None  # when the first SUBSCRIBE call arrived

    def emit(self, record):
        """Writes one event to every stream; returns the time just before the first write."""
        data = b"%d\n%s" % (len(record), record)
        chunk = b"%x\r\n%s\r\n" % (len(data), data)
        at = time.monotonic()
        for w in list(self.streams):
            try:
                w.write(chunk)
                w.flush()
            except OSError:
                self.streams.remove(w)
        return at

    def start_task(self, i):
        """TASK_ADDED (staging) then TASK_UPDATED (running); the time of the second."""
        with self.lock:
            polled, v1, tid, name = bench_task(i, "TASK_STAGING")
            self.cluster.new_state.append(polled)
            self.cluster.new_v1.append(v1)
            self.emit(b'{"type":"TASK_ADDED","task_added":{"task":%s}}' % v1.encode())
            polled, v1, _, _ = bench_task(i, "TASK_RUNNING")
            self.cluster.new_state[i] = polled
            self.cluster.new_v1[i] = v1
            update = ('{"type":"TASK_UPDATED","task_updated":{"framework_id":{"value":"%s"},"state":"TASK_RUNNING",'
                      '"status":{"task_id":{"value":"%s"},"agent_id":{"value":"%s"},"state":"TASK_RUNNING","timestamp":1.8e9}}}') % (BENCH_FW, tid, agent_id(0))
            return self.emit(update.encode()), name

    def heartbeats(self):
        while True:
            time.sleep(15)
            with self.lock:
                self.emit(b'{"type":"HEARTBEAT"}')

    def serve(self):
        master = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                if self.path.split("?")[0] not in ("/master/state", "/master/state.json"):
                    self.send_error(404)
                    return
                with master.lock:
                    body = master.cluster.state()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path != "/api/v1":
                    self.send_error(404)
                    return
                master.subscribe_started = master.subscribe_started or time.monotonic()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                with master.lock:
                    length, pieces = master.cluster.subscribed()
                    pieces = [b"%d\n" % length] + pieces
                    try:
                        for p in pieces:
                            if p:
                                self.wfile.write(b"%x\r\n%s\r\n" % (len(p), p))
                        self.wfile.flush()
                    except OSError:
                        return
                    master.streams.append(self.wfile)
                    master.subscriptions += 1
                # Held open until the client goes (a write to it fails and drops it from `streams`).
                while self.wfile in master.streams:
                    time.sleep(0.5)
                self.close_connection = True

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", self.a.port), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        threading.Thread(target=self.heartbeats, daemon=True).start()


def query(qid, name):
    packet = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        packet += bytes([len(label)]) + label.encode()
    return packet + b"\x00" + struct.pack(">HH", 1, 1)


def answers(packet):
    """(id, number of answers) of a reply."""
    qid, flags, _, ancount = struct.unpack(">HHHH", packet[:8])
    return qid, (ancount if flags & 0xF == 0 else 0)


def wait_resolvable(dns, name, deadline):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.2)
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        s.sendto(query(1, name), dns)
        try:
            if answers(s.recv(4096))[1] > 0:
                return True
        except socket.timeout:
            pass
        time.sleep(0.05)
    return False


class Prober:
    """Asks every pending new name each millisecond until it has an A record, at most MAX_QPS in all."""

    MAX_QPS = 2000

    def __init__(self, dns):
        self.dns = dns
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        self.lock = threading.Lock()
        self.pending = {}  # qid -> (name, emitted at)
        self.latencies = []
        self.next_id = 1

    def add(self, name, at):
        with self.lock:
            self.pending[self.next_id] = (name, at)
            self.next_id = self.next_id % 65000 + 1

    def run(self, until):
        while time.monotonic() < until:
            with self.lock:
                items = list(self.pending.items())
            for qid, (name, _) in items:
                self.sock.sendto(query(qid, name), self.dns)
            time.sleep(max(0.001, len(items) / self.MAX_QPS))
            while True:
                try:
                    qid, n = answers(self.sock.recv(4096))
                except BlockingIOError:
                    break
                now = time.monotonic()
                with self.lock:
                    if n > 0 and qid in self.pending:
                        self.latencies.append(now - self.pending.pop(qid)[1])

    def unresolved(self):
        with self.lock:
            return len(self.pending)


def fixed_name_rtts(dns, name, until, out):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    qid = 0
    while time.monotonic() < until:
        qid = qid % 65000 + 1
        t0 = time.monotonic()
        s.sendto(query(qid, name), dns)
        try:
            while answers(s.recv(4096))[0] != qid:
                pass
            out.append(time.monotonic() - t0)
        except socket.timeout:
            out.append(None)
        time.sleep(0.005)


def cpu_ticks(pid):
    """utime + stime of the refresher and stream threads, in clock ticks."""
    ticks = {"refresh": 0, "stream": 0}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            comm = open("/proc/%d/task/%s/comm" % (pid, tid)).read().strip()
            fields = open("/proc/%d/task/%s/stat" % (pid, tid)).read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        for key, prefix in (("refresh", "mesos-dns-refre"), ("stream", "mesos-dns-strea")):
            if comm.startswith(prefix):
                ticks[key] += int(fields[11]) + int(fields[12])
    return ticks


def memory(pid):
    out = {}
    for line in open("/proc/%d/status" % pid):
        if line.startswith(("VmHWM", "VmRSS")):
            out[line.split(":")[0]] = int(line.split()[1]) // 1024
    return out


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))] if xs else None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dns-port", type=int, required=True)
    ap.add_argument("--pid-file", required=True)
    ap.add_argument("--tasks", type=int, default=100000)
    ap.add_argument("--subscribed-tasks", type=int, default=0, help="SUBSCRIBED carries this many tasks, the polled state only --tasks")
    ap.add_argument("--agents", type=int, default=5000)
    ap.add_argument("--frameworks", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rate", type=float, default=50)
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--domain", default="mesos")
    ap.add_argument("--stream", action="store_true", help="the server subscribes: warm up through the stream")
    a = ap.parse_args()
    t0 = time.monotonic()
    master = Master(a)
    if not a.stream and a.seconds <= 0:
        _, warm_name = master.start_task(0)
    master.serve()
    print("master: %d tasks generated in %.1f s, serving on 127.0.0.1:%d" % (a.subscribed_tasks or a.tasks, time.monotonic() - t0, a.port), file=sys.stderr, flush=True)
    dns = ("127.0.0.1", a.dns_port)
    while not os.path.exists(a.pid_file) or not open(a.pid_file).read().strip():
        time.sleep(0.05)
    pid = int(open(a.pid_file).read())
    # Warm up: a task that resolves says the server has loaded; streaming, it is started once the
    # SUBSCRIBED record has been written, so that only the stream can show it (the next poll is a
    # minute away) and it resolves once SUBSCRIBED has been applied and published.
    # Polling (with no window to measure: --seconds 0), the task is in the state before the first
    # poll, so that the server's memory is read once that refresh is over, not during a later one.
    if a.stream:
        while master.subscriptions == 0:
            time.sleep(0.01)
    _, name = master.start_task(0) if a.stream or a.seconds > 0 else (None, warm_name)
    if not wait_resolvable(dns, "%s.bench.%s" % (name, a.domain), 300):
        print(json.dumps({"error": "the warm-up task never resolved"}), flush=True)
        return
    warm = time.monotonic() - (master.subscribe_started or t0)
    # What the refresh freed is given back right after it is published: read the memory once that is done.
    time.sleep(1)
    if a.seconds <= 0:
        print(json.dumps({"subscribe_to_resolvable_s": round(warm, 1), "subscriptions": master.subscriptions, "memory_mb": memory(pid)}), flush=True)
        return
    prober = Prober(dns)
    rtts = []
    start = time.monotonic()
    until = start + a.seconds
    ticks0 = cpu_ticks(pid)
    threading.Thread(target=prober.run, args=(until + 5,), daemon=True).start()
    fixed = threading.Thread(target=fixed_name_rtts, args=(dns, "leader." + a.domain, until, rtts), daemon=True)
    fixed.start()
    i = 1
    while time.monotonic() < until:
        at, name = master.start_task(i)
        prober.add("%s.bench.%s" % (name, a.domain), at)
        i += 1
        time.sleep(max(0, start + i / a.rate - time.monotonic()))
    window = time.monotonic() - start
    ticks1 = cpu_ticks(pid)
    fixed.join()
    # The last tasks get as long as they need (5 s at most) to resolve.
    end = time.monotonic() + 5
    while prober.unresolved() and time.monotonic() < end:
        time.sleep(0.01)
    hz = os.sysconf("SC_CLK_TCK")
    lat = [round(x * 1000, 1) for x in prober.latencies]
    answered = [round(x * 1000, 2) for x in rtts if x is not None]
    print(json.dumps({
        "tasks_started": i - 1, "resolved": len(lat), "unresolved": prober.unresolved(),
        "latency_ms": {"median": pct(lat, 0.5), "p90": pct(lat, 0.9), "max": max(lat) if lat else None},
        "fixed_name_ms": {"queries": len(rtts), "lost": rtts.count(None), "p50": pct(answered, 0.5), "p99": pct(answered, 0.99), "max": max(answered) if answered else None},
        "cpu_pct": {k: round(100.0 * (ticks1[k] - ticks0[k]) / hz / window, 1) for k in ticks0},
        "memory_mb": memory(pid), "subscriptions": master.subscriptions,
    }), flush=True)


if __name__ == "__main__":
    main()
