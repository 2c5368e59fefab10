#!/usr/bin/python3
"""Register the lab's service users, services and endpoints in keystone (idempotent, one process).

Environment: ADMIN_PASS, SERVICE_PASS, KS_URL (keystone, direct), VIP (HAProxy), SVC_IP, REGION.
Public endpoints point at HAProxy (http://VIP:port), internal and admin ones at the service itself.
Service users get the admin and service roles in project "service" (cinder only trusts nova's service
token when it carries the service role).
"""
import os
import sys

from keystoneauth1 import exceptions as ksa_exc
from keystoneauth1 import session
from keystoneauth1.identity import v3
from keystoneclient.v3 import client

E = os.environ
KS_URL, VIP, SVC_IP, REGION = E["KS_URL"], E["VIP"], E["SVC_IP"], E["REGION"]

# (user, service name, type, port, path)
SERVICES = [
    (None, "keystone", "identity", 5000, "/v3"),
    ("glance", "glance", "image", 9292, ""),
    ("placement", "placement", "placement", 8778, ""),
    ("nova", "nova", "compute", 8774, "/v2.1"),
    ("neutron", "neutron", "network", 9696, ""),
    ("cinder", "cinderv3", "volumev3", 8776, "/v3/%(project_id)s"),
]


def password_works(user, password):
    auth = v3.Password(auth_url=KS_URL + "/v3", username=user, password=password, project_name="service",
                       user_domain_name="Default", project_domain_name="Default")
    try:
        session.Session(auth=auth).get_token()
        return True
    except ksa_exc.Unauthorized:
        return False


def main():
    auth = v3.Password(auth_url=KS_URL + "/v3", username="admin", password=E["ADMIN_PASS"], project_name="admin",
                       user_domain_name="Default", project_domain_name="Default")
    ks = client.Client(session=session.Session(auth=auth, connect_retries=10), interface="internal",
                       region_name=REGION)

    def get_or_create(mgr, name, **kw):
        for o in mgr.list():
            if o.name == name:
                return o
        return mgr.create(name, **kw)

    service_project = get_or_create(ks.projects, "service", domain="default", description="OpenStack services")
    roles = {r: get_or_create(ks.roles, r) for r in ("admin", "member", "reader", "service")}

    all_services = ks.services.list()
    all_endpoints = ks.endpoints.list()
    for user, sname, stype, port, path in SERVICES:
        if user:
            found = ks.users.list(name=user, domain="default")
            if found:
                u = found[0]
                if not password_works(user, E["SERVICE_PASS"]):
                    ks.users.update(u, password=E["SERVICE_PASS"])
            else:
                u = ks.users.create(user, domain="default", password=E["SERVICE_PASS"],
                                    default_project=service_project)
            for r in ("admin", "service"):
                ks.roles.grant(roles[r], user=u, project=service_project)
        svc = next((s for s in all_services if s.type == stype), None) or ks.services.create(sname, type=stype)
        want = {"public": f"http://{VIP}:{port}{path}",
                "internal": f"http://{SVC_IP}:{port}{path}",
                "admin": f"http://{SVC_IP}:{port}{path}"}
        have = [e for e in all_endpoints if e.service_id == svc.id]
        for itf, url in want.items():
            mine = [e for e in have if e.interface == itf]
            if not mine:
                ks.endpoints.create(svc, url, interface=itf, region=REGION)
                continue
            for extra in mine[1:]:
                ks.endpoints.delete(extra)
            if mine[0].url != url or mine[0].region_id != REGION:
                ks.endpoints.update(mine[0], url=url, region=REGION)
    return 0


if __name__ == "__main__":
    sys.exit(main())
