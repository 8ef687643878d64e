#!/usr/bin/env python3
"""Quick HTTP latency check against a running tsunagu (keep-alive, one client, sequential).

    scripts/latency.py [http://127.0.0.1:8080] [repetitions]

Prints p50/p95/p99 per query in milliseconds. Bounded: repetitions × queries requests.
"""
import http.client
import sys
import time
import urllib.parse

base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080"
reps = int(sys.argv[2]) if len(sys.argv) > 2 else 200
u = urllib.parse.urlparse(base)
QUERIES = {
    "text+radius (吸引, 松本 10 km)": {"q": "吸引", "lat": 36.238, "lon": 137.972, "radius_km": 10},
    "filters+radius (daycare+suction, 松本)": {"kinds": "daycare", "care_types": "suction_oral_nasal", "lat": 36.238, "lon": 137.972, "radius_km": 10},
    "nearest 3 (home_nursing+ventilator)": {"kinds": "home_nursing", "care_types": "ventilator", "lat": 36.648, "lon": 138.194, "limit": 3},
    "english text (visiting nurse ventilator)": {"q": "visiting nurse ventilator", "lat": 35.861667, "lon": 139.645278, "radius_km": 15},
    "region list (北信, by name)": {"region": "北信", "limit": 100},
    "everything, facets": {"limit": 20},
}
conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=10)
print(f"{'query':45} {'p50':>7} {'p95':>7} {'p99':>7}  (ms, {reps} requests each)")
for name, params in QUERIES.items():
    path = "/v1/search?" + urllib.parse.urlencode(params)
    lat = []
    for i in range(reps + 20):
        t = time.perf_counter()
        conn.request("GET", path)
        r = conn.getresponse()
        r.read()
        if r.status != 200:
            sys.exit(f"{path}: HTTP {r.status}")
        if i >= 20:
            lat.append((time.perf_counter() - t) * 1000)
    lat.sort()
    pct = lambda p: lat[min(len(lat) - 1, int(len(lat) * p / 100))]
    print(f"{name:45} {pct(50):7.2f} {pct(95):7.2f} {pct(99):7.2f}")
