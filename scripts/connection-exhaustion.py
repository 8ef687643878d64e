#!/usr/bin/env python3
"""Connection-exhaustion check (loopback only, bounded in time).

Starts `tsunagu serve` with a small file-descriptor limit, opens N connections from 127.0.0.2 that
each send half a request header and stall, then times ordinary requests from 127.0.0.1 and
reports how many were answered within 5 s. Everything it starts it stops.

    scripts/connection-exhaustion.py --bin target/release/tsunagu [--conns 3000] [--nofile 1024]
"""

import argparse
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/tsunagu")
    ap.add_argument("--conns", type=int, default=3000)
    ap.add_argument("--nofile", type=int, default=1024, help="the server's file-descriptor limit")
    ap.add_argument("--probes", type=int, default=20)
    args = ap.parse_args()

    data = tempfile.mkdtemp(prefix="tsunagu-exhaust-")
    limit = args.nofile

    def small_fd_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    server = subprocess.Popen(
        [args.bin, "--data-dir", data, "serve", "--addr", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        preexec_fn=small_fd_limit,
    )
    attackers = []
    try:
        line = server.stdout.readline()
        addr = [w for w in line.split() if w.startswith("http://")][0][len("http://"):]
        host, port = addr.rsplit(":", 1)
        port = int(port)
        # The attacker: another loopback address, many half-sent requests.
        resource.setrlimit(resource.RLIMIT_NOFILE, (args.conns + 256, args.conns + 256))
        opened = 0
        t0 = time.time()
        for _ in range(args.conns):
            s = socket.socket()
            s.settimeout(2)
            try:
                s.bind(("127.0.0.2", 0))
                s.connect((host, port))
                s.sendall(b"GET /v1/search HTTP/1.1\r\nHost: x\r\n")
                attackers.append(s)
                opened += 1
            except OSError:
                s.close()
            if time.time() - t0 > 60:
                break
        time.sleep(1)
        answered, latencies = 0, []
        for _ in range(args.probes):
            t = time.time()
            try:
                c = socket.create_connection((host, port), timeout=5)
                c.settimeout(5)
                c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if c.recv(64).startswith(b"HTTP/1.1 200"):
                    answered += 1
                    latencies.append((time.time() - t) * 1000)
                c.close()
            except OSError:
                pass
        still_open = 0
        for s in attackers:
            try:
                s.setblocking(False)
                if s.recv(1) == b"":
                    continue
            except BlockingIOError:
                still_open += 1
            except OSError:
                continue
        latencies.sort()
        p50 = latencies[len(latencies) // 2] if latencies else None
        print(
            f"{args.bin}: {opened} stalled connections from 127.0.0.2 (server fd limit {limit}); "
            f"probes answered {answered}/{args.probes} within 5 s"
            + (f", p50 {p50:.1f} ms" if p50 is not None else "")
            + f"; attacker connections the server still holds after the probes: {still_open}"
        )
        return 0
    finally:
        for s in attackers:
            s.close()
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
