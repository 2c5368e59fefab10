#!/usr/bin/env bash
# install.sh — install the lab's Debian packages (only what is missing; ~1 s when everything is there).
#
# Nothing starts during the install (/usr/sbin/policy-rc.d says exit 101 while the lab's apt runs, and only then:
# host.sh's with_policy_rc_d), every debconf question of the OpenStack packages is preseeded to "don't configure"
# (preseed.txt), apt runs under eatmydata with --no-install-recommends. Fresh machine: ~500 packages, ~230 MiB
# download, 8–11 min on 2 cores.
# shellcheck source=scripts/lab/lib.sh
. "$(dirname "$0")/lib.sh"
need_root

PKGS=(
  # infrastructure
  mariadb-server galera-4 rsync rabbitmq-server memcached python3-pymysql python3-memcache haproxy
  # OpenStack Zed (Debian 12)
  keystone python3-openstackclient glance-api placement-api nova-api nova-conductor nova-scheduler nova-compute
  neutron-server neutron-linuxbridge-agent neutron-dhcp-agent neutron-l3-agent neutron-metadata-agent
  cinder-api cinder-scheduler cinder-volume
  # compute hosts (libvirt + qemu TCG, config drive, rbd disks)
  libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils qemu-block-extra genisoimage dbus
  # Ceph (scripts/lab/ceph.sh)
  ceph-mon ceph-mgr ceph-osd ceph-common uuid-runtime
  # one-node Pacemaker cluster (scripts/lab/pacemaker.sh)
  pacemaker corosync pacemaker-cli-utils
  # dashboard (scripts/lab/horizon.sh)
  openstack-dashboard apache2 libapache2-mod-wsgi-py3
  # test guest build (fixtures/image/build.sh)
  busybox-static dropbear-bin cpio kmod syslinux mtools dosfstools
  # tools the lab scripts use
  crudini eatmydata jq curl socat bc iputils-ping iproute2 iptables ipset ebtables
)

missing_packages() {
  # dpkg-query prints "ii " for installed ones; unknown names go to stderr and count as missing. It exits 1
  # when any name is unknown: under errexit + pipefail that must not end this function (a fresh machine
  # would then report "all installed").
  local installed
  installed=$({ dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "$@" 2>/dev/null || true; } | awk '$1 == "ii" {print $2}')
  local p
  for p in "$@"; do grep -qx "$p" <<<"$installed" || echo "$p"; done
}

policy_rc_d_restore                                   # what an interrupted earlier run left
mapfile -t MISSING < <(missing_packages "${PKGS[@]}")
if ((${#MISSING[@]} == 0)); then
  say "packages: all ${#PKGS[@]} installed"
  exit 0
fi
say "packages: installing ${#MISSING[@]} missing (${MISSING[*]:0:8}${MISSING[8]:+ …}) and their dependencies"

export DEBIAN_FRONTEND=noninteractive
APT=(apt-get -q -y -o DPkg::Lock::Timeout=1200 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold
  --no-install-recommends)
log=$LAB_LOG/apt.log
mkdir -p "$LAB_LOG"
apt-get -q -o DPkg::Lock::Timeout=1200 update >"$log" 2>&1 || { tail -20 "$log"; die "apt-get update failed (log: $log)"; }
if ! command -v eatmydata >/dev/null; then
  with_policy_rc_d "${APT[@]}" install eatmydata >>"$log" 2>&1 || { tail -20 "$log"; die "installing eatmydata failed (log: $log)"; }
fi
debconf-set-selections "$LAB_BIN/preseed.txt"
with_policy_rc_d eatmydata "${APT[@]}" install "${MISSING[@]}" >>"$log" 2>&1 || { tail -30 "$log"; die "apt-get install failed (log: $log)"; }
mapfile -t STILL < <(missing_packages "${PKGS[@]}")
((${#STILL[@]} == 0)) || die "still missing after apt: ${STILL[*]} (log: $log)"
say "packages: installed ($(grep -c '^Setting up' "$log") set up; log $log)"
