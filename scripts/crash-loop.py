#!/usr/bin/env python3
"""Crash loop (loopback only, bounded): kill -9 the server during writes and the importer during
imports, restart, and check that nothing acknowledged was lost and nothing half-imported is left.

    scripts/crash-loop.py --bin target/release/tsunagu [--write-rounds 30] [--import-rounds 25]
                          [--import-rows 50000] [--seed 1]

Write rounds share one data directory. Each round starts the server, runs three writers (new
records, availability updates on their own records) for a random 0.3-3 s, then SIGKILLs the server
in the middle of their requests. After a restart every acknowledged record must be served, each
record's vacancies must be the last acknowledged value or the one in flight at the kill, the index
must cover the store (/readyz), and a text search must find acknowledged records by name.

Import rounds each use a new data directory with a server running on it. `tsunagu import` of a
JSON Lines file of --import-rows synthetic rows (sample: true, one source per round) is SIGKILLed
at a random moment between start and its expected end. Afterwards the store must hold all of the
round's rows or none (counted by /v1/sources and by `tsunagu export`), and once the server has
followed, the index must cover the store.

Prints one line per round and a summary; exit status 1 on any violation. Everything it starts it
stops; data directories are temporary.
"""

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse


class Server:
    def __init__(self, binary, data, extra=()):
        self.proc = subprocess.Popen(
            [binary, "--data-dir", data, "serve", "--addr", "127.0.0.1:0",
             "--requests-per-client-per-sec", "0", "--max-connections-per-client", "0", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        addrs = [w for w in line.split() if w.startswith("http://")]
        if not addrs:
            self.proc.kill()
            raise RuntimeError(f"server did not start: {line!r}")
        host, port = addrs[0][len("http://"):].rsplit(":", 1)
        self.host, self.port = host, int(port)

    def request(self, method, target, body=None, headers=None, timeout=30):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request(method, target, body=body, headers=headers or {})
            res = conn.getresponse()
            data = res.read()
            return res.status, (json.loads(data) if data and res.getheader("content-type", "").find("json") >= 0
                                else data)
        finally:
            conn.close()

    def wait_caught_up(self, timeout=120):
        end = time.time() + timeout
        last = None
        while time.time() < end:
            try:
                status, body = self.request("GET", "/readyz", timeout=5)
                last = body
                if status == 200 and body.get("caught_up") and body.get("resources") == body.get("indexed"):
                    return body
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"index not caught up within {timeout} s: {last}")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Writer(threading.Thread):
    """Creates records and updates the availability of its own records; remembers what was
    acknowledged and what was in flight."""

    def __init__(self, server, key, round_no, wid, stop):
        super().__init__(daemon=True)
        self.server, self.key, self.round_no, self.wid, self.stop_ev = server, key, round_no, wid, stop
        self.created = {}  # id -> name (acknowledged 201)
        self.vacancies = {}  # id -> last acknowledged vacancies
        self.in_flight = None  # (id, vacancies) of the availability update being sent
        self.unacked_names = []  # creates sent but not acknowledged (may or may not exist)
        self.errors = []

    def run(self):
        auth = {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}
        conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=30)
        n = 0
        while not self.stop_ev.is_set():
            n += 1
            try:
                if self.created and n % 2 == 0:
                    rid = random.choice(list(self.created))
                    v = n % 97
                    self.in_flight = (rid, v)
                    conn.request("PUT", f"/v1/resources/{rid}/availability",
                                 body=json.dumps({"vacancies": v}), headers=auth)
                    res = conn.getresponse()
                    data = res.read()
                    if res.status == 200:
                        self.vacancies[rid] = v
                        self.in_flight = None
                    else:
                        self.errors.append(f"availability {res.status} {data[:200]!r}")
                else:
                    name = f"【サンプル】再起動試験室 r{self.round_no}w{self.wid}n{n}"
                    self.unacked_names.append(name)
                    body = json.dumps({
                        "name": name,
                        "kind": "daycare",
                        "care_types": ["suction_oral_nasal"],
                        "municipality_code": "20202",
                        "location": {"lat": 36.2381 + random.uniform(-0.05, 0.05), "lon": 137.972},
                        "source": {"name": "crash loop"},
                        "sample": True,
                    })
                    conn.request("POST", "/v1/resources", body=body, headers=auth)
                    res = conn.getresponse()
                    data = res.read()
                    if res.status == 201:
                        self.created[json.loads(data)["id"]] = name
                        self.unacked_names.pop()
                    else:
                        self.errors.append(f"create {res.status} {data[:200]!r}")
            except (OSError, http.client.HTTPException):
                return  # the server was killed under us


