# teardown_test.sh — teardown deletes only what the lab recorded: neutron's namespaces, links, chains and ipsets
# named after the ids in the lab's database, the processes the lab started, its databases and files; look-alikes
# that are someone else's stay. ip/iptables/ipset/ebtables are stubs (stubs/) over files in $FAKE. Run by run.sh.
# shellcheck shell=bash
LAB_NET=6b1f0c2e-9a41-4c3e-8f7a-0d5e2b3c4a11 LAB_ROUTER=0a6f3b71-2c44-4d0e-9f1a-5e7c8b9d0e22
LAB_PORT=f2c5a9d0-3b1e-4c7f-8a2d-6e4b1c0d9f33 LAB_SG=9c8b7a6d-5e4f-4a3b-2c1d-0e9f8a7b6c44
OTHER=12345678-aaaa-4bbb-8ccc-ddddeeeeffff            # ids of someone else's neutron on the same host

# the lab's neutron database (mysql_root stub: neutron_inventory's query → the lab's names)
lab_neutron_db() {
  # shellcheck disable=SC2317  # called by teardown.sh's neutron_inventory, in place of lib.sh's
  mysql_root() {
    cat >/dev/null
    printf '%s\n' "netns qrouter-$LAB_ROUTER" "netns qdhcp-$LAB_NET" "link brq${LAB_NET:0:11}" "link tap${LAB_PORT:0:11}" \
      "link vxlan-7" "ipset NIPv4${LAB_SG:0:24}" "ipset NIPv6${LAB_SG:0:24}"
  }
}

host_with_both() {                                    # the lab's objects and someone else's look-alikes
  local n
  for n in "qrouter-$LAB_ROUTER" "qdhcp-$LAB_NET" "qrouter-$OTHER" "qdhcp-$OTHER" cp-imgtest-77; do : >"$FAKE/netns/$n"; done
  for n in "brq${LAB_NET:0:11}" "tap${LAB_PORT:0:11}" vxlan-7 "brq${OTHER:0:11}" "tap${OTHER:0:11}" vxlan-8 br-lab eth0; do
    : >"$FAKE/links/$n"
  done
  printf '%s\n' "NIPv4${LAB_SG:0:24}" "NIPv4${LAB_SG:0:24}-n" "NIPv4${OTHER:0:24}" "NIPv6${OTHER:0:24}" >"$FAKE/ipsets"
  printf '%s\n' "neutronARP-tap${LAB_PORT:0:11}" "neutronMAC-tap${LAB_PORT:0:11}" "neutronARP-tap${OTHER:0:11}" >"$FAKE/ebchains"
  cat >"$FAKE/iptables.filter" <<RULES
-P INPUT ACCEPT
-P FORWARD ACCEPT
-P OUTPUT ACCEPT
-N neutron-filter-top
-N nlb-compute-1-FORWARD
-N nlb-compute-1-local
-N nlb-compute-1-sg-chain
-N neutron-linuxbri-FORWARD
-N nlb-compute-10-x
-A FORWARD -j neutron-filter-top
-A FORWARD -j nlb-compute-1-FORWARD
-A FORWARD -j neutron-linuxbri-FORWARD
-A OUTPUT -j neutron-filter-top
-A neutron-filter-top -j nlb-compute-1-local
-A nlb-compute-1-FORWARD -m physdev --physdev-out tap${LAB_PORT:0:11} --physdev-is-bridged -m comment --comment "Direct traffic from the VM interface to the security group chain." -j nlb-compute-1-sg-chain
-A nlb-compute-1-sg-chain -j ACCEPT
-A neutron-linuxbri-FORWARD -j ACCEPT
-A nlb-compute-10-x -j ACCEPT
RULES
  rec_add iptprefix nlb-compute-1
}

test_neutron_teardown_deletes_only_the_labs_names() {
  host_with_both
  lab_neutron_db
  record_neutron
  teardown_neutron
  assert_eq "cp-imgtest-77
qdhcp-$OTHER
qrouter-$OTHER" "$(ls "$FAKE/netns")" "namespaces left"
  assert_eq "br-lab
brq${OTHER:0:11}
eth0
tap${OTHER:0:11}
vxlan-8" "$(ls "$FAKE/links")" "links left"
  assert_eq "NIPv4${OTHER:0:24}
NIPv6${OTHER:0:24}" "$(<"$FAKE/ipsets")" "ipsets left"
  assert_eq "neutronARP-tap${OTHER:0:11}" "$(<"$FAKE/ebchains")" "ebtables chains left"
  # someone else's chains (another neutron's, a longer agent name with the same start) and their jumps stay;
  # neutron-filter-top held only the lab's rule: gone with its jumps
  assert_eq "-P INPUT ACCEPT
-P FORWARD ACCEPT
-P OUTPUT ACCEPT
-N neutron-linuxbri-FORWARD
-N nlb-compute-10-x
-A FORWARD -j neutron-linuxbri-FORWARD
-A neutron-linuxbri-FORWARD -j ACCEPT
-A nlb-compute-10-x -j ACCEPT" "$(<"$FAKE/iptables.filter")" "iptables filter table left"
  assert_not_contains "$(<"$FAKE/log")" "$OTHER" "commands run"
  assert_eq "" "$(rec_list netns; rec_list ipset)" "records of deleted objects"
}

test_shared_neutron_chain_with_other_rules_stays() {
  host_with_both
  echo "-A neutron-filter-top -j neutron-linuxbri-local" >>"$FAKE/iptables.filter"
  teardown_iptables
  local t; t=$(<"$FAKE/iptables.filter")
  assert_contains "$t" "-N neutron-filter-top" rules
  assert_contains "$t" "-A FORWARD -j neutron-filter-top" rules
  assert_contains "$t" "-A neutron-filter-top -j neutron-linuxbri-local" rules
  assert_not_contains "$t" "nlb-compute-1-" rules
}

