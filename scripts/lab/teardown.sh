# teardown.sh — delete what the lab made, by the exact names recorded in $LAB_RECORDS (sourced by lib.sh).
#
# Neutron's agents name what they make on the host after the ids in the lab's own database: namespaces
# qrouter-<router> and qdhcp-<network>, bridges brq<network[:11]>, taps tap<port[:11]>, vxlan-<vni>, ipsets
# NIPv4<security group[:24]> (and their "-n" swap sets), ebtables chains neutronARP-/neutronMAC-<tap>. Their
# iptables chains in the root namespace are prefixed with the agent's program name, nlb-compute-N: a name the
# lab made (configure.sh's symlinks) and recorded. record_neutron writes these names into the records while the
# database answers (end of up.sh, start of down.sh); the teardown_* functions delete only recorded names.
# shellcheck shell=bash

# neutron_inventory → "KIND NAME" lines for every host object the lab's neutron makes
neutron_inventory() {
  mysql_root -N -B neutron <<'SQL'
SELECT CONCAT('netns qrouter-', id) FROM routers;
SELECT CONCAT('netns qdhcp-', id) FROM networks;
SELECT CONCAT('link brq', LEFT(id, 11)) FROM networks;
SELECT CONCAT('link tap', LEFT(id, 11)) FROM ports;
SELECT CONCAT('link vxlan-', segmentation_id) FROM networksegments WHERE network_type = 'vxlan';
SELECT CONCAT('ipset NIPv4', LEFT(id, 24)) FROM securitygroups;
SELECT CONCAT('ipset NIPv6', LEFT(id, 24)) FROM securitygroups;
SQL
}
record_neutron() {                                    # quiet no-op when the database does not answer
  local kind name inv
  inv=$(neutron_inventory 2>/dev/null) || return 0
  while read -r kind name; do [[ -z $name ]] || rec_add "$kind" "$name"; done <<<"$inv"
}

# teardown_netns — the processes inside each recorded namespace, then the namespace
teardown_netns() {
  local ns have
  have=$(ip netns list 2>/dev/null | awk '{print $1}')
  for ns in $(rec_list netns); do
    if grep -qxF -- "$ns" <<<"$have"; then
      ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
      ip netns delete "$ns" 2>/dev/null || { echo "lab: could not delete namespace $ns" >&2; continue; }
    fi
    rec_del netns "$ns"
  done
}

# teardown_ebtables — the ARP/MAC spoofing chains of recorded taps and their PREROUTING jumps (neutron's nat table)
teardown_ebtables() {
  command -v ebtables >/dev/null || return 0
  local rules l
  rules=$(ebtables -t nat -L 2>/dev/null) || return 0
  for l in $(rec_list link); do
    [[ $l == tap* ]] || continue
    if grep -q "^Bridge chain: neutronARP-$l," <<<"$rules"; then
      ebtables -t nat -D PREROUTING -i "$l" -j "neutronARP-$l" -p ARP 2>/dev/null || true
      ebtables -t nat -F "neutronARP-$l" 2>/dev/null || true
      ebtables -t nat -X "neutronARP-$l" 2>/dev/null || true
    fi
    if grep -q "^Bridge chain: neutronMAC-$l," <<<"$rules"; then
      ebtables -t nat -D PREROUTING -i "$l" -j "neutronMAC-$l" 2>/dev/null || true
      ebtables -t nat -F "neutronMAC-$l" 2>/dev/null || true
      ebtables -t nat -X "neutronMAC-$l" 2>/dev/null || true
    fi
  done
}

# teardown_links — recorded bridges, taps and vxlan devices (br-lab is network.sh's)
teardown_links() {
  local l have
  have=$(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1)
  for l in $(rec_list link); do
    [[ $l != "${EXT_BRIDGE:-br-lab}" ]] || continue
    if grep -qxF -- "$l" <<<"$have"; then
      ip link delete "$l" 2>/dev/null || { echo "lab: could not delete link $l" >&2; continue; }
    fi
    rec_del link "$l"
  done
}

# ipt_delete_rule CMD TABLE "-A CHAIN ..." — delete the rule that `CMD -t TABLE -S` printed (quotes as it quotes)
ipt_delete_rule() { printf '%s\n' "-D ${3#-A }" | xargs "$1" -t "$2" 2>/dev/null || true; }

