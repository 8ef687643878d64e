#!/usr/bin/env python3
"""Issue 18 points 4 and 5 at the issue's scale (loopback only, bounded in time).

    scripts/scale-check.py [--bin target/release/tsunagu] [--records 353000] [--import-rows 50000]
                           [--secs 15]

Point 5, import lag: a server runs on a new data directory; `tsunagu import` writes --import-rows
synthetic rows (sample: true) from another process. From the moment the import exits, it times
how long until /readyz says caught up and until a search finds the last row by its name.

Point 4, /v1/sources under load: the shared benchmark workload (../shared/bench/gen.py data N)
is imported with `tsunagu-dev bench run`; a server serves it. One client searches for --secs
alone, then again while 8 anonymous clients call /v1/sources in a closed loop. Prints p50/p99 of
both. Everything it starts it stops; its data directories are temporary.
"""

import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
GEN = os.path.join(HERE, "..", "..", "shared", "bench", "gen.py")


def start(binary, data, *extra):
    proc = subprocess.Popen([binary, "--data-dir", data, "serve", "--addr", "127.0.0.1:0",
                             "--requests-per-client-per-sec", "0", "--max-connections-per-client", "0", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    addr = [w for w in line.split() if w.startswith("http://")][0][len("http://"):]
    host, port = addr.rsplit(":", 1)
    return proc, host, int(port)


def get(host, port, target, conn=None):
    own = conn is None
    conn = conn or http.client.HTTPConnection(host, port, timeout=60)
    try:
        conn.request("GET", target)
        res = conn.getresponse()
        body = res.read()
        return res.status, body
    finally:
        if own:
            conn.close()


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))] if values else 0.0


def stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def import_lag(binary, dev, rows, work):
    data = os.path.join(work, "lag")
    lines = subprocess.run([dev, "sample"], capture_output=True, text=True, check=True).stdout.splitlines()
    path = os.path.join(work, "lag.jsonl")
    last = None
    with open(path, "w") as out:
        for i in range(rows):
            r = json.loads(lines[i % len(lines)])
            r.pop("id", None)
            r["name"] = f"【サンプル】取込遅延試験 {i:06d}"
            r["source"] = {"name": "import lag check", "id": f"lag:{i}"}
            r["sample"] = True
            out.write(json.dumps(r, ensure_ascii=False) + "\n")
            last = r["name"]
    proc, host, port = start(binary, data)
    try:
        while get(host, port, "/readyz")[0] != 200:
            time.sleep(0.1)
        t0 = time.time()
        subprocess.run([binary, "--data-dir", data, "import", path], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        exited = time.time()
        caught_up = found = None
        q = "/v1/search?" + urllib.parse.urlencode({"q": last, "limit": 5, "include_sample": "true"})
        while time.time() < exited + 120 and (caught_up is None or found is None):
            status, body = get(host, port, "/readyz")
            if caught_up is None and status == 200 and json.loads(body).get("caught_up"):
                caught_up = time.time() - exited
            status, body = get(host, port, q)
            if found is None and status == 200 and any(r["name"] == last for r in json.loads(body)["results"]):
                found = time.time() - exited
            time.sleep(0.05)
        print(f"import lag: {rows} rows imported in {exited - t0:.1f} s; after the import exited, /readyz caught up "
              f"at {caught_up:.2f} s and the last row was found at {found:.2f} s", flush=True)
        if found is not None and caught_up is not None and caught_up < found - 0.1:
            print("  /readyz said caught up before the last row was searchable", flush=True)
    finally:
        stop(proc)


def sources_load(binary, dev, records, secs, work):
    data_file = os.path.join(work, "bench.jsonl")
    queries = os.path.join(work, "queries.json")
    subprocess.run([sys.executable, GEN, "data", str(records), "-o", data_file], check=True)
    subprocess.run([sys.executable, GEN, "queries", "--count", "20", "-o", queries], check=True)
    data = os.path.join(work, "bench")
    t = time.time()
    subprocess.run([dev, "bench", "run", "--data", data_file, "--queries", queries, "--work", data, "--count", "20"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(f"sources: {records} workload records imported and indexed in {time.time() - t:.0f} s", flush=True)
    proc, host, port = start(binary, data)
    try:
        while get(host, port, "/readyz")[0] != 200:
            time.sleep(0.1)
        ready = json.loads(get(host, port, "/readyz")[1])
        print(f"sources: the server holds {ready['resources']} records ({ready['indexed']} indexed)", flush=True)
        searches = [
            "/v1/search?" + urllib.parse.urlencode(p)
            for p in ({"q": "訪問看護", "lat": 35.68, "lon": 139.76, "radius_km": 10},
                      {"q": "人工呼吸器", "lat": 36.65, "lon": 138.18, "radius_km": 30},
                      {"care_types": "ventilator", "lat": 34.69, "lon": 135.50, "radius_km": 5})
        ]

        def searcher(stop_ev, lat):
            conn = http.client.HTTPConnection(host, port, timeout=60)
            i = 0
            while not stop_ev.is_set():
                t = time.perf_counter()
                status, body = get(host, port, searches[i % len(searches)], conn)
                lat.append(((time.perf_counter() - t) * 1000, status))
                if i < len(searches):
                    hits.append(json.loads(body).get("total", len(json.loads(body).get("results", []))))
                i += 1

        def sourcer(stop_ev, lat):
            conn = http.client.HTTPConnection(host, port, timeout=60)
            while not stop_ev.is_set():
                t = time.perf_counter()
                status, _ = get(host, port, "/v1/sources", conn)
                lat.append(((time.perf_counter() - t) * 1000, status))

        def phase(with_sources):
            stop_ev = threading.Event()
            s_lat, src_lat = [], []
            threads = [threading.Thread(target=searcher, args=(stop_ev, s_lat))]
            if with_sources:
                threads += [threading.Thread(target=sourcer, args=(stop_ev, src_lat)) for _ in range(8)]
            for th in threads:
                th.start()
            time.sleep(secs)
            stop_ev.set()
            for th in threads:
                th.join(timeout=70)
            return s_lat, src_lat

        hits = []
        alone, _ = phase(False)
        print(f"sources: the searches find {hits} records", flush=True)
        loaded, src = phase(True)
        fmt = lambda xs: (f"{len(xs)} requests, p50 {pct([x[0] for x in xs], 50):.1f} ms, "
                          f"p99 {pct([x[0] for x in xs], 99):.1f} ms, non-200 {sum(1 for x in xs if x[1] != 200)}")
        print(f"sources: search alone: {fmt(alone)}", flush=True)
        print(f"sources: /v1/sources from 8 clients: {fmt(src)}", flush=True)
        print(f"sources: search meanwhile: {fmt(loaded)}", flush=True)
    finally:
        stop(proc)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/tsunagu")
    ap.add_argument("--records", type=int, default=353000)
    ap.add_argument("--import-rows", type=int, default=50000)
    ap.add_argument("--secs", type=float, default=15)
    ap.add_argument("--skip-sources", action="store_true")
    args = ap.parse_args()
    binary = os.path.abspath(args.bin)
    dev = os.path.join(os.path.dirname(binary), "tsunagu-dev")
    work = tempfile.mkdtemp(prefix="tsunagu-scale-")
    try:
        import_lag(binary, dev, args.import_rows, work)
        if not args.skip_sources:
            sources_load(binary, dev, args.records, args.secs, work)
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
