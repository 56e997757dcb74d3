#!/usr/bin/env python3
"""Asks one name over UDP every INTERVAL seconds, one query at a time, until SECONDS have passed or the
file STOP exists, and prints how long the answers took: count, lost (no answer within 1 s), median,
p99 and worst, in ms. Used by the bench scripts to show that DNS keeps being answered while the server
does something heavy (a refresh at scale). Loopback only.

    dns-probe.py PORT NAME INTERVAL SECONDS STOP
"""
import os
import socket
import struct
import sys
import time

port, name, interval, seconds, stop = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
question = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0" + struct.pack(">HH", 1, 1)
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.settimeout(1.0)
took, lost, qid = [], 0, 0
end = time.monotonic() + seconds
while time.monotonic() < end and not os.path.exists(stop):
    qid = (qid + 1) & 0xFFFF
    query = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + question
    start = time.monotonic()
    sock.sendto(query, ("127.0.0.1", port))
    try:
        while True:
            reply = sock.recv(4096)
            if reply[:2] == query[:2]:
                break
        took.append((time.monotonic() - start) * 1000)
    except socket.timeout:
        lost += 1
    time.sleep(interval)
took.sort()
if took:
    pick = lambda q: took[min(len(took) - 1, int(q * len(took)))]
    print(f"{len(took)} answered, {lost} lost; median {pick(0.5):.2f} ms, p99 {pick(0.99):.2f} ms, worst {took[-1]:.2f} ms")
else:
    print(f"0 answered, {lost} lost")
