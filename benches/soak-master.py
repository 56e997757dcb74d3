#!/usr/bin/env python3
"""A fake Mesos master for the soak test (benches/soak.sh): serves /master/state (and /master/state.json)
on 127.0.0.1 only, answering with one of the given state files, the choice changing every PERIOD seconds
(the files in turn), so that every refresh of a server polling once a second may see a new state.

  soak-master.py PORT PERIOD state0.json state1.json ...

The files are read once at start; their `leader` must already name this server (127.0.0.1:PORT)."""
import http.server, sys, time


def main():
    port, period, paths = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3:]
    bodies = [open(p, "rb").read() for p in paths]

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            if self.path.split("?")[0] not in ("/master/state", "/master/state.json"):
                self.send_error(404)
                return
            body = bodies[int(time.time() / period) % len(bodies)]
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
