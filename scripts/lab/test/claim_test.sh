# claim_test.sh — the marker: a host with foreign OpenStack/MariaDB/Ceph/Pacemaker state is refused before the
# lab's apt runs; the lab's own (marker, or a lab from before the marker) is accepted. Run by run.sh.
# shellcheck shell=bash
R=$LAB_HOST_ROOT

foreign_host() {                                      # a host with someone else's MariaDB, Ceph, Pacemaker, nova
  mkdir -p "$R/var/lib/mysql/mysql" "$R/etc/ceph" "$R/var/lib/pacemaker/cib" "$R/etc/nova"
  echo "[global]" >"$R/etc/ceph/ceph.conf"
  echo "<cib/>" >"$R/var/lib/pacemaker/cib/cib.xml"
  printf '[database]\nconnection = mysql+pymysql://nova:x@db/nova\n' >"$R/etc/nova/nova.conf"
}

test_fresh_host_is_claimed_with_a_marker() {
  host_claim "$LAB_DIR" "$LAB_DIR/secrets.env" || fail "a fresh host must be claimed"
  assert_exists "$R/var/lib/cloudpulse-lab/marker"
  assert_contains "$(<"$R/var/lib/cloudpulse-lab/marker")" "how fresh host" marker
}

test_foreign_state_is_refused_with_one_line_naming_it() {
  foreign_host
  local err rc=0
  err=$(host_claim "$LAB_DIR" "$LAB_DIR/secrets.env" 2>&1) || rc=$?
  assert_eq 1 "$rc" "exit status"
  assert_eq "lab: refusing to start: this host has state that no cloudpulse lab created (no /var/lib/cloudpulse-lab/marker): MariaDB: /var/lib/mysql is not empty; Ceph: /etc/ceph/ceph.conf exists; Pacemaker: /var/lib/pacemaker/cib/cib.xml exists; OpenStack: /etc/nova/nova.conf has a database connection. The lab would reconfigure, stop and delete it: run the lab on a machine of its own, remove that state, or, if it is disposable, let the lab take it: LAB_TAKE_HOST=1 make lab-up" "$err" message
  assert_absent "$R/var/lib/cloudpulse-lab/marker"
}

test_each_kind_of_foreign_state_is_named() {
  mkdir -p "$R/var/lib/ceph/mon/ceph-a" "$R/etc/corosync" "$R/etc/keystone/fernet-keys" "$R/var/lib/glance/images" \
    "$R/run/netns" "$R/etc/neutron"
  printf 'totem {\n\tcluster_name: prod\n}\n' >"$R/etc/corosync/corosync.conf"
  touch "$R/etc/keystone/fernet-keys/0" "$R/var/lib/glance/images/4f1c" "$R/run/netns/qrouter-1234"
  printf '[database]\nconnection = postgresql://n@db/neutron\n' >"$R/etc/neutron/neutron.conf"
  local found; found=$(foreign_state)
  assert_eq "Ceph: /var/lib/ceph/mon is not empty
Pacemaker: /etc/corosync/corosync.conf configures a cluster
OpenStack: /etc/neutron/neutron.conf has a database connection
OpenStack: /etc/keystone/fernet-keys exists
OpenStack: /var/lib/glance/images is not empty
OpenStack: neutron namespace qrouter-1234" "$found" "foreign state"
}

test_debian_package_defaults_are_not_foreign() {
  # what installed-but-unconfigured packages leave: example corosync.conf, empty state dirs, no DB connection
  mkdir -p "$R/etc/corosync" "$R/var/lib/ceph/mon" "$R/var/lib/ceph/osd" "$R/etc/keystone" "$R/var/lib/pacemaker/cib" \
    "$R/var/lib/mysql"
  printf 'totem {\n\tcluster_name: debian\n}\n' >"$R/etc/corosync/corosync.conf"
  printf '[database]\n#connection = <None>\nconnection = sqlite:////var/lib/keystone/keystone.db\n' >"$R/etc/keystone/keystone.conf"
  assert_eq "" "$(foreign_state)" "foreign state"
  host_claim "$LAB_DIR" "$LAB_DIR/secrets.env" || fail "package defaults must not block the lab"
}

