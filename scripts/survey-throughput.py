#!/usr/bin/env python3
"""Measure the survey on a running tsunagu (loopback only, bounded): make a campaign over every
short stay, its invitations, submit an answer on each form, and review every answer.

Usage: scripts/survey-throughput.py http://127.0.0.1:PORT EDITOR_KEY [MAX_FORMS]
Prints invitations made, form page weight, and forms and reviews per second."""
import json, re, sys, time, urllib.request, urllib.parse

base, key = sys.argv[1].rstrip("/"), sys.argv[2]
limit = int(sys.argv[3]) if len(sys.argv) > 3 else 500
if not base.startswith(("http://127.0.0.1", "http://localhost")):
    sys.exit("loopback only")

def call(method, path, body=None, form=None):
    data, headers = None, {}
    if body is not None:
        data, headers = json.dumps(body).encode(), {"Content-Type": "application/json"}
    if form is not None:
        data, headers = urllib.parse.urlencode(form).encode(), {"Content-Type": "application/x-www-form-urlencoded"}
    if path.startswith("/v1/"):
        headers["Authorization"] = "Bearer " + key
    req = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, r.read()

t = time.time()
_, c = call("POST", "/v1/surveys", {"name": "throughput", "target": {"kinds": ["short_stay"]}, "deadline": "2099-12-31"})
cid = json.loads(c)["id"]
_, inv = call("POST", f"/v1/surveys/{cid}/invitations")
invs = json.loads(inv)["invitations"][:limit]
print(f"invitations made: {len(json.loads(inv)['invitations'])} in {time.time() - t:.2f} s")
weights, t = [], time.time()
for i in invs:
    path = "/survey/" + i["token"]
    _, page = call("GET", path)
    weights.append(len(page))
    key_ = re.search(rb'name="form_key" value="([0-9a-f]{64})"', page).group(1).decode()
    call("POST", path, form={"form_key": key_, "care.ventilator": "can", "by.ventilator": "nurse", "action": "submit"})
forms = time.time() - t
print(f"forms: {len(invs)} opened and submitted in {forms:.2f} s ({len(invs) / forms:.1f}/s); "
      f"page {min(weights)}–{max(weights)} bytes")
t = time.time()
for i in invs:
    call("POST", f"/v1/surveys/{cid}/responses/{i['id']}/review", {"decision": "accept_all"})
rev = time.time() - t
print(f"reviews: {len(invs)} accepted in {rev:.2f} s ({len(invs) / rev:.1f}/s)")
