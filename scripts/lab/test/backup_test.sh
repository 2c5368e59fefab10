# backup_test.sh — host files the lab replaces (HAProxy's config, the Pacemaker CIB, corosync state) are kept
# before the first replacement and put back by down.sh --purge (host_restore). Run by run.sh.
# shellcheck shell=bash
R=$LAB_HOST_ROOT

test_haproxy_cfg_backed_up_once_and_restored() {
  mkdir -p "$R/etc/haproxy"
  printf 'global\n  # the host operator'"'"'s haproxy\n' >"$R/etc/haproxy/haproxy.cfg"; chmod 640 "$R/etc/haproxy/haproxy.cfg"
  host_backup /etc/haproxy/haproxy.cfg
  echo "# written by scripts/lab/configure.sh" >"$R/etc/haproxy/haproxy.cfg"
  host_backup /etc/haproxy/haproxy.cfg                # a second configure run keeps the first backup
  host_restore_all
  assert_eq $'global\n  # the host operator\'s haproxy' "$(<"$R/etc/haproxy/haproxy.cfg")" "restored haproxy.cfg"
  assert_eq 640 "$(stat -c %a "$R/etc/haproxy/haproxy.cfg")" mode
  assert_eq "" "$(rec_list backup)" "backup records after restore"
}

test_a_file_the_host_did_not_have_is_removed_on_restore() {
  host_backup /etc/haproxy/haproxy.cfg
  mkdir -p "$R/etc/haproxy"; echo "# written by scripts/lab/configure.sh" >"$R/etc/haproxy/haproxy.cfg"
  host_restore_all
  assert_absent "$R/etc/haproxy/haproxy.cfg"
}

# pacemaker.sh's decisions, with its functions (sourced: it runs nothing then)
# shellcheck source=scripts/lab/pacemaker.sh
pacemaker_functions() { . "$HERE/../pacemaker.sh"; }

test_foreign_cib_is_kept_and_restored_by_wipe() {
  pacemaker_functions
  mkdir -p "$R/var/lib/pacemaker/cib" "$R/var/lib/pacemaker/pengine" "$R/var/lib/corosync"
  echo '<cib><nvpair name="cluster-name" value="prod"/></cib>' >"$R/var/lib/pacemaker/cib/cib.xml"
  echo ring >"$R/var/lib/corosync/ringid_1"
  assert_eq foreign "$(cib_state)" "cib state"
  keep_host_cluster_state >/dev/null
  assert_absent "$R/var/lib/pacemaker/cib/cib.xml"     # cleared for the lab's cluster
  # the lab's cluster runs and writes its CIB
  echo '<cib><nvpair name="cluster-name" value="cloudpulse-lab"/></cib>' >"$R/var/lib/pacemaker/cib/cib.xml"
  echo 1 >"$R/var/lib/pacemaker/pengine/pe-input-1.bz2"
  mkdir -p "$R/run/resource-agents"; touch "$R/run/resource-agents/Dummy-cp-dummy.state" "$R/run/resource-agents/Dummy-other.state"
  cmd_wipe >/dev/null
  assert_contains "$(<"$R/var/lib/pacemaker/cib/cib.xml")" 'value="prod"' "restored CIB"
  assert_eq ring "$(<"$R/var/lib/corosync/ringid_1")" "restored corosync state"
  assert_absent "$R/var/lib/pacemaker/pengine/pe-input-1.bz2"
  assert_absent "$R/run/resource-agents/Dummy-cp-dummy.state"
  assert_exists "$R/run/resource-agents/Dummy-other.state"
}

test_second_foreign_cib_after_the_backup_is_refused() {
  pacemaker_functions
  mkdir -p "$R/var/lib/pacemaker/cib"
  keep_host_cluster_state                             # no CIB yet: the (empty) host state is kept
  echo '<cib><nvpair name="cluster-name" value="other"/></cib>' >"$R/var/lib/pacemaker/cib/cib.xml"
  local err rc=0
  err=$(keep_host_cluster_state 2>&1) || rc=$?
  assert_eq 1 "$rc" "exit status"
  assert_contains "$err" "is another cluster's (not cloudpulse-lab)" message
  assert_exists "$R/var/lib/pacemaker/cib/cib.xml"
}

test_labs_cib_from_before_backups_is_wiped_not_backed_up() {
  pacemaker_functions
  mkdir -p "$R/var/lib/pacemaker/cib"
  echo '<cib><nvpair name="cluster-name" value="cloudpulse-lab"/></cib>' >"$R/var/lib/pacemaker/cib/cib.xml"
  keep_host_cluster_state
  assert_eq "" "$(rec_list backup)" "backups of the lab's own CIB"
  cmd_wipe >/dev/null
  assert_absent "$R/var/lib/pacemaker/cib/cib.xml"
  assert_exists "$R/var/lib/pacemaker/cib"
}