test_processes_in_the_labs_namespaces_are_killed_others_not() {
  local mine other
  mine=$(spawn) other=$(spawn)
  echo "$mine" >"$FAKE/netns/qdhcp-$LAB_NET"           # dnsmasq in the lab's namespace
  echo "$other" >"$FAKE/netns/qdhcp-$OTHER"
  rec_add netns "qdhcp-$LAB_NET"
  teardown_netns
  sleep 0.2
  ! alive "$mine" || fail "the process in the lab's namespace should be killed"
  alive "$other" || fail "the process in someone else's namespace must live"
  kill "$other"
}

test_only_recorded_processes_are_stopped() {
  local lab same_name stale
  lab=$(spawn) same_name=$(spawn) stale=$(spawn)
  rec_proc "$lab" ceph-mon.a
  rec_add proc "$stale" 12345 ceph-mgr.x              # its pid, but another start time: a reused pid
  stop_recorded_procs
  sleep 0.2
  ! alive "$lab" || fail "the recorded process should be stopped"
  alive "$same_name" || fail "an unrecorded sleep (same program) must live"
  alive "$stale" || fail "a reused pid must not be killed"
  assert_eq "" "$(rec_list proc)" "proc records after stop"
  kill "$same_name" "$stale"
}

test_stopping_by_name_leaves_other_records() {
  local a b
  a=$(spawn) b=$(spawn)
  rec_proc "$a" epmd; rec_proc "$b" corosync
  stop_recorded_procs epmd
  sleep 0.2
  ! alive "$a" || fail "epmd record should be stopped"
  alive "$b" || fail "corosync record must live"
  assert_contains "$(rec_list proc)" "$b" records
  kill "$b"
}

test_proc_tree_lists_descendants() {
  local parent
  setsid bash -c 'sleep 300 & sleep 300 & wait' </dev/null >/dev/null 2>&1 &
  parent=$!
  sleep 0.3
  local tree; tree=$(proc_tree "$parent")
  assert_eq 3 "$(wc -l <<<"$tree")" "processes in the tree ($tree)"
  kill_procs 1 <<<"$tree"
  sleep 0.2
  while read -r p _; do ! alive "$p" || fail "pid $p of the tree still alive"; done <<<"$tree"
}

test_purge_drops_only_recorded_databases_and_the_labs_images() {
  mkdir -p "$LAB_HOST_ROOT/var/lib/glance/images"
  touch "$LAB_HOST_ROOT/var/lib/glance/images/$LAB_NET" "$LAB_HOST_ROOT/var/lib/glance/images/$OTHER"
  rec_add db glance; rec_add db nova; rec_add dbuser "'os'@'localhost'"
  # shellcheck disable=SC2317  # called by teardown.sh's purge_databases, in place of lib.sh's
  mysql_root() {
    if [[ $* == *"SELECT id FROM glance.images"* ]]; then echo "$LAB_NET"; return; fi
    echo "mysql_root $*" >>"$FAKE/log"
  }
  purge_databases
  assert_eq "mysql_root -e DROP DATABASE IF EXISTS \`glance\`; DROP DATABASE IF EXISTS \`nova\`; DROP USER IF EXISTS 'os'@'localhost'; " \
    "$(grep mysql_root "$FAKE/log")" "SQL sent"
  assert_absent "$LAB_HOST_ROOT/var/lib/glance/images/$LAB_NET"
  assert_exists "$LAB_HOST_ROOT/var/lib/glance/images/$OTHER"
  assert_eq "" "$(rec_list db; rec_list dbuser)" "records after purge"
}

test_purge_paths_deletes_recorded_paths_only() {
  mkdir -p "$LAB_HOST_ROOT/etc/keystone/fernet-keys" "$LAB_HOST_ROOT/etc/keystone/other"
  rec_add path /etc/keystone/fernet-keys
  purge_paths
  assert_absent "$LAB_HOST_ROOT/etc/keystone/fernet-keys"
  assert_exists "$LAB_HOST_ROOT/etc/keystone/other"
}

# a takeover after the old checkout (with its ceph/pacemaker pid files) was deleted: the records still name its daemons
test_ceph_down_stops_recorded_daemons_without_pid_files() {
  # shellcheck source=scripts/lab/ceph.sh
  . "$HERE/../ceph.sh"
  local mon osd other
  mon=$(spawn) osd=$(spawn) other=$(spawn)           # other: someone's ceph-osd -i 0 would look the same to pgrep
  rec_proc "$mon" ceph-mon.a; rec_proc "$osd" ceph-osd.0
  local out; out=$(cmd_down)
  sleep 0.2
  ! alive "$mon" || fail "recorded ceph-mon should be stopped"
  ! alive "$osd" || fail "recorded ceph-osd should be stopped"
  alive "$other" || fail "an unrecorded process must live"
  assert_contains "$out" "stopped ceph daemons without pid files: $osd $mon" output
  kill "$other"
}

test_pacemaker_down_stops_recorded_daemons_and_children() {
  # shellcheck source=scripts/lab/pacemaker.sh
  . "$HERE/../pacemaker.sh"
  local pcmk child coro other
  pcmk=$(spawn) child=$(spawn) coro=$(spawn) other=$(spawn)
  rec_proc "$pcmk" pacemakerd; rec_proc "$child" pacemaker-child; rec_proc "$coro" corosync
  cmd_down >/dev/null
  sleep 0.2
  for p in "$pcmk" "$child" "$coro"; do ! alive "$p" || fail "recorded pid $p should be stopped"; done
  alive "$other" || fail "an unrecorded process must live"
  assert_eq "" "$(rec_list proc)" "proc records"
  kill "$other"
}
