#!/usr/bin/env bash
# rss.sh — resident memory of the lab, by owner/group and in total (ps RSS sum; shared pages count per process,
# so this overstates real use: PSS is printed too).
#   rss.sh          table + totals       rss.sh -q   only "LAB RSS <MiB> MiB PSS <MiB> MiB PROCS <n>"
# Lab processes: everything run by the service users (keystone glance placement nova neutron cinder mysql
# rabbitmq memcache www-data) plus root's privsep helpers, ceph daemons, libvirt/virtlogd/dbus of the compute
# hosts, qemu guests, HAProxy, dnsmasq, neutron's metadata proxies, corosync and pacemaker (user hacluster + root).
# shellcheck source=scripts/lab/lib.sh
. "$(dirname "$0")/lib.sh"

ps -eo pid=,rss=,user:12=,comm=,args= | awk -v quiet="${1:-}" '
  function group(user, comm, args) {
    if (user ~ /^(keystone|glance|placement|nova|neutron|cinder|mysql|rabbitmq|memcache|www-data)$/) return user
    if (user == "hacluster" || (user == "root" && (comm == "corosync" || comm ~ /^pacemaker/))) return "pacemaker+corosync"
    if (user != "root") return ""
    if (comm ~ /^privsep-helper/ || args ~ /privsep-helper/) return "privsep(root)"
    if (comm ~ /^ceph-(mon|mgr|osd)$/) return "ceph(root)"
    if (comm ~ /^qemu-system/) return "qemu guests"
    if (comm ~ /^(libvirtd|virtlogd)$/ || (comm == "dbus-daemon" && args ~ /--system/)) return "libvirt(root)"
    if (comm == "haproxy" || comm == "dnsmasq" || args ~ /neutron-keepalived|neutron-rootwrap/) return "haproxy/dnsmasq(root)"
    if (comm ~ /^(apache2|mysqld_safe)$/) return comm "(root)"
    return ""
  }
  {
    args = ""; for (i = 5; i <= NF; i++) args = args " " $i
    g = group($3, $4, args)
    if (g == "") next
    rss[g] += $2; total += $2; n++; pids = pids " " $1
  }
  END {
    if (quiet != "-q") for (g in rss) printf "%-24s %6.0f MiB\n", g, rss[g] / 1024 | "sort -k2 -nr"
    close("sort -k2 -nr")
    printf "%.0f %d%s\n", total / 1024, n, pids > "/dev/stderr"
  }' 2>"${TMPDIR:-/tmp}/lab-rss.$$"
read -r total n pids <"${TMPDIR:-/tmp}/lab-rss.$$"; rm -f "${TMPDIR:-/tmp}/lab-rss.$$"
pss=0
for p in $pids; do v=$(awk '/^Pss:/{print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || true); pss=$((pss + ${v:-0})); done
if [[ ${1:-} == -q ]]; then echo "LAB RSS $total MiB PSS $((pss / 1024)) MiB PROCS $n"
else printf '%-24s %6s MiB   (PSS %d MiB, %d processes)\n' TOTAL "$total" $((pss / 1024)) "$n"; fi