# teardown_iptables — chains named after a recorded agent program (iptprefix P: chains "P-…"), the rules that jump
# to them, then neutron's shared chains (neutron-filter-top, neutron-postrouting-bottom) when nothing else is in them
teardown_iptables() {
  local prefixes cmd t rules c r ours
  prefixes=$(rec_list iptprefix | tr '\n' ' ')
  [[ -n $prefixes ]] || return 0
  for cmd in iptables ip6tables; do
    command -v "$cmd" >/dev/null || continue
    for t in filter nat mangle raw; do
      rules=$("$cmd" -t "$t" -S 2>/dev/null) || continue
      # the lab's chains: "-N P-…" for a recorded prefix P
      ours=$(awk -v pre="$prefixes" 'BEGIN { n = split(pre, p, " ") }
        $1 == "-N" { for (i = 1; i <= n; i++) if (index($2, p[i] "-") == 1) { print $2; break } }' <<<"$rules")
      [[ -n $ours ]] || continue
      # rules of other chains that jump to them (the rules inside them go with -F)
      while read -r r; do
        [[ -z $r ]] || ipt_delete_rule "$cmd" "$t" "$r"
      done <<<"$(awk -v ours="$ours" 'BEGIN { n = split(ours, o, "\n"); for (i = 1; i <= n; i++) mine[o[i]] = 1 }
        $1 == "-A" && !($2 in mine) { for (i = 3; i < NF; i++) if (($i == "-j" || $i == "-g") && ($(i + 1) in mine)) { print; break } }' <<<"$rules")"
      for c in $ours; do "$cmd" -t "$t" -F "$c" 2>/dev/null || true; done
      for c in $ours; do "$cmd" -t "$t" -X "$c" 2>/dev/null || true; done
      for c in neutron-filter-top neutron-postrouting-bottom; do
        rules=$("$cmd" -t "$t" -S 2>/dev/null) || continue
        grep -qxF -- "-N $c" <<<"$rules" || continue
        ! grep -q "^-A $c " <<<"$rules" || continue           # someone else's rules are still in it
        while read -r r; do ipt_delete_rule "$cmd" "$t" "$r"; done < <(grep -E "^-A [^ ]+ .*-j $c( |$)" <<<"$rules")
        "$cmd" -t "$t" -X "$c" 2>/dev/null || true
      done
    done
  done
}

# teardown_ipsets — recorded ipsets and their swap sets (after iptables: a set in use cannot be destroyed)
teardown_ipsets() {
  command -v ipset >/dev/null || return 0
  local s n have
  have=$(ipset list -n 2>/dev/null)
  for s in $(rec_list ipset); do
    for n in "$s" "$s-n"; do
      if grep -qxF -- "$n" <<<"$have"; then ipset destroy "$n" 2>/dev/null || echo "lab: could not destroy ipset $n" >&2; fi
    done
    rec_del ipset "$s"
  done
}

# teardown_neutron — all of the above, in an order that works (processes and namespaces first, sets last)
teardown_neutron() {
  teardown_netns
  teardown_ebtables
  teardown_links
  teardown_iptables
  teardown_ipsets
}

# --- purge ------------------------------------------------------------------------------------------------------
# purge_databases — the recorded databases and users (glance's image files first: named by the image ids)
purge_databases() {
  local d ids sql=""
  if rec_has db glance; then
    ids=$(mysql_root -N -B -e 'SELECT id FROM glance.images' 2>/dev/null) || ids=""
    for d in $ids; do
      [[ $d =~ ^[0-9a-f-]{36}$ ]] && rm -f "$HOST_ROOT/var/lib/glance/images/$d"
    done
  fi
  for d in $(rec_list db); do sql+="DROP DATABASE IF EXISTS \`$d\`; "; done
  for d in $(rec_list dbuser); do sql+="DROP USER IF EXISTS $d; "; done
  [[ -n $sql ]] || return 0
  mysql_root -e "$sql" || return 1
  for d in $(rec_list db); do rec_del db "$d"; done
  for d in $(rec_list dbuser); do rec_del dbuser "$d"; done
}
# purge_paths — files and directories the lab recorded as made
purge_paths() {
  local p
  while read -r p; do
    [[ $p == /?* ]] || continue
    rm -rf "$HOST_ROOT$p"
    rec_del path "$p"
  done < <(rec_list path)
}
