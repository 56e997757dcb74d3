#!/usr/bin/env python3
"""A fake Mesos master over HTTPS with basic authentication, for tests/https.rs.

Serves the state document in STATE_FILE at /master/state and /master/state.json on 127.0.0.1:PORT with
the server certificate CERT/KEY. Requests without `Authorization: Basic base64(USER:PASSWORD)` get 401.
With --client-ca, clients must present a certificate signed by that CA (mutual TLS).
A POST to /api/v1 with the right credentials is answered as an event-stream subscription that stays
open without events, and "subscribed" is printed on stdout.
Prints "ready" on stdout once it listens; stops when stdin closes (its parent test is gone).
"""
import argparse
import base64
import http.server
import ssl
import sys
import threading
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--state", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--client-ca")
    args = p.parse_args()
    expected = "Basic " + base64.b64encode(f"{args.user}:{args.password}".encode()).decode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path not in ("/master/state", "/master/state.json"):
                self.send_error(404)
                return
            if self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="mesos"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            with open(args.state, "rb") as f:
                body = f.read()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(min(length, 1 << 16))
            if self.path != "/api/v1" or b"SUBSCRIBE" not in body:
                self.send_error(404)
                return
            if self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/recordio")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.flush()
            print("subscribed", flush=True)
            time.sleep(30)  # bounded: the test ends long before

        def log_message(self, fmt, *a):
            sys.stderr.write("https_master: " + (fmt % a) + "\n")

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    if args.client_ca:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(args.client_ca)
    http.server.ThreadingHTTPServer.daemon_threads = True
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print("ready", flush=True)
    sys.stdin.read()  # until the test closes our stdin or dies
    server.shutdown()


if __name__ == "__main__":
    main()
