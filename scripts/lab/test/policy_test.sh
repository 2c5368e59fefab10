# policy_test.sh — /usr/sbin/policy-rc.d exists only while the lab's apt runs; a host's own is kept. Run by run.sh.
# shellcheck shell=bash
P=$LAB_HOST_ROOT/usr/sbin/policy-rc.d
# during — what the apt command sees: the policy's exit status and whether it is the lab's
during() {
  local rc=0
  sh "$P" || rc=$?
  echo "exit=$rc" >"$T/during"
  grep -c 'written by scripts/lab' "$P" >>"$T/during" || true
}

test_policy_rc_d_only_while_apt_runs() {
  with_policy_rc_d during || fail "with_policy_rc_d during"
  assert_eq $'exit=101\n1' "$(<"$T/during")" "policy during apt"
  assert_absent "$P"
}

test_policy_rc_d_removed_when_apt_fails() {
  local rc=0
  # shellcheck disable=SC2016  # $0 is the inner sh's
  with_policy_rc_d sh -c 'test -x "$0" && exit 7' "$P" || rc=$?
  assert_eq 7 "$rc" "apt's exit status passed on"
  assert_absent "$P"
}

test_hosts_own_exit_101_policy_is_used_and_kept() {
  mkdir -p "${P%/*}"
  printf '#!/bin/sh\n# docker: no services during build\nexit 101\n' >"$P"; chmod 755 "$P"; touch -d '2025-05-20' "$P"
  local before; before=$(stat -c '%a %Y %s' "$P"; md5sum <"$P")
  with_policy_rc_d during
  assert_eq $'exit=101\n0' "$(<"$T/during")" "the host's policy during apt"
  assert_eq "$before" "$(stat -c '%a %Y %s' "$P"; md5sum <"$P")" "the host's policy-rc.d after apt"
}

test_hosts_other_policy_is_set_aside_and_put_back() {
  mkdir -p "${P%/*}"
  printf '#!/bin/sh\nexit 0\n' >"$P"; chmod 750 "$P"
  with_policy_rc_d during
  assert_eq $'exit=101\n1' "$(<"$T/during")" "the lab's policy during apt"
  assert_eq $'#!/bin/sh\nexit 0' "$(<"$P")" "the host's policy-rc.d after apt"
  assert_eq 750 "$(stat -c %a "$P")" mode
  assert_absent "$LAB_HOST_ROOT/var/lib/cloudpulse-lab/backup/usr/sbin/policy-rc.d"
}

test_what_a_killed_apt_left_is_cleaned_next_time() {
  # a run killed with -9 during apt: the lab's policy in place, the host's in the backup
  mkdir -p "${P%/*}" "$LAB_HOST_ROOT/var/lib/cloudpulse-lab/backup/usr/sbin"
  printf '#!/bin/sh\nexit 0\n' >"$LAB_HOST_ROOT/var/lib/cloudpulse-lab/backup/usr/sbin/policy-rc.d"
  printf '#!/bin/sh\n%s\nexit 101\n' "$POLICY_RC_D_HEADER" >"$P"
  policy_rc_d_restore
  assert_eq $'#!/bin/sh\nexit 0' "$(<"$P")" "the host's policy-rc.d restored"
  # and the one the earlier install.sh left forever (same header, no backup)
  printf '#!/bin/sh\n# written by scripts/lab/install.sh: packages never start services; the lab does\nexit 101\n' >"$P"
  policy_rc_d_restore
  assert_absent "$P"
}
