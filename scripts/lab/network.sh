#!/usr/bin/env bash
# network.sh up|down|status — the host side of the lab's external network, and the safety routes.
#
#   up:     refuse if net.ipv4.ip_forward=1; install `unreachable <range> metric 4000` for every lab range
#           (kept forever, so a probe of a lab address fails locally when the lab is down); create bridge
#           br-lab (no ports of its own, IPv6 off) with 172.24.4.1/24 — neutron's physnet "public" is mapped
#           onto it (linuxbridge bridge_mappings), so routers' gateway ports and floating IPs sit on it.
#   down:   delete br-lab when the lab's records say the lab created it (the unreachable routes stay).
#   status: exit 0 when br-lab has its address, the routes are there and ip_forward is 0.
# The root namespace never forwards: floating-IP traffic is routed only inside neutron's qrouter namespaces.
# shellcheck source=scripts/lab/lib.sh
. "$(dirname "$0")/lib.sh"

routes_ok() {
  local r
  for r in "${LAB_RANGES[@]}"; do
    ip -4 route show type unreachable "$r" | grep -q "metric $UNREACHABLE_METRIC" || return 1
  done
}

cmd_up() {
  need_root
  check_forwarding
  local r
  for r in "${LAB_RANGES[@]}"; do
    ip -4 route replace unreachable "$r" metric "$UNREACHABLE_METRIC"
  done
  if ! ip link show "$EXT_BRIDGE" >/dev/null 2>&1; then
    rec_add link "$EXT_BRIDGE"
    ip link add "$EXT_BRIDGE" type bridge forward_delay 0 stp_state 0
  elif ! rec_has link "$EXT_BRIDGE"; then
    die "a link named $EXT_BRIDGE exists that the lab did not create ($LAB_RECORDS): the lab will not use or delete it"
  fi
  sysctl -qw "net.ipv6.conf.$EXT_BRIDGE.disable_ipv6=1"
  ip addr replace "$EXT_GW/${EXT_CIDR#*/}" dev "$EXT_BRIDGE"
  ip link set "$EXT_BRIDGE" up
  check_forwarding
}

cmd_down() {
  need_root
  rec_has link "$EXT_BRIDGE" || return 0               # only the bridge the lab created
  ip link del "$EXT_BRIDGE" 2>/dev/null || true
  rec_del link "$EXT_BRIDGE"
}

cmd_status() {
  local rc=0
  if [[ $(</proc/sys/net/ipv4/ip_forward) != 0 ]]; then echo "network: DANGER ip_forward=1 in the root namespace"; rc=1; fi
  routes_ok || { echo "network: unreachable routes for ${LAB_RANGES[*]} missing"; rc=1; }
  ip -4 addr show dev "$EXT_BRIDGE" 2>/dev/null | grep -q "inet $EXT_GW/" ||
    { echo "network: $EXT_BRIDGE lacks $EXT_GW"; rc=1; }
  ((rc)) || echo "network: $EXT_BRIDGE $EXT_GW/${EXT_CIDR#*/} up, unreachable routes in place, ip_forward=0"
  return $rc
}

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) die "usage: network.sh up|down|status" ;;
esac
