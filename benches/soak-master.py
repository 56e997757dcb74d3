#!/usr/bin/env python3
"""A fake Mesos 1.x master for the soak bench (benches/soak.sh), on 127.0.0.1 only: a generated cluster
of --tasks tasks (the shape of benches/stream-master.py's) served at /master/state and as the SUBSCRIBED
event of `POST /api/v1` streams, quiet until it gets SIGUSR1; from then on, every --period seconds it
replaces --churn of the tasks (a share of the slots, in turn): the old task is killed and a new
instance of the same app starts, with a new task id, on another agent and port. A poll sees the new
document; a stream gets TASK_UPDATED (TASK_KILLED) for each old task and TASK_ADDED (TASK_RUNNING) for
each new one, written at once.

  soak-master.py --port P [--tasks 100000 --agents 5000 --frameworks 5 --churn 0.1 --period 2]
                 [--queries FILE]   # writes `name A` lines of names that stay resolvable, for dnsperf

Every loop is bounded by the process's life: soak.sh kills it at the end.
"""
import argparse, random, signal, threading, time
import http.server

CLUSTER = "c0ffee00-0000-4000-8000-000000000001"
FRAMEWORKS = ["marathon", "chronos", "spark", "kafka", "cassandra"]


def agent_ip(i):
    return "198.18.%d.%d" % (i // 250, i % 250 + 1)


def agent_id(i):
    return "%s-S%d" % (CLUSTER, i)


def fw_id(f):
    return "%s-%04d" % (CLUSTER, f)


def fw_name(f):
    return FRAMEWORKS[f % 5] + ("" if f < 5 else "-%d" % f)


class Task:
    """One task slot's task, in polled and v1 form."""

    __slots__ = ("app", "fw", "tid", "ag", "polled", "v1")

    def __init__(self, app, fw, serial, ag, port):
        self.app, self.fw, self.ag = app, fw, ag
        self.tid = "%s.%08x-0000-11e9-8c21-0242ac110002" % (app, serial)
        ts = 1700000000.0 + serial
        self.polled = ('{"id":"%s","name":"%s","framework_id":"%s","executor_id":"","slave_id":"%s","state":"TASK_RUNNING",'
                       '"resources":{"cpus":0.5,"mem":512,"disk":0,"ports":"[%d-%d]"},'
                       '"statuses":[{"state":"TASK_RUNNING","timestamp":%s}],"labels":[{"key":"team","value":"t%d"}]}') % (
            self.tid, app, fw_id(fw), agent_id(ag), port, port + 1, ts, serial % 17)
        self.v1 = ('{"name":"%s","task_id":{"value":"%s"},"framework_id":{"value":"%s"},"agent_id":{"value":"%s"},'
                   '"state":"TASK_RUNNING","resources":[{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":%d,"end":%d}]}}],'
                   '"statuses":[{"task_id":{"value":"%s"},"state":"TASK_RUNNING","timestamp":%s}],'
                   '"labels":{"labels":[{"key":"team","value":"t%d"}]}}') % (
            app, self.tid, fw_id(fw), agent_id(ag), port, port + 1, self.tid, ts, serial % 17)


class Cluster:
    def __init__(self, a):
        self.a = a
        self.rnd = random.Random(a.seed)
        self.serial = 0
        apps = max(1, a.tasks // 4)
        self.slots = [self.new_task("app-%d" % self.rnd.randrange(apps)) for _ in range(a.tasks)]
        self.next_slot = 0
        leader = "127.0.0.1:%d" % a.port
        agents = ",".join('{"id":"%s","pid":"slave(1)@%s:5051","hostname":"%s","active":true}' % (agent_id(i), agent_ip(i), agent_ip(i))
                          for i in range(a.agents))
        self.head = ('{"version":"1.9.0","id":"%s","pid":"master@%s","leader":"master@%s","hostname":"127.0.0.1",'
                     '"slaves":[%s],"frameworks":[') % (CLUSTER, leader, leader, agents)
        fw_v1 = ",".join('{"framework_info":{"id":{"value":"%s"},"name":"%s","hostname":"198.19.0.%d","user":"root"},"active":true}'
                         % (fw_id(f), fw_name(f), f + 1) for f in range(a.frameworks))
        agents_v1 = ",".join('{"agent_info":{"id":{"value":"%s"},"hostname":"%s","port":5051},"pid":"slave(1)@%s:5051","active":true}'
                             % (agent_id(i), agent_ip(i), agent_ip(i)) for i in range(a.agents))
        self.sub_head = ('{"type":"SUBSCRIBED","subscribed":{"heartbeat_interval_seconds":15,"get_state":{"get_frameworks":'
                         '{"frameworks":[%s]},"get_agents":{"agents":[%s]},"get_tasks":{"tasks":[') % (fw_v1, agents_v1)
        self.body = self.state()

    def new_task(self, app):
        self.serial += 1
        fw = int(app[4:]) % self.a.frameworks
        return Task(app, fw, self.serial, self.rnd.randrange(self.a.agents), 31000 + self.rnd.randrange(990))

    def state(self):
        by_fw = [[] for _ in range(self.a.frameworks)]
        for t in self.slots:
            by_fw[t.fw].append(t.polled)
        fws = ",".join('{"id":"%s","name":"%s","pid":"scheduler-%d@198.19.0.%d:40000","hostname":"198.19.0.%d","active":true,"tasks":[%s]}'
                       % (fw_id(f), fw_name(f), f, f + 1, f + 1, ",".join(tasks)) for f, tasks in enumerate(by_fw))
        return (self.head + fws + "]}").encode()

    def subscribed(self):
        body = (self.sub_head + ",".join(t.v1 for t in self.slots) + "]}}}}").encode()
        return b"%d\n%s" % (len(body), body)

    def churn(self):
        """Replaces the next share of slots; the stream events, as one RecordIO run."""
        events = []
        for _ in range(int(len(self.slots) * self.a.churn)):
            i = self.next_slot
            self.next_slot = (i + 1) % len(self.slots)
            old = self.slots[i]
            new = self.new_task(old.app)
            self.slots[i] = new
            killed = ('{"type":"TASK_UPDATED","task_updated":{"framework_id":{"value":"%s"},"state":"TASK_KILLED",'
                      '"status":{"task_id":{"value":"%s"},"agent_id":{"value":"%s"},"state":"TASK_KILLED","timestamp":1.8e9}}}') % (
                fw_id(old.fw), old.tid, agent_id(old.ag))
            added = '{"type":"TASK_ADDED","task_added":{"task":%s}}' % new.v1
            for e in (killed, added):
                e = e.encode()
                events.append(b"%d\n%s" % (len(e), e))
        return b"".join(events)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--tasks", type=int, default=100000)
    ap.add_argument("--agents", type=int, default=5000)
    ap.add_argument("--frameworks", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--churn", type=float, default=0.1)
    ap.add_argument("--period", type=float, default=2.0)
    ap.add_argument("--queries", help="write `name A` lines of names that stay resolvable here")
    a = ap.parse_args()
    cluster = Cluster(a)
    # `lock` guards the served body; `sending` the streams and what is written to them. A subscriber
    # that reads slowly blocks a write, and with it only `sending`: /master/state is still served (as
    # a Mesos master buffers a slow subscriber's events instead of stalling), so a poll never waits
    # for the subscriber that is polling to read its stream.
    lock = threading.Lock()
    sending = threading.Lock()
    streams = []
    churning = threading.Event()
    signal.signal(signal.SIGUSR1, lambda *_: churning.set())
    if a.queries:
        # Apps keep their instances (a replaced one comes back at once); the leader is always there.
        apps = sorted({(t.app, t.fw) for t in cluster.slots[:2000]})[:500]
        with open(a.queries, "w") as f:
            f.write("leader.mesos A\n")
            for app, fw in apps:
                f.write("%s.%s.mesos A\n" % (app, fw_name(fw)))

    def send(w, data):
        w.write(b"%x\r\n%s\r\n" % (len(data), data))
        w.flush()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            if self.path.split("?")[0] not in ("/master/state", "/master/state.json"):
                self.send_error(404)
                return
            with lock:
                body = cluster.body
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path != "/api/v1":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            with sending:
                try:
                    send(self.wfile, cluster.subscribed())
                except OSError:
                    return
                streams.append(self.wfile)
            while True:
                time.sleep(0.5)
                with sending:
                    if self.wfile not in streams:
                        break
            self.close_connection = True

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    next_beat = time.monotonic() + 15
    while True:
        time.sleep(a.period)
        events = b""
        if churning.is_set():
            events = cluster.churn()
            body = cluster.state()
        with lock:
            if events:
                cluster.body = body
        with sending:
            if time.monotonic() >= next_beat:
                beat = b'{"type":"HEARTBEAT"}'
                events += b"%d\n%s" % (len(beat), beat)
                next_beat = time.monotonic() + 15
            for w in list(streams):
                try:
                    if events:
                        send(w, events)
                except OSError:
                    streams.remove(w)


if __name__ == "__main__":
    main()
