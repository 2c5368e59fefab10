#!/usr/bin/python3
"""Helpers of scripts/lab/upgrade.sh: an API's downtime while it restarts, and the run's JSON report.

  upgrade.py probe URL BACKEND OUT [INTERVAL]
      GET URL every INTERVAL seconds (0.2) until SIGTERM/SIGINT; an answer is any HTTP status below 500 within 1 s
      (as lib.sh's http_answers). BACKEND ("-" for none) is an HAProxy backend whose server api-1's status is read
      from the admin socket ($HA_SOCKET) at every probe. On exit writes OUT (JSON): down_s (time the URL did not
      answer), backend_down_s (time api-1 was DOWN or MAINT, or HAProxy gone; null without BACKEND), transitions [{t, what, state}] with t
      in seconds from the start, samples.
  upgrade.py report STARTED DURATION PACKAGES STEPS APIS
      the run's report on stdout: STARTED (RFC 3339), DURATION (s), PACKAGES (lines "name from to"), STEPS (lines
      "name<TAB>started<TAB>duration_s"), APIS (lines "service<TAB>frontend<TAB>probe-json-file").
"""
import http.client
import json
import os
import signal
import socket
import sys
import time
import urllib.parse


def http_answers(url, timeout=1.0):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=timeout)
    try:
        conn.request("GET", u.path or "/", headers={"Connection": "close"})
        return conn.getresponse().status < 500
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def ha_status(sock_path, backend, server="api-1"):
    """api-1's status in BACKEND as HAProxy's "show stat" says it (UP, DOWN, MAINT, "UP 1/2", …); "?" on error."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(1.0)
            s.connect(sock_path)
            s.sendall(b"show stat\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
    except OSError:
        return "?"
    for line in data.decode(errors="replace").splitlines():
        f = line.split(",")
        if len(f) > 17 and f[0] == backend and f[1] == server:
            return f[17]
    return "?"


def backend_down(state):
    """HAProxy sends no traffic to the server: DOWN (also "DOWN 1/2", going up), MAINT, or HAProxy itself gone ("?").
    "UP 1/2" (going down: one check failed) still serves."""
    return state.startswith(("DOWN", "MAINT", "?"))


def summarize(samples, end):
    """samples: [(t, ok, backend_state)] in time order; end: when probing stopped. Each sample's state lasts until the
    next sample (the last one until end)."""
    down = bdown = 0.0
    transitions = []
    prev_ok, prev_b = True, "UP"
    for i, (t, ok, b) in enumerate(samples):
        nxt = samples[i + 1][0] if i + 1 < len(samples) else end
        if not ok:
            down += nxt - t
        if b is not None and backend_down(b):
            bdown += nxt - t
        if ok != prev_ok:
            transitions.append({"t": round(t, 3), "what": "frontend", "state": "answers" if ok else "no answer"})
            prev_ok = ok
        if b is not None and b != prev_b:
            transitions.append({"t": round(t, 3), "what": "backend", "state": b})
            prev_b = b
    has_backend = any(b is not None for _, _, b in samples)
    return {"down_s": round(down, 3), "backend_down_s": round(bdown, 3) if has_backend else None,
            "transitions": transitions, "samples": len(samples)}


def cmd_probe(url, backend, out, interval=0.2):
    sock = os.environ.get("HA_SOCKET", "/run/haproxy/admin.sock")
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    t0 = time.monotonic()
    samples = []
    while not stop:
        t = time.monotonic()
        ok = http_answers(url)
        b = ha_status(sock, backend) if backend != "-" else None
        samples.append((t - t0, ok, b))
        left = interval - (time.monotonic() - t)
        if left > 0 and not stop:
            time.sleep(left)
    res = summarize(samples, time.monotonic() - t0)
    res["url"] = url
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(res, f)
    os.replace(tmp, out)
    return 0


def lines(path):
    with open(path) as f:
        return [ln.rstrip("\n") for ln in f if ln.strip()]


def cmd_report(started, duration, packages, steps, apis):
    rep = {"started": started, "duration_s": round(float(duration), 3), "packages": [], "steps": [],
           "api_downtime": []}
    for ln in lines(packages):
        name, frm, to = ln.split()
        rep["packages"].append({"name": name, "from": frm, "to": to})
    for ln in lines(steps):
        name, st, d = ln.split("\t")
        rep["steps"].append({"name": name, "started": st, "duration_s": round(float(d), 3)})
    for ln in lines(apis):
        svc, frontend, path = ln.split("\t")
        with open(path) as f:
            p = json.load(f)
        rep["api_downtime"].append({"service": svc, "frontend": frontend, "down_s": p["down_s"],
                                    "backend_down_s": p["backend_down_s"], "transitions": p["transitions"]})
    json.dump(rep, sys.stdout, indent=1)
    print()
    return 0


def main(argv):
    if len(argv) in (5, 6) and argv[1] == "probe":
        return cmd_probe(argv[2], argv[3], argv[4], float(argv[5]) if len(argv) == 6 else 0.2)
    if len(argv) == 7 and argv[1] == "report":
        return cmd_report(*argv[2:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
