#!/usr/bin/python3
"""API-level health of the lab: agents and services as the OpenStack APIs report them.

  health.py agents                    one line per agent/service; exit 0 when every expected one is up
  health.py wait NAME up|down SECS    wait until the API reports NAME (a ctl service name) up or down
  health.py state NAME                print up/down/missing for NAME
  health.py fresh NAME SINCE SECS     wait until the API reports NAME up with a heartbeat after SINCE (UTC epoch
                                      seconds): the process started after SINCE reported (a restart took effect)

Names: nova-conductor nova-scheduler nova-compute-N neutron-linuxbridge-agent-compute-N
       neutron-{dhcp,l3,metadata}-agent
       cinder-scheduler cinder-volume
Environment: ADMIN_PASS, KS_URL (keystone, direct), REGION, LAB_COMPUTE_HOSTS (space-separated compute hosts).
"""
import datetime
import os
import sys
import time

from keystoneauth1 import session
from keystoneauth1.identity import v3

E = os.environ
COMPUTES = E.get("LAB_COMPUTE_HOSTS", "compute-1 compute-2").split()
EXPECTED = (["nova-conductor", "nova-scheduler"] + [f"nova-{h}" for h in COMPUTES] +
            [f"neutron-linuxbridge-agent-{h}" for h in COMPUTES] +
            ["neutron-dhcp-agent", "neutron-l3-agent", "neutron-metadata-agent", "cinder-scheduler", "cinder-volume"])


def connect():
    auth = v3.Password(auth_url=E["KS_URL"] + "/v3", username="admin", password=E["ADMIN_PASS"],
                       project_name="admin", user_domain_name="Default", project_domain_name="Default")
    return session.Session(auth=auth, timeout=15)


def get(sess, service_type, path):
    r = sess.get(path, endpoint_filter={"service_type": service_type, "interface": "internal",
                                        "region_name": E.get("REGION", "RegionOne")}, raise_exc=True)
    return r.json()


def epoch(ts):
    """UTC epoch seconds of an API timestamp ("2026-12-02T17:10:00.000000" or "2026-12-02 17:10:00"); 0 if none."""
    if not ts:
        return 0.0
    ts = ts.replace("T", " ").rstrip("Z").split(".")[0]
    return datetime.datetime.strptime(ts, "%Y-%m-%d %H:%M:%S").replace(tzinfo=datetime.timezone.utc).timestamp()


def states(sess, with_time=False, only=None):
    """{name: (up: bool, detail)} for every agent/service the APIs know; with_time adds the last heartbeat (epoch);
    only ("nova", "neutron" or "cinder") asks that project's API alone."""
    out = {}
    for s in get(sess, "compute", "/os-services")["services"] if only in (None, "nova") else []:
        name = f"nova-{s['host']}" if s["binary"] == "nova-compute" else s["binary"]
        out[name] = (s["state"] == "up" and s["status"] == "enabled", f"{s['state']}/{s['status']} host={s['host']}",
                     epoch(s.get("updated_at")))
    for a in get(sess, "network", "/v2.0/agents")["agents"] if only in (None, "neutron") else []:
        name = a["binary"]
        if name == "neutron-linuxbridge-agent":
            name += "-" + a["host"]
        out[name] = (bool(a["alive"]) and a["admin_state_up"],
                     f"{'alive' if a['alive'] else 'dead'} host={a['host']}", epoch(a.get("heartbeat_timestamp")))
    for s in get(sess, "volumev3", "/os-services")["services"] if only in (None, "cinder") else []:
        out[s["binary"]] = (s["state"] == "up" and s["status"] == "enabled",
                            f"{s['state']}/{s['status']} host={s['host']}", epoch(s.get("updated_at")))
    return out if with_time else {k: v[:2] for k, v in out.items()}


def hypervisors(sess):
    return {h["hypervisor_hostname"]: h["state"] for h in get(sess, "compute", "/os-hypervisors")["hypervisors"]}


def cmd_agents(sess):
    st = states(sess)
    ok = True
    for name in EXPECTED:
        up, detail = st.get(name, (False, "not registered"))
        ok &= up
        print(f"{name:28s} {'ok ' if up else 'BAD'} API: {detail}")
    hv = hypervisors(sess)
    for h in COMPUTES:
        state = hv.get(h, "missing")
        ok &= state == "up"
        print(f"{'hypervisor ' + h:28s} {'ok ' if state == 'up' else 'BAD'} API: {state}")
    return 0 if ok else 1


def cmd_wait(sess, name, want, limit):
    end = time.monotonic() + limit
    detail = "not registered"
    while True:
        try:
            up, detail = states(sess).get(name, (False, "not registered"))
            if up == (want == "up"):
                return 0
        except Exception as e:  # API briefly unavailable while things restart
            detail = f"API error: {e}"
        if time.monotonic() > end:
            print(f"health.py: {name} not {want} after {limit}s ({detail})", file=sys.stderr)
            return 1
        time.sleep(1)


def cmd_fresh(sess, name, since, limit):
    end = time.monotonic() + limit
    detail = "not registered"
    while True:
        try:
            up, detail, beat = states(sess, with_time=True, only=name.split("-")[0]).get(name, (False, "not registered", 0.0))
            if up and beat >= since:
                return 0
            detail += f", last heartbeat {time.strftime('%H:%M:%S', time.gmtime(beat)) if beat else 'never'}"
        except Exception as e:  # API briefly unavailable while things restart
            detail = f"API error: {e}"
        if time.monotonic() > end:
            print(f"health.py: {name} reported no heartbeat since {time.strftime('%H:%M:%S', time.gmtime(since))} "
                  f"UTC within {limit}s ({detail})", file=sys.stderr)
            return 1
        time.sleep(1)


def main(argv):
    if len(argv) >= 2 and argv[1] == "agents":
        return cmd_agents(connect())
    if len(argv) == 5 and argv[1] == "wait" and argv[3] in ("up", "down"):
        return cmd_wait(connect(), argv[2], argv[3], int(argv[4]))
    if len(argv) == 5 and argv[1] == "fresh":
        return cmd_fresh(connect(), argv[2], float(argv[3]), int(argv[4]))
    if len(argv) == 3 and argv[1] == "state":
        up, detail = states(connect()).get(argv[2], (None, "missing"))
        print("missing" if up is None else ("up" if up else "down"), detail)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
