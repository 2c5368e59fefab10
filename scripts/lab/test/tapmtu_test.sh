# tapmtu_test.sh — ctl's tap-mtu fault (lib.sh tap_mtu_*): only a neutron tap on a brq bridge, lowered and put back.
# Run by run.sh; sysfs is a directory under $LAB_HOST_ROOT, ip(8) the stub.
# shellcheck shell=bash
PORT=0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9
DEV=tap0a1b2c3d-4e
# fake_dev NAME MTU [tap] [MASTER] — a device in the fake sysfs
fake_dev() {
  local d=$SYS_NET/$1
  mkdir -p "$d"
  echo "$2" >"$d/mtu"
  [[ ${3:-} != tap ]] || touch "$d/tun_flags"
  [[ -z ${4:-} ]] || { mkdir -p "$SYS_NET/$4"; ln -s "../$4" "$d/master"; }
}
mtu_of() { cat "$SYS_NET/$1/mtu"; }

test_tap_mtu_lowered_and_restored() {
  fake_dev "$DEV" 8950 tap brq11112222-33
  assert_eq "$DEV: MTU 1400 (was 8950)" "$(tap_mtu_lower "$PORT" 1400)" "lower"
  assert_eq 1400 "$(mtu_of "$DEV")" "MTU after lowering"
  local rc=0 out; out=$(tap_mtu_status "$PORT") || rc=$?
  assert_eq "1 $DEV: MTU 1400, lowered (was 8950)" "$rc $out" "status while lowered"
  # a second, lower step keeps the first MTU to go back to
  tap_mtu_lower "$PORT" 1300 >/dev/null
  assert_eq "$DEV: MTU 8950 restored" "$(tap_mtu_restore "$PORT")" "restore"
  assert_eq 8950 "$(mtu_of "$DEV")" "MTU after restoring"
  assert_eq "$DEV: MTU 8950" "$(tap_mtu_status "$PORT")" "status after restoring"
  assert_eq "$DEV: not lowered, nothing to restore" "$(tap_mtu_restore "$PORT")" "restore again"
  assert_contains "$(<"$FAKE/log")" "ip link set dev $DEV mtu 1400" "ip calls"
}

test_tap_mtu_of_a_deleted_vm_forgets_it() {
  fake_dev "$DEV" 1450 tap brq11112222-33
  tap_mtu_lower "$PORT" 1400 >/dev/null
  rm -rf "${SYS_NET:?}/$DEV"
  assert_eq "$DEV: gone (its VM was deleted), nothing to restore" "$(tap_mtu_restore "$PORT")" "restore of a gone tap"
  assert_absent "$TAP_MTU_DIR/$DEV"
}

# refused CMD... — CMD must die (in a subshell) with the message on stdin; nothing may reach ip(8)
refused() {
  local want out rc=0
  want=$(cat)
  out=$("$@" 2>&1) || rc=$?
  ((rc != 0)) || fail "$* was accepted: $out"
  assert_eq "lab: $want" "$out" "$*"
  assert_not_contains "$(<"$FAKE/log")" "mtu" "ip calls after: $*"
}

test_tap_mtu_refuses_what_is_not_a_lab_tap() {
  refused tap_mtu_lower not-a-port 1400 <<<"'not-a-port' is not a neutron port id (a UUID)"
  refused tap_mtu_lower "$PORT" 1400 <<<"no device $DEV (is the port bound to a running VM?)"
  fake_dev "$DEV" 1450 "" brq11112222-33                       # exists, but no tun_flags: a veth, say
  refused tap_mtu_lower "$PORT" 1400 <<<"$DEV is not a tap device"
  rm -rf "${SYS_NET:?}/$DEV"; fake_dev "$DEV" 1450 tap virbr0   # a tap, but of someone else's bridge
  refused tap_mtu_lower "$PORT" 1400 <<<"$DEV is not a port of a neutron bridge (brq…): its master is 'virbr0'"
  rm -rf "${SYS_NET:?}/$DEV"; fake_dev "$DEV" 1450 tap         # on no bridge at all
  refused tap_mtu_lower "$PORT" 1400 <<<"$DEV is not a port of a neutron bridge (brq…): its master is 'none'"
  refused lab_tap eth0 <<<"'eth0' is not a neutron tap name (tap + a port id's first 11 characters)"
  rm -rf "${SYS_NET:?}/$DEV"; fake_dev "$DEV" 1450 tap brq11112222-33
  refused tap_mtu_lower "$PORT" 9000 <<<"tap-mtu only lowers an MTU: $DEV has 1450, 9000 is more"
  refused tap_mtu_lower "$PORT" 60 <<<"the MTU must be a number from 68, not '60'"
  refused tap_mtu_lower "$PORT" 1400x <<<"the MTU must be a number from 68, not '1400x'"
  assert_eq 1450 "$(mtu_of "$DEV")" "MTU untouched"
}