test_marker_accepts_the_labs_state() {
  foreign_host
  mkdir -p "$R/var/lib/cloudpulse-lab"; echo "claimed earlier" >"$R/var/lib/cloudpulse-lab/marker"
  host_claim "$LAB_DIR" "$LAB_DIR/secrets.env" || fail "a marked host is the lab's"
  assert_eq "claimed earlier" "$(<"$R/var/lib/cloudpulse-lab/marker")" "marker kept as it was"
}

test_owner_file_migrates_a_lab_from_before_the_marker() {
  foreign_host
  mkdir -p "$R/var/lib/cloudpulse-lab"; echo /work/main/.lab >"$R/var/lib/cloudpulse-lab/owner"
  host_claim "$LAB_DIR" "$LAB_DIR/secrets.env" || fail "the owner file proves a cloudpulse lab made this state"
  assert_contains "$(<"$R/var/lib/cloudpulse-lab/marker")" "how migrated: a cloudpulse lab made before the marker (owner /work/main/.lab)" marker
  # what that lab made, so that teardown can remove it
  local r; r=$(<"$R/var/lib/cloudpulse-lab/records")
  for want in "db keystone" "db nova_cell0" "dbuser 'os'@'127.0.0.1'" "link br-lab" "iptprefix nlb-compute-2" \
    "path /etc/keystone/fernet-keys"; do
    assert_contains "$r" "$want" records
  done
}

test_checkout_secrets_migrate_a_lab_from_before_owners() {
  foreign_host
  echo "ADMIN_PASS=x" >"$LAB_DIR/secrets.env"
  host_claim "$LAB_DIR" "$LAB_DIR/secrets.env" || fail "this checkout's secrets prove its lab made this state"
  assert_contains "$(<"$R/var/lib/cloudpulse-lab/marker")" "(secrets in $LAB_DIR)" marker
}

test_take_host_override_claims_and_says_what_it_took() {
  foreign_host
  LAB_TAKE_HOST=1 host_claim "$LAB_DIR" "$LAB_DIR/secrets.env" || fail "LAB_TAKE_HOST=1 must claim"
  assert_contains "$(<"$R/var/lib/cloudpulse-lab/marker")" "taken with LAB_TAKE_HOST=1 although it had: MariaDB: /var/lib/mysql is not empty; Ceph" marker
}

test_records_are_deduplicated_and_deleted_exactly() {
  rec_add db nova; rec_add db nova; rec_add db nova_api; rec_add link tap1234
  assert_eq $'nova\nnova_api' "$(rec_list db)" "db records"
  rec_del db nova
  assert_eq "nova_api" "$(rec_list db)" "after rec_del"
  rec_has link tap1234 || fail "rec_has link tap1234"
  ! rec_has link tap123 || fail "rec_has must match whole lines"
}

# --- the scripts themselves ---------------------------------------------------------------------------------------
test_up_claims_the_host_before_its_apt_and_takeover() {
  local up=$HERE/../up.sh claim install takeover
  claim=$(grep -n '^host_claim ' "$up" | cut -d: -f1)
  install=$(grep -n '^"[$]LAB_BIN/install.sh"' "$up" | cut -d: -f1)
  takeover=$(grep -n '^take_over$' "$up" | cut -d: -f1)
  [[ -n $claim && -n $install && -n $takeover ]] || fail "up.sh: host_claim, take_over or install.sh call not found"
  ((claim < takeover && takeover < install)) || fail "up.sh: host_claim (line $claim) must come before take_over ($takeover) and install.sh ($install)"
}

test_no_teardown_by_pattern_in_the_lab_scripts() {
  # what could match someone else's: name patterns for processes, namespace listings piped to a filter, globs on
  # host paths; the lab's own directories ($LAB_DIR/…, $D/…) may be globbed
  local hits
  hits=$(grep -nE 'pkill|killall|pgrep (-x )?-f|ip netns list *\| *(awk|grep)|rm -r?f[^|;#]* /[^ ]*\*|DROP DATABASE [a-z]' \
    "$HERE"/../*.sh "$HERE/../ctl" || true)
  assert_eq "" "$hits" "teardown by pattern"
}
