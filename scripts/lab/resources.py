#!/usr/bin/python3
"""Create what the tests expect in the lab cloud (idempotent, one process, openstacksdk as lab-admin).

  project cloudpulse + user cloudpulse-member (role member) with big quotas
  flavors cp.tiny (256 MiB, 1 vCPU, 1 GiB) and cp.small (512 MiB, 1 vCPU, 1 GiB)
  external network "public" (flat, physnet public) with subnet 172.24.4.0/24, gateway 172.24.4.1 (the host)
  volume type "ceph" (the RBD backend)
  public image cloudpulse-tiny from IMAGE (skipped when glance already holds the same md5)

Environment: OS_CLIENT_CONFIG_FILE (clouds.yaml), MEMBER_PASS, IMAGE (path, may be missing), EXT_*.
Prints one line per thing created or changed.
"""
import hashlib
import os
import sys

import openstack

E = os.environ
PROJECT, MEMBER = "cloudpulse", "cloudpulse-member"
FLAVORS = {"cp.tiny": (256, 1, 1), "cp.small": (512, 1, 1)}
IMAGE_NAME = "cloudpulse-tiny"
COMPUTE_QUOTA = dict(instances=20, cores=40, ram=20480, key_pairs=50, server_groups=20, server_group_members=20)
NETWORK_QUOTA = dict(networks=20, subnets=20, ports=200, routers=20, floating_ips=20, security_groups=20,
                     security_group_rules=200)
VOLUME_QUOTA = dict(volumes=20, gigabytes=200, snapshots=20, backups=20, backup_gigabytes=200)


def say(msg):
    print(f"  {msg}", flush=True)


def identity(conn):
    ident = conn.identity
    project = ident.find_project(PROJECT, domain_id="default")
    if project is None:
        project = ident.create_project(name=PROJECT, domain_id="default",
                                       description="cloudpulse tests (non-admin)")
        say(f"project {PROJECT} created")
    user = ident.find_user(MEMBER, domain_id="default")
    if user is None:
        user = ident.create_user(name=MEMBER, domain_id="default", password=E["MEMBER_PASS"],
                                 default_project_id=project.id)
        say(f"user {MEMBER} created")
    else:
        try:
            openstack.connect(cloud="lab-member").authorize()
        except openstack.exceptions.HttpException:
            ident.update_user(user, password=E["MEMBER_PASS"])
            say(f"user {MEMBER}: password reset to the one in secrets.env")
    member = ident.find_role("member")
    if not ident.validate_user_has_project_role(project, user, member):
        ident.assign_project_role_to_user(project, user, member)
        say(f"role member granted to {MEMBER} on {PROJECT}")
    return project


def quotas(conn, project):
    conn.set_compute_quotas(project.id, **COMPUTE_QUOTA)
    conn.set_network_quotas(project.id, network=NETWORK_QUOTA["networks"], subnet=NETWORK_QUOTA["subnets"],
                            port=NETWORK_QUOTA["ports"], router=NETWORK_QUOTA["routers"],
                            floatingip=NETWORK_QUOTA["floating_ips"],
                            security_group=NETWORK_QUOTA["security_groups"],
                            security_group_rule=NETWORK_QUOTA["security_group_rules"])
    conn.set_volume_quotas(project.id, **VOLUME_QUOTA)


def flavors(conn):
    for name, (ram, vcpus, disk) in FLAVORS.items():
        f = conn.compute.find_flavor(name)
        if f is not None and (f.ram, f.vcpus, f.disk) == (ram, vcpus, disk):
            continue
        if f is not None:
            conn.compute.delete_flavor(f)
        conn.compute.create_flavor(name=name, ram=ram, vcpus=vcpus, disk=disk, is_public=True)
        say(f"flavor {name} created ({ram} MiB, {vcpus} vCPU, {disk} GiB)")


def external_network(conn):
    net = conn.network.find_network("public")
    if net is None:
        net = conn.network.create_network(name="public", is_router_external=True, is_shared=False,
                                          provider_network_type="flat",
                                          provider_physical_network=E["EXT_PHYSNET"],
                                          description="lab external network (host bridge br-lab)")
        say("network public created")
    if not any(s for s in conn.network.subnets(network_id=net.id)):
        conn.network.create_subnet(name="public-subnet", network_id=net.id, ip_version=4, cidr=E["EXT_CIDR"],
                                   gateway_ip=E["EXT_GW"], is_dhcp_enabled=False,
                                   allocation_pools=[{"start": E["EXT_POOL_START"], "end": E["EXT_POOL_END"]}])
        say(f"subnet public-subnet {E['EXT_CIDR']} created (gateway {E['EXT_GW']})")


def volume_type(conn):
    vt = conn.block_storage.find_type("ceph")
    if vt is None:
        conn.block_storage.create_type(name="ceph", is_public=True, extra_specs={"volume_backend_name": "ceph"},
                                       description="Ceph RBD (scripts/lab/ceph.sh)")
        say("volume type ceph created")


def image(conn):
    path = E.get("IMAGE", "")
    if not path or not os.path.exists(path):
        say(f"image {IMAGE_NAME}: {path or 'IMAGE'} missing, not uploaded")
        return 1
    md5 = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            md5.update(block)
    want = md5.hexdigest()
    existing = [i for i in conn.image.images(name=IMAGE_NAME)]
    if any(i.checksum == want and i.status == "active" for i in existing):
        return 0
    for old in existing:
        conn.image.delete_image(old)
        say(f"image {IMAGE_NAME} {old.id} removed (checksum {old.checksum} != {want})")
    img = conn.image.create_image(name=IMAGE_NAME, disk_format="qcow2", container_format="bare",
                                  visibility="public", hw_rng_model="virtio", os_distro="debian",
                                  filename=path, allow_duplicates=True, wait=True, timeout=300)
    say(f"image {IMAGE_NAME} uploaded ({img.id}, md5 {want})")
    return 0


def main():
    conn = openstack.connect(cloud="lab-admin")
    project = identity(conn)
    quotas(conn, project)
    flavors(conn)
    external_network(conn)
    volume_type(conn)
    return image(conn)


def main_with_retries(attempts=4):
    """Every step is idempotent: an API that answers 5xx for a moment (a service still warming up behind
    HAProxy) is retried from the top, a few seconds later."""
    import time
    from openstack import exceptions
    for n in range(1, attempts + 1):
        try:
            return main()
        except exceptions.HttpException as e:
            code = getattr(e, "status_code", None) or 0
            if code < 500 or n == attempts:
                raise
            print(f"  {e.__class__.__name__} {code} ({str(e).splitlines()[0][:120]}); retrying in {3 * n}s",
                  file=sys.stderr, flush=True)
            time.sleep(3 * n)


if __name__ == "__main__":
    sys.exit(main_with_retries())
