#!/usr/bin/env bash
# down.sh (make lab-down) — stop the whole lab and remove what neutron left on the host.
#
#   down.sh           stop everything; keep databases, images, volumes, secrets (the next up.sh is fast)
#   down.sh --purge   also drop the databases and delete all lab state (.lab/, ceph data, instances, glance
#                     images, libvirt dirs, the pacemaker CIB and corosync state) and put back the host's files
#                     the lab replaced (HAProxy's config, the cluster state): the next up.sh starts from scratch
#                     (packages stay installed; the marker in /var/lib/cloudpulse-lab stays)
# Only what the lab made is deleted: the names in /var/lib/cloudpulse-lab/records (scripts/lab/host.sh, teardown.sh).
# The unreachable routes for the lab ranges stay installed on purpose.
# shellcheck source=scripts/lab/lib.sh
. "$(dirname "$0")/lib.sh"
need_root
lab_lock 1800 "$@"
PURGE=0
case ${1:-} in
  "") ;;
  --purge) PURGE=1 ;;
  *) die "usage: down.sh [--purge]" ;;
esac

parallel_stop() { local s; for s in "$@"; do svc_stop "$s" & done; wait; }

if ((PURGE)); then
  # the databases can only be dropped by a running server (and neutron's tells the names of what it made)
  if ! mysql_root -e 'SELECT 1' >/dev/null 2>&1 && [[ -d /var/lib/mysql/mysql ]]; then
    [[ ! -f /var/lib/mysql/grastate.dat ]] || sed -i 's/^safe_to_bootstrap: 0/safe_to_bootstrap: 1/' /var/lib/mysql/grastate.dat
    setsid --wait /etc/init.d/mariadb start </dev/null >/dev/null 2>&1 || true
  fi
fi
# the names of what neutron's agents made, from the lab's database while it answers (teardown.sh)
record_neutron

[[ ! -x $LAB_BIN/horizon.sh ]] || "$LAB_BIN/horizon.sh" down >"$LAB_LOG/horizon-down.log" 2>&1 ||
  say "WARNING: horizon.sh down failed (log: $LAB_LOG/horizon-down.log)"
parallel_stop "${OS_COMPUTE[@]}" "${OS_AGENTS[@]}" "${OS_VOLUME[@]}"
for h in "${COMPUTES[@]}"; do "$LAB_BIN/libvirt.sh" down "$h" & done
parallel_stop "${OS_CONTROL[@]}" "${OS_APIS[@]}" haproxy
wait
say "OpenStack services, HAProxy and libvirt stopped"

# --- what neutron's agents leave behind: only the names recorded as the lab's -----------------------------------
# (processes in its namespaces — dnsmasq, metadata proxies — go with the namespaces)
teardown_neutron
say "neutron leftovers removed (the lab's namespaces, bridges, taps, vxlan, ebtables/iptables chains, ipsets)"

# --- infrastructure -----------------------------------------------------------------------------------------------
if [[ -x $LAB_BIN/ceph.sh ]]; then
  if ((PURGE)); then "$LAB_BIN/ceph.sh" wipe >"$LAB_LOG/ceph-down.log" 2>&1 || say "WARNING: ceph.sh wipe failed (log: $LAB_LOG/ceph-down.log)"
  else "$LAB_BIN/ceph.sh" down >"$LAB_LOG/ceph-down.log" 2>&1 || say "WARNING: ceph.sh down failed (log: $LAB_LOG/ceph-down.log)"; fi
fi &
if [[ -x $LAB_BIN/pacemaker.sh ]]; then
  if ((PURGE)); then "$LAB_BIN/pacemaker.sh" wipe >"$LAB_LOG/pacemaker-down.log" 2>&1 || say "WARNING: pacemaker.sh wipe failed (log: $LAB_LOG/pacemaker-down.log)"
  else "$LAB_BIN/pacemaker.sh" down >"$LAB_LOG/pacemaker-down.log" 2>&1 || say "WARNING: pacemaker.sh down failed (log: $LAB_LOG/pacemaker-down.log)"; fi
fi &
if ((PURGE)) && mysql_root -e 'SELECT 1' >/dev/null 2>&1; then
  purge_databases || say "WARNING: dropping the lab's databases failed"   # the recorded ones (teardown.sh)
fi
/etc/init.d/rabbitmq-server stop >/dev/null 2>&1 &
/etc/init.d/memcached stop >/dev/null 2>&1 &
/etc/init.d/mariadb stop >/dev/null 2>&1 &
wait
# rabbitmq's epmd outlives the broker: the one the lab's rabbitmq started (recorded by up.sh)
stop_recorded_procs epmd
# any other daemon the lab recorded and that is still running (its pid file gone with an old checkout)
stop_recorded_procs
"$LAB_BIN/network.sh" down
say "ceph, pacemaker, rabbitmq, memcached, mariadb stopped; $EXT_BRIDGE removed (unreachable routes kept)"

if ((PURGE)); then
  rm -rf "$LAB_STATE" "$LAB_DIR/libvirt" "$LAB_DIR/clouds.yaml" "$SECRETS" \
    /var/lib/neutron/dhcp /var/lib/neutron/ha_confs /var/lib/neutron/external /var/lib/neutron/ns-metadata-proxy
  for h in "${COMPUTES[@]}"; do rm -rf "$(lv_run "$h")" "/var/lib/nova/$h"; done
  purge_paths                                         # what the lab recorded as made (keystone's keys, …)
  # the host's configuration the lab replaced (HAProxy's; pacemaker.sh wipe restored the cluster state)
  host_restore_all || say "WARNING: restoring the host's files from $LAB_BACKUP failed"
  if [[ -f $LAB_OWNER && $(<"$LAB_OWNER") == "$LAB_DIR" ]]; then rm -f "$LAB_OWNER"; fi
  say "purged: databases, secrets, clouds.yaml, libvirt state, instances, images, ceph data, pacemaker CIB; host files restored"
fi
