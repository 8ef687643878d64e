#!/usr/bin/env python3
"""Soak (loopback only, bounded in time): reads and writes against one server for MINUTES, with a
curve of the server's memory (RSS) and open file descriptors every 30 s.

    scripts/soak.py --bin target/release/tsunagu [--minutes 30] [--readers 6] [--write-every 0.05]

Readers send the benchmark's kinds of /v1/search requests (text, place, care types) in a closed
loop on keep-alive connections; one writer creates synthetic records (sample: true, at most
--max-records, default 2,000) and updates their availability with an admin key, so the data stops
growing and memory should settle. Prints one line per sample and a summary, and writes the
curve to target/soak/curve.csv. Everything it starts it stops.
"""

import argparse
import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

QUERIES = [
    {"q": "訪問看護 人工呼吸器"},
    {"q": "たん吸引できる保育園 松本市中央"},
    {"q": "visiting nurse ventilator"},
    {"near": "390-0811", "kinds": "home_nursing"},
    {"q": "短期入所", "region": "20-07"},
    {"q": "胃ろう", "near": "長野市"},
    {"care_types": "ventilator", "lat": "35.86", "lon": "139.64", "radius_km": "20"},
    {"q": "放課後等デイサービス さいたま市"},
]


def proc_sample(pid):
    """RSS, its anonymous part (heap) and its file-backed part (mapped index files), in KiB, and
    open file descriptors."""
    kib = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "RssAnon", "RssFile"):
                kib[name] = int(rest.split()[0])
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return kib.get("VmRSS", 0), kib.get("RssAnon", 0), kib.get("RssFile", 0), fds


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.reads = 0
        self.writes = 0
        self.errors_5xx = 0
        self.other = 0
        self.lat = []

    def add(self, kind, status, ms):
        with self.lock:
            if status >= 500:
                self.errors_5xx += 1
            elif status >= 400 and kind == "read":
                self.other += 1
            if kind == "read":
                self.reads += 1
                self.lat.append(ms)
            else:
                self.writes += 1

    def take(self):
        with self.lock:
            lat, self.lat = self.lat, []
            return self.reads, self.writes, self.errors_5xx, self.other, lat


def pct(values, p):
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def reader(host, port, stop, stats):
    conn = http.client.HTTPConnection(host, port, timeout=30)
    rnd = random.Random(threading.get_ident())
    while not stop.is_set():
        target = "/v1/search?" + urllib.parse.urlencode(rnd.choice(QUERIES))
        t = time.perf_counter()
        try:
            conn.request("GET", target)
            res = conn.getresponse()
            res.read()
            stats.add("read", res.status, (time.perf_counter() - t) * 1000)
        except (OSError, http.client.HTTPException):
            stats.add("read", 599, 0)
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=30)


def writer(host, port, key, every, stop, stats, max_records):
    conn = http.client.HTTPConnection(host, port, timeout=30)
    auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    ids = []
    n = 0
    while not stop.is_set():
        n += 1
        try:
            # Past --max-records the data stops growing: only updates, so memory can settle.
            if ids and (n % 2 == 0 or len(ids) >= max_records):
                rid = random.choice(ids)
                body = json.dumps({"vacancies": n % 7, "accepting_new_children": n % 3 != 0})
                conn.request("PUT", f"/v1/resources/{rid}/availability", body=body, headers=auth)
            else:
                body = json.dumps({
                    "name": f"【サンプル】耐久テスト保育室 {n}",
                    "kind": "daycare",
                    "care_types": ["suction_oral_nasal"],
                    "municipality_code": "20202",
                    "location": {"lat": 36.2381 + random.uniform(-0.05, 0.05), "lon": 137.972},
                    "source": {"name": "soak test"},
                    "sample": True,
                })
                conn.request("POST", "/v1/resources", body=body, headers=auth)
            res = conn.getresponse()
            data = res.read()
            if res.status == 201:
                ids.append(json.loads(data)["id"])
            elif res.status >= 400:
                print(f"write refused: {res.status} {data[:200]!r}", file=sys.stderr)
            stats.add("write", res.status, 0)
        except (OSError, http.client.HTTPException):
            stats.add("write", 599, 0)
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=30)
        time.sleep(every)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/tsunagu")
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--readers", type=int, default=6)
    ap.add_argument("--write-every", type=float, default=0.05, help="seconds between writes")
    ap.add_argument("--sample-secs", type=float, default=30)
    ap.add_argument("--max-records", type=int, default=2000,
                    help="records the writer creates; after that it only updates them")
    ap.add_argument("--out", default="target/soak")
    args = ap.parse_args()

    data = tempfile.mkdtemp(prefix="tsunagu-soak-")
    os.makedirs(args.out, exist_ok=True)
    key = subprocess.run([args.bin, "--data-dir", data, "keys", "create", "--role", "admin", "--name", "soak"],
                         capture_output=True, text=True, check=True).stdout.strip()
    server = subprocess.Popen(
        [args.bin, "--data-dir", data, "serve", "--addr", "127.0.0.1:0", "--requests-per-client-per-sec", "0",
         "--max-connections-per-client", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    stop = threading.Event()
    threads = []
    try:
        line = server.stdout.readline()
        addr = [w for w in line.split() if w.startswith("http://")][0][len("http://"):]
        host, port = addr.rsplit(":", 1)
        port = int(port)
        stats = Stats()
        for _ in range(args.readers):
            threads.append(threading.Thread(target=reader, args=(host, port, stop, stats), daemon=True))
        threads.append(threading.Thread(target=writer, args=(host, port, key, args.write_every, stop, stats,
                                                              args.max_records), daemon=True))
        for t in threads:
            t.start()
        started = time.time()
        end = started + args.minutes * 60
        curve = []
        last_reads = 0
        print("minute,rss_kib,anon_kib,file_kib,fds,reads_per_s,p99_ms,writes,5xx", flush=True)
        while time.time() < end:
            time.sleep(min(args.sample_secs, max(0.0, end - time.time())))
            if server.poll() is not None:
                print("error: the server exited", file=sys.stderr)
                return 1
            rss, anon, file_backed, fds = proc_sample(server.pid)
            reads, writes, e5, other, lat = stats.take()
            row = (round((time.time() - started) / 60, 2), rss, anon, file_backed, fds,
                   round((reads - last_reads) / args.sample_secs), round(pct(lat, 99), 1), writes, e5)
            last_reads = reads
            curve.append(row)
            print(",".join(map(str, row)), flush=True)
        stop.set()
        for t in threads:
            t.join(timeout=35)
        reads, writes, e5, other, _ = stats.take()
        with open(os.path.join(args.out, "curve.csv"), "w") as f:
            f.write("minute,rss_kib,anon_kib,file_kib,fds,reads_per_s,p99_ms,writes,5xx\n")
            for row in curve:
                f.write(",".join(map(str, row)) + "\n")
        wall = time.time() - started
        rss = [r[1] for r in curve]
        fds = [r[4] for r in curve]
        p99s = [r[6] for r in curve]
        print(f"summary: {wall / 60:.1f} min, {reads} reads ({reads / wall:.0f}/s), {writes} writes, "
              f"{e5} 5xx, {other} other 4xx on reads; RSS first {rss[0]} KiB, last {rss[-1]} KiB, max {max(rss)} KiB "
              f"(anonymous first {curve[0][2]}, last {curve[-1][2]}; file-backed first {curve[0][3]}, last {curve[-1][3]}); "
              f"fds min {min(fds)}, max {max(fds)}; worst interval p99 {max(p99s)} ms")
        return 0 if e5 == 0 else 1
    finally:
        stop.set()
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
