#!/usr/bin/env bash
# libvirt.sh up|down|status|restart-libvirtd compute-N — the private libvirt of one lab compute host.
#
# Each compute host runs dbus-daemon + virtlogd + libvirtd in its own mount and UTS namespace:
#   hostname compute-N (libvirt reports it as the hypervisor hostname, so placement sees two hosts),
#   /etc/libvirt, /var/lib/libvirt, /var/cache/libvirt, /var/log/libvirt  ← $LAB_DIR/libvirt/compute-N/…
#   /run/libvirt ← /run/libvirt-compute-N (so its socket is /run/libvirt-compute-N/libvirt-sock on the host)
# The network namespace is the host's: taps land on neutron's bridges. nova-compute-N runs outside and
# connects with qemu:///system?socket=/run/libvirt-compute-N/libvirt-sock.
# `down` destroys the running domains (nova sees them SHUTOFF later), then stops every process in the namespace.
# shellcheck source=scripts/lab/lib.sh
. "$(dirname "$0")/lib.sh"

host=${2:-}
[[ $host =~ ^compute-[0-9]+$ ]] || die "usage: libvirt.sh up|down|status|restart-libvirtd compute-N"
D=$(lv_dir "$host")
RUN=$(lv_run "$host")
URI=$(lv_uri "$host")

prepare() {
  mkdir -p "$D"/{lib,cache,log} "$RUN"
  if [[ ! -d $D/etc ]]; then
    cp -a /etc/libvirt "$D/etc.tmp"
    rm -f "$D"/etc.tmp/qemu/networks/autostart/*.xml "$D"/etc.tmp/qemu/networks/default.xml
    mv "$D/etc.tmp" "$D/etc"
  fi
  [[ -s $D/host-uuid ]] || cat /proc/sys/kernel/random/uuid >"$D/host-uuid"
  cat >"$D/etc/libvirtd.conf" <<EOF
# written by scripts/lab/libvirt.sh for $host
unix_sock_group = "libvirt"
unix_sock_ro_perms = "0777"
unix_sock_rw_perms = "0770"
auth_unix_ro = "none"
auth_unix_rw = "none"
listen_tls = 0
listen_tcp = 0
host_uuid = "$(<"$D/host-uuid")"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
EOF
  cat >"$D/etc/qemu.conf" <<'EOF'
# written by scripts/lab/libvirt.sh: no AppArmor/SELinux in this kernel; qemu runs as root
security_driver = "none"
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
EOF
  printf '127.0.0.1 localhost\n127.0.0.1 %s\n' "$host" >"$D/hosts"
}

ns_pids() {                                           # every process in this host's mount namespace
  local holder ns p
  holder=$(lv_pid "$host" virtlogd || lv_pid "$host" libvirtd || lv_pid "$host" dbus) || return 0
  ns=$(readlink "/proc/$holder/ns/mnt") || return 0
  for p in /proc/[0-9]*; do
    [[ $(readlink "$p/ns/mnt" 2>/dev/null) == "$ns" ]] && echo "${p#/proc/}"
  done
  return 0
}

libvirtd_answers() { virsh -q -c "$URI" version >/dev/null 2>&1; }

cmd_up() {
  if lv_pid "$host" libvirtd >/dev/null && libvirtd_answers; then return 0; fi
  prepare
  if lv_pid "$host" virtlogd >/dev/null; then
    # namespace alive (libvirtd died or was stopped): start libvirtd again inside it
    nsenter -t "$(lv_pid "$host" virtlogd)" -m -u -- libvirtd -d -p /run/libvirt/libvirtd.pid
  else
    cmd_down >/dev/null 2>&1 || true
    rm -f "$RUN/dbus.pid" "$RUN/virtlogd.pid" "$RUN/libvirtd.pid"
    # shellcheck disable=SC2016  # the script is expanded by the inner bash, from its arguments
    unshare -m -u --propagation private -- bash -c '
      set -e
      host=$1 D=$2 RUN=$3
      hostname "$host"
      mkdir -p /run/libvirt /run/dbus
      mount --bind "$D/hosts" /etc/hosts
      mount --bind "$D/etc" /etc/libvirt
      mount --bind "$RUN" /run/libvirt
      mount --bind "$D/lib" /var/lib/libvirt
      mount --bind "$D/cache" /var/cache/libvirt
      mount --bind "$D/log" /var/log/libvirt
      mount -t tmpfs -o size=16m tmpfs /run/dbus
      dbus-daemon --system --fork --print-pid >/run/libvirt/dbus.pid
      virtlogd -d -p /run/libvirt/virtlogd.pid
      libvirtd -d -p /run/libvirt/libvirtd.pid
    ' _ "$host" "$D" "$RUN" </dev/null >>"$D/log/start.log" 2>&1
  fi
  retry 60 "libvirtd of $host at $URI (log: $D/log/libvirtd.log)" libvirtd_answers
}

cmd_down() {
  local p i dom
  if libvirtd_answers; then
    for dom in $(virsh -q -c "$URI" list --name 2>/dev/null); do
      virsh -q -c "$URI" destroy "$dom" >/dev/null 2>&1 || true
    done
  fi
  local pids
  pids=$(ns_pids)
  [[ -z $pids ]] && { rm -f "$RUN/dbus.pid" "$RUN/virtlogd.pid" "$RUN/libvirtd.pid"; return 0; }
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    p=""; for x in $pids; do [[ -d /proc/$x ]] && p+=" $x"; done
    [[ -z $p ]] && break
    sleep 0.2
  done
  # shellcheck disable=SC2086
  [[ -z $p ]] || kill -KILL $p 2>/dev/null || true
  rm -f "$RUN/dbus.pid" "$RUN/virtlogd.pid" "$RUN/libvirtd.pid"
}

cmd_status() {
  local d ok=0
  for d in dbus virtlogd libvirtd; do
    lv_pid "$host" "$d" >/dev/null || { echo "libvirt-$host: $d not running"; ok=1; }
  done
  if ((ok == 0)) && libvirtd_answers; then
    echo "libvirt-$host: up ($URI, $(virsh -q -c "$URI" list --name | grep -c . || true) running domains)"
  else
    ((ok)) || echo "libvirt-$host: libvirtd does not answer at $URI"
    return 1
  fi
}

cmd_restart_libvirtd() {
  local p
  if p=$(lv_pid "$host" libvirtd); then
    kill -TERM "$p"
    retry 30 "libvirtd of $host to exit" bash -c "! [ -d /proc/$p ]"
  fi
  cmd_up
}

case ${1:-} in
  up) need_root; cmd_up ;;
  down) need_root; cmd_down ;;
  status) cmd_status ;;
  restart-libvirtd) need_root; cmd_restart_libvirtd ;;
  *) die "usage: libvirt.sh up|down|status|restart-libvirtd compute-N" ;;
esac