def write_round(binary, data, key, round_no, acked, vac, pending, rnd, kill=True):
    """Check what earlier rounds acknowledged, then (with kill) write and SIGKILL the server
    mid-writes; returns (acknowledged this round, violations)."""
    server = Server(binary, data)
    violations = []
    try:
        server.wait_caught_up()
        # Everything acknowledged in earlier rounds survived the earlier kills.
        for rid, name in acked.items():
            status, body = server.request("GET", f"/v1/resources/{rid}")
            if status != 200:
                violations.append(f"acknowledged {rid} ({name}) answered {status} after restart")
                continue
            got = (body.get("capacity") or {}).get("vacancies")
            allowed = {vac.get(rid)} | ({pending[rid]} if rid in pending else set())
            if rid in vac and got not in allowed:
                violations.append(f"{rid}: vacancies {got}, acknowledged {vac.get(rid)}, in flight {pending.get(rid)}")
            elif rid in pending:
                vac[rid] = got  # the update in flight at the kill either landed or not; now it is known
        # The index agrees: a few acknowledged records are found by their name.
        for rid in rnd.sample(list(acked), min(5, len(acked))):
            q = urllib.parse.urlencode({"q": acked[rid], "limit": 50})
            status, body = server.request("GET", f"/v1/search?{q}")
            ids = [r["id"] for r in body.get("results", [])] if status == 200 else []
            if rid not in ids:
                violations.append(f"{rid} ({acked[rid]}) not found by its name after restart ({status})")
        pending.clear()
        if not kill:
            return 0, violations
        stop = threading.Event()
        writers = [Writer(server, key, round_no, w, stop) for w in range(3)]
        for w in writers:
            w.start()
        time.sleep(rnd.uniform(0.3, 3.0))
        server.kill9()
        stop.set()
        for w in writers:
            w.join(timeout=35)
        new = 0
        for w in writers:
            violations += w.errors
            acked.update(w.created)
            new += len(w.created)
            vac.update(w.vacancies)
            if w.in_flight:
                pending[w.in_flight[0]] = w.in_flight[1]
        return new, violations
    finally:
        server.stop()


def import_file(path, sample_lines, round_no, rows):
    with open(path, "w") as out:
        for i in range(rows):
            r = json.loads(sample_lines[i % len(sample_lines)])
            r.pop("id", None)
            r["source"] = {"name": f"crash loop import r{round_no}", "id": f"crash-import-{round_no}:{i}"}
            r["sample"] = True
            out.write(json.dumps(r, ensure_ascii=False) + "\n")


