#!/usr/bin/env python3
"""Report of a scripts/bench-vs-peer.sh run (stdlib only).

  bench_report.py DIR N [N ...]

Reads DIR/{peer,tsunagu,http}-N.json, DIR/peer-load-N.json, DIR/serve-rss-N.txt and the two
answer files per N; checks that both engines gave the same answers; prints markdown tables with
tsunagu/peer latency ratios; writes DIR/report.md and DIR/p99-vs-n.svg (p99 against N, log-log).
Exits non-zero when the answers differ.
"""
import json
import math
import os
import sys

QTYPES = ["q1", "q2", "q3", "q4", "q5"]
WHAT = {
    "q1": "text + radius + care type, nearest first",
    "q2": "k nearest of a kind with a care type",
    "q3": "text within municipalities",
    "q4": "service areas covering a point",
    "q5": "care-type counts within 30 km",
}


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def label(n):
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k" if n % 1000 == 0 else str(n)


def compare(peer, ours):
    """Per query type: (identical answers, compared)."""
    out = {}
    for qt in QTYPES:
        a, b = peer.get(qt, []), ours.get(qt, [])
        out[qt] = (sum(1 for x, y in zip(a, b) if x == y), min(len(a), len(b)))
    return out


def fmt(v, digits=3):
    return "–" if v is None else f"{v:.{digits}f}"


