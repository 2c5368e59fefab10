# computes_test.sh — LAB_COMPUTES=N and what derives from it (lib.sh set_computes/lab_computes). Run by run.sh.
# shellcheck shell=bash
# lib_with ENV... — source lib.sh afresh in a child with ENV set; print COMPUTES | OS_COMPUTE | OS_AGENTS
lib_with() {
  # shellcheck disable=SC2016  # expanded by the child shell
  env -u LAB_COMPUTES "$@" bash -c '. "$0/../lib.sh"; echo "${COMPUTES[*]}|${OS_COMPUTE[*]}|${OS_AGENTS[*]}"' "$HERE"
}

test_two_compute_hosts_by_default() {
  assert_eq "compute-1 compute-2|nova-compute-1 nova-compute-2|neutron-linuxbridge-agent-compute-1 neutron-linuxbridge-agent-compute-2 neutron-dhcp-agent neutron-l3-agent neutron-metadata-agent" \
    "$(lib_with)" "default"
}

test_lab_computes_3_derives_every_list() {
  assert_eq "compute-1 compute-2 compute-3|nova-compute-1 nova-compute-2 nova-compute-3|neutron-linuxbridge-agent-compute-1 neutron-linuxbridge-agent-compute-2 neutron-linuxbridge-agent-compute-3 neutron-dhcp-agent neutron-l3-agent neutron-metadata-agent" \
    "$(lib_with LAB_COMPUTES=3)" "LAB_COMPUTES=3"
  assert_eq "compute-1|nova-compute-1|neutron-linuxbridge-agent-compute-1 neutron-dhcp-agent neutron-l3-agent neutron-metadata-agent" \
    "$(lib_with LAB_COMPUTES=1)" "LAB_COMPUTES=1"
}

test_lab_computes_out_of_range_is_refused() {
  local v out
  for v in 0 4 two "1 2" compute-1; do
    out=$(lib_with "LAB_COMPUTES=$v" 2>&1) && fail "LAB_COMPUTES=$v was accepted: $out"
    assert_eq "lab: LAB_COMPUTES must be a number of compute hosts from 1 to 3, not '$v'" "$out" "LAB_COMPUTES=$v"
  done
}

test_the_count_up_sh_recorded_is_used_unless_lab_computes_is_set() {
  mkdir -p "$LAB_DIR/state"
  echo 3 >"$LAB_DIR/state/computes"
  assert_eq "compute-1 compute-2 compute-3" "$(lib_with | cut -d'|' -f1)" "recorded 3"
  assert_eq "compute-1" "$(lib_with LAB_COMPUTES=1 | cut -d'|' -f1)" "LAB_COMPUTES=1 over the recorded 3"
}

test_up_sh_records_the_count_and_health_gets_the_hosts() {
  # up.sh writes what it brought up for status/ctl/down.sh, and health.py takes the host names, not the count
  # shellcheck disable=SC2016  # the scripts' text, searched for literally
  grep -q 'echo "$LAB_COMPUTES" >"$LAB_COMPUTES_FILE"' "$HERE/../up.sh" || fail "up.sh does not record LAB_COMPUTES"
  local f
  for f in up.sh status.sh ctl; do
    # shellcheck disable=SC2016  # the scripts' text
    grep -q 'LAB_COMPUTE_HOSTS="${COMPUTES\[\*\]}"' "$HERE/../$f" || fail "$f does not pass LAB_COMPUTE_HOSTS to health.py"
    # shellcheck disable=SC2016  # the scripts' text
    ! grep -q 'LAB_COMPUTES="${COMPUTES' "$HERE/../$f" || fail "$f still passes host names as LAB_COMPUTES"
  done
  grep -q 'E.get("LAB_COMPUTE_HOSTS"' "$HERE/../health.py" || fail "health.py does not read LAB_COMPUTE_HOSTS"
}