def source_records(server, name):
    status, body = server.request("GET", "/v1/sources")
    if status != 200:
        raise RuntimeError(f"/v1/sources answered {status}")
    for s in body["sources"] + body["other_sources"]:
        if s.get("name") == name:
            return s["records"]
    return 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/tsunagu")
    ap.add_argument("--write-rounds", type=int, default=30)
    ap.add_argument("--import-rounds", type=int, default=25)
    ap.add_argument("--import-rows", type=int, default=50000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    binary = os.path.abspath(args.bin)
    dev = os.path.join(os.path.dirname(binary), "tsunagu-dev")
    rnd = random.Random(args.seed)
    random.seed(args.seed)
    violations = []
    work = tempfile.mkdtemp(prefix="tsunagu-crash-")
    try:
        # --- kills during writes
        data = os.path.join(work, "writes")
        key = subprocess.run([binary, "--data-dir", data, "keys", "create", "--role", "admin", "--name", "crash"],
                             capture_output=True, text=True, check=True).stdout.strip()
        acked, vac, pending = {}, {}, {}
        for r in range(1, args.write_rounds + 1):
            new, bad = write_round(binary, data, key, r, acked, vac, pending, rnd)
            violations += [f"write round {r}: {v}" for v in bad]
            for v in bad:
                print(f"violation: {v}", flush=True)
            print(f"write round {r}: killed after {new} acknowledged creates this round, {len(acked)} in all, "
                  f"{len(bad)} violations", flush=True)
        # The last round's kill is checked by one more start.
        _, bad = write_round(binary, data, key, args.write_rounds + 1, acked, vac, pending, rnd, kill=False)
        violations += [f"final check: {v}" for v in bad]
        write_acked = len(acked)

        # --- kills during imports
        lines = subprocess.run([dev, "sample"], capture_output=True, text=True, check=True).stdout.splitlines()
        path = os.path.join(work, "import.jsonl")
        outcomes = []
        full_secs = None
        for r in range(1, args.import_rounds + 1):
            import_file(path, lines, r, args.import_rows)
            data = os.path.join(work, f"import-{r}")
            server = Server(binary, data)
            try:
                server.wait_caught_up()
                base = server.request("GET", "/readyz")[1]["resources"]
                started = time.time()
                proc = subprocess.Popen([binary, "--data-dir", data, "import", path],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                if full_secs is None:
                    # The first round runs to the end, to learn how long an import takes.
                    proc.wait()
                    full_secs = time.time() - started
                    delay = None
                else:
                    # Before the end: after its commit an import still takes a moment to exit.
                    delay = rnd.uniform(0.2, full_secs * 0.9)
                    time.sleep(delay)
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
                finished = proc.returncode == 0
                name = f"crash loop import r{r}"
                counted = source_records(server, name)
                exported = sum(1 for _ in subprocess.run([binary, "--data-dir", data, "export"], capture_output=True,
                                                         text=True, check=True).stdout.splitlines()) - base
                if counted not in (0, args.import_rows) or exported != counted:
                    violations.append(f"import round {r}: /v1/sources {counted}, export {exported} of "
                                      f"{args.import_rows} rows")
                ready = server.wait_caught_up()
                if ready["resources"] != base + counted:
                    violations.append(f"import round {r}: server serves {ready['resources']}, expected "
                                      f"{base} + {counted}")
                outcomes.append((delay, finished, counted))
                when = "ran to the end" if delay is None else f"SIGKILL at {delay:.1f} s"
                print(f"import round {r}: {when}, exit {'ok' if finished else 'killed'}, {counted} of "
                      f"{args.import_rows} rows", flush=True)
            finally:
                server.stop()
                shutil.rmtree(data, ignore_errors=True)
        # Only kills that ended the importer count; one that came after it exited killed nothing.
        kills = [o for o in outcomes if o[0] is not None and not o[1]]
        late = sum(1 for o in outcomes if o[0] is not None and o[1])
        none = sum(1 for o in kills if o[2] == 0)
        all_ = sum(1 for o in kills if o[2] == args.import_rows)
        print(f"summary: {args.write_rounds} kills during writes, {write_acked} acknowledged creates, "
              f"{len(vac)} records with acknowledged availability; {len(kills)} kills during "
              f"{args.import_rows}-row imports (full import {full_secs or 0:.1f} s): {none} left none, {all_} left all "
              f"(the commit had finished), {late} came after the import exited; "
              f"{len(violations)} violations")
        for v in violations[:50]:
            print("violation:", v)
        return 1 if violations else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