def svg(points, path):
    """points: {engine: {qt: [(n, p99_ms)]}} → a log-log line chart."""
    w, h, left, right, top, bottom = 760, 440, 70, 170, 30, 50
    ns = sorted({n for e in points.values() for s in e.values() for n, _ in s})
    vals = [v for e in points.values() for s in e.values() for _, v in s if v and v > 0]
    if not ns or not vals:
        return
    lo_y, hi_y = 10 ** math.floor(math.log10(min(vals))), 10 ** math.ceil(math.log10(max(vals)))
    lo_x, hi_x = min(ns), max(ns)

    def x(n):
        if hi_x == lo_x:
            return left + (w - left - right) / 2
        return left + (math.log10(n) - math.log10(lo_x)) / (math.log10(hi_x) - math.log10(lo_x)) * (w - left - right)

    def y(v):
        return top + (math.log10(hi_y) - math.log10(v)) / (math.log10(hi_y) - math.log10(lo_y)) * (h - top - bottom)

    colours = {"q1": "#0072B2", "q2": "#E69F00", "q3": "#009E73", "q4": "#CC79A7", "q5": "#D55E00"}
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
             f'<rect width="{w}" height="{h}" fill="white"/>',
             f'<text x="{left}" y="18" font-size="14">p99 latency (ms, log) against N (log): tsunagu solid, SQLite peer dashed</text>']
    d = 0
    while lo_y * 10 ** d <= hi_y:
        v = lo_y * 10 ** d
        parts.append(f'<line x1="{left}" x2="{w - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:g}</text>')
        d += 1
    for n in ns:
        parts.append(f'<line x1="{x(n):.1f}" x2="{x(n):.1f}" y1="{top}" y2="{h - bottom}" stroke="#eee"/>')
        parts.append(f'<text x="{x(n):.1f}" y="{h - bottom + 18}" text-anchor="middle">{label(n)}</text>')
    parts.append(f'<text x="{(left + w - right) / 2:.0f}" y="{h - 12}" text-anchor="middle">N (resources)</text>')
    for engine, dash in (("tsunagu", ""), ("peer", ' stroke-dasharray="6 4"')):
        for qt, series in points.get(engine, {}).items():
            pts = [(x(n), y(v)) for n, v in sorted(series) if v and v > 0]
            if not pts:
                continue
            line = " ".join(f"{a:.1f},{b:.1f}" for a, b in pts)
            parts.append(f'<polyline points="{line}" fill="none" stroke="{colours[qt]}" stroke-width="2"{dash}/>')
            for a, b in pts:
                parts.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="{colours[qt]}"/>')
    for i, qt in enumerate(QTYPES):
        ly = top + 20 + i * 22
        parts.append(f'<line x1="{w - right + 15}" x2="{w - right + 45}" y1="{ly}" y2="{ly}" stroke="{colours[qt]}" stroke-width="2"/>')
        parts.append(f'<text x="{w - right + 52}" y="{ly + 4}">{qt}</text>')
    parts.append("</svg>")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(parts) + "\n")


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    d = sys.argv[1]
    ns = [int(a) for a in sys.argv[2:]]
    lines = []
    say = lines.append
    plot = {"tsunagu": {q: [] for q in QTYPES}, "peer": {q: [] for q in QTYPES}}
    all_same = True
    for n in ns:
        peer, ours = load(f"{d}/peer-{n}.json"), load(f"{d}/tsunagu-{n}.json")
        pload = load(f"{d}/peer-load-{n}.json")
        same = compare(load(f"{d}/peer-check-{n}.json"), load(f"{d}/tsunagu-check-{n}.json"))
        say(f"\n### N = {n:,} ({label(n)})\n")
        say("| query | tsunagu p50 | p95 | p99 | peer p50 | p95 | p99 | p99 ratio tsunagu/peer | peer ÷ tsunagu (p99) "
            "| QPS 1 thread tsunagu / peer | QPS 2 tsunagu / peer | same answers |")
        say("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for qt in QTYPES:
            t, p = ours["single"][qt], peer["single"][qt]
            tc, pc = ours["concurrent"][qt], peer["concurrent"][qt]
            ratio = t["p99_ms"] / p["p99_ms"] if p["p99_ms"] else None
            speedup = p["p99_ms"] / t["p99_ms"] if t["p99_ms"] else None
            ok, total = same[qt]
            all_same &= ok == total
            say(f"| {qt} {WHAT[qt]} | {fmt(t['p50_ms'])} | {fmt(t['p95_ms'])} | {fmt(t['p99_ms'])} | {fmt(p['p50_ms'])} "
                f"| {fmt(p['p95_ms'])} | {fmt(p['p99_ms'])} | {fmt(ratio, 4)} | {fmt(speedup, 1)}× "
                f"| {t['qps']:.0f} / {p['qps']:.0f} | {tc['qps']:.0f} / {pc['qps']:.0f} | {ok}/{total} |")
            plot["tsunagu"][qt].append((n, t["p99_ms"]))
            plot["peer"][qt].append((n, p["p99_ms"]))
        b = ours["build"]
        say("")
        say(f"- tsunagu build: import {b['import_s']} s ({b['rows_per_s']:.0f} rows/s) + index {b['index_s']} s "
            f"= **{b['total_s']} s**; peak RSS while building {b['peak_rss_mib']} MiB; store "
            f"{b['store_bytes'] / 2**20:.0f} MiB, index {b['index_bytes'] / 2**20:.0f} MiB on disk.")
        s = ours["serving"]
        say(f"- tsunagu serving in-process: index opened in {s['open_s']} s; peak RSS during the queries "
            f"{s['peak_rss_mib']} MiB.")
        say(f"- peer load: {pload['load_s']['total']} s; file {pload['file_bytes'] / 2**20:.0f} MiB "
            f"(SQLite {pload['sqlite_version']}).")
        hp = f"{d}/http-{n}.json"
        if os.path.exists(hp):
            h = load(hp)
            lat = h["latency"]
            rss = {}
            rp = f"{d}/serve-rss-{n}.txt"
            if os.path.exists(rp):
                for line in open(rp, encoding="utf-8"):
                    k, v = line.split(":", 1)
                    rss[k] = int(v.split()[0]) / 1024
            say(f"- HTTP mix (`tsunagu serve`, {h['connections']} keep-alive connections, driver on the same 2 cores): "
                f"**{h['requests_per_s']:.0f} requests/s**, p50 {lat['p50_ms']} ms, p95 {lat['p95_ms']} ms, "
                f"**p99 {lat['p99_ms']} ms**, {h['requests']} requests in {h['duration_s']} s, {h['non_2xx']} non-2xx; "
                f"server peak RSS {rss.get('VmHWM', float('nan')):.0f} MiB.")
            say("")
            say("| shape | share | p50 ms | p99 ms |")
            say("|---|---|---|---|")
            for name, v in h["by_shape"].items():
                say(f"| {name} | {v['share_percent']} % | {v['summary']['p50_ms']} | {v['summary']['p99_ms']} |")
    svg(plot, f"{d}/p99-vs-n.svg")
    text = "\n".join(lines) + "\n"
    with open(f"{d}/report.md", "w", encoding="utf-8") as f:
        f.write(text)
    print(text)
    print(f"wrote {d}/report.md and {d}/p99-vs-n.svg")
    if not all_same:
        print("error: tsunagu and the peer gave different answers (see 'same answers')", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
