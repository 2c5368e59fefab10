#!/usr/bin/env bash
# down.sh (make lab-down) — stop the whole lab and remove what neutron left on the host.
#
#   down.sh           stop everything; keep databases, images, volumes, secrets (the next up.sh is fast)
#   down.sh --purge   also drop the databases and delete all lab state (.lab/, ceph data, instances, glance
#                     images, libvirt dirs, the pacemaker CIB and corosync state): the next up.sh starts from
#                     scratch (packages stay installed)
# The unreachable routes for the lab ranges stay installed on purpose.
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

[[ ! -x $LAB_BIN/horizon.sh ]] || "$LAB_BIN/horizon.sh" down >"$LAB_LOG/horizon-down.log" 2>&1 ||
  say "WARNING: horizon.sh down failed (log: $LAB_LOG/horizon-down.log)"
parallel_stop "${OS_COMPUTE[@]}" "${OS_AGENTS[@]}" "${OS_VOLUME[@]}"
for h in "${COMPUTES[@]}"; do "$LAB_BIN/libvirt.sh" down "$h" & done
parallel_stop "${OS_CONTROL[@]}" "${OS_APIS[@]}" haproxy
wait
say "OpenStack services, HAProxy and libvirt stopped"

# --- what neutron's agents leave behind (only things with neutron's names and paths) ---------------------------
pids_matching() { pgrep -f "$1" || true; }
leftovers=$(
  pids_matching '^dnsmasq .*/var/lib/neutron/dhcp/'
  pids_matching '^haproxy -f /var/lib/neutron/'
  pids_matching 'neutron-keepalived-state-change'
  pids_matching 'privsep-helper --config-file /etc/(neutron|nova)/'
)
# shellcheck disable=SC2086
[[ -z $leftovers ]] || kill $leftovers 2>/dev/null || true
for ns in $(ip netns list | awk '/^(qdhcp|qrouter|qlbaas|fip|snat)-[0-9a-f-]+/{print $1}'); do
  ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  ip netns delete "$ns" 2>/dev/null || true
done
for l in $(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -E '^((brq|tap)[0-9a-f]{8}-[0-9a-f]{2}|vxlan-[0-9]+)$'); do
  ip link delete "$l" 2>/dev/null || true
done
# neutron's iptables chains and ipsets (jumps from the built-in chains first)
for cmd in iptables ip6tables; do
  for t in filter nat mangle raw; do
    rules=$("$cmd" -t "$t" -S 2>/dev/null) || continue
    while read -r r; do eval "$cmd -t $t ${r/#-A/-D}" 2>/dev/null || true; done < <(grep -E '^-A [A-Z]+ .*-j (neutron|nlb)-' <<<"$rules")
    chains=$(awk '/^-N (neutron|nlb)-/{print $2}' <<<"$rules")
    for c in $chains; do "$cmd" -t "$t" -F "$c" 2>/dev/null || true; done
    for c in $chains; do "$cmd" -t "$t" -X "$c" 2>/dev/null || true; done
  done
done
for s in $(ipset list -n 2>/dev/null | grep -E '^NIPv[46]' || true); do ipset destroy "$s" 2>/dev/null || true; done
if command -v ebtables >/dev/null; then
  for t in filter nat; do
    rules=$(ebtables -t "$t" -L 2>/dev/null) || continue
    for c in $(grep -oE '^Bridge chain: neutron[A-Za-z0-9_-]+' <<<"$rules" | awk '{print $3}' | tr -d ,); do
      for b in PREROUTING INPUT FORWARD OUTPUT POSTROUTING; do
        while ebtables -t "$t" -D "$b" -j "$c" 2>/dev/null; do :; done
      done
      ebtables -t "$t" -F "$c" 2>/dev/null || true
      ebtables -t "$t" -X "$c" 2>/dev/null || true
    done
  done
fi
say "neutron leftovers removed (namespaces, bridges, taps, vxlan, dnsmasq, metadata proxies, iptables chains)"

# --- infrastructure -----------------------------------------------------------------------------------------------
if [[ -x $LAB_BIN/ceph.sh ]]; then
  if ((PURGE)); then "$LAB_BIN/ceph.sh" wipe >"$LAB_LOG/ceph-down.log" 2>&1 || say "WARNING: ceph.sh wipe failed (log: $LAB_LOG/ceph-down.log)"
  else "$LAB_BIN/ceph.sh" down >"$LAB_LOG/ceph-down.log" 2>&1 || say "WARNING: ceph.sh down failed (log: $LAB_LOG/ceph-down.log)"; fi
fi &
if [[ -x $LAB_BIN/pacemaker.sh ]]; then
  if ((PURGE)); then "$LAB_BIN/pacemaker.sh" wipe >"$LAB_LOG/pacemaker-down.log" 2>&1 || say "WARNING: pacemaker.sh wipe failed (log: $LAB_LOG/pacemaker-down.log)"
  else "$LAB_BIN/pacemaker.sh" down >"$LAB_LOG/pacemaker-down.log" 2>&1 || say "WARNING: pacemaker.sh down failed (log: $LAB_LOG/pacemaker-down.log)"; fi
fi &
if ((PURGE)); then
  # the databases can only be dropped by a running server
  if ! mysql_root -e 'SELECT 1' >/dev/null 2>&1 && [[ -d /var/lib/mysql/mysql ]]; then
    [[ ! -f /var/lib/mysql/grastate.dat ]] || sed -i 's/^safe_to_bootstrap: 0/safe_to_bootstrap: 1/' /var/lib/mysql/grastate.dat
    setsid --wait /etc/init.d/mariadb start </dev/null >/dev/null 2>&1 || true
  fi
fi
if ((PURGE)) && mysql_root -e 'SELECT 1' >/dev/null 2>&1; then
  mysql_root -e "DROP DATABASE IF EXISTS keystone; DROP DATABASE IF EXISTS glance; DROP DATABASE IF EXISTS placement;
    DROP DATABASE IF EXISTS nova_api; DROP DATABASE IF EXISTS nova; DROP DATABASE IF EXISTS nova_cell0;
    DROP DATABASE IF EXISTS neutron; DROP DATABASE IF EXISTS cinder;
    DROP USER IF EXISTS 'os'@'localhost', 'os'@'127.0.0.1', 'cloudpulse'@'localhost', 'cloudpulse'@'127.0.0.1';"
fi
/etc/init.d/rabbitmq-server stop >/dev/null 2>&1 &
/etc/init.d/memcached stop >/dev/null 2>&1 &
/etc/init.d/mariadb stop >/dev/null 2>&1 &
wait
# rabbitmq's epmd outlives the broker
for p in $(pgrep -x epmd || true); do [[ $(stat -c %U "/proc/$p") == rabbitmq ]] && kill "$p" 2>/dev/null || true; done
"$LAB_BIN/network.sh" down
say "ceph, pacemaker, rabbitmq, memcached, mariadb stopped; $EXT_BRIDGE removed (unreachable routes kept)"

if ((PURGE)); then
  rm -rf "$LAB_STATE" "$LAB_DIR/libvirt" "$LAB_DIR/clouds.yaml" "$SECRETS" \
    /var/lib/nova/compute-* /var/lib/glance/images/* /var/lib/neutron/dhcp /var/lib/neutron/ha_confs \
    /var/lib/neutron/external /var/lib/neutron/ns-metadata-proxy /etc/keystone/fernet-keys /etc/keystone/credential-keys
  for h in "${COMPUTES[@]}"; do rm -rf "$(lv_run "$h")"; done
  if [[ -f $LAB_OWNER && $(<"$LAB_OWNER") == "$LAB_DIR" ]]; then rm -f "$LAB_OWNER"; fi
  say "purged: databases, secrets, clouds.yaml, libvirt state, instances, images, ceph data, pacemaker CIB"
fi
