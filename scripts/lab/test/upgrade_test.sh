# upgrade_test.sh — scripts/lab/upgrade.sh's logic on a fake dpkg/apt and a temporary cache. Run by run.sh.
# shellcheck shell=bash
# shellcheck source=scripts/lab/upgrade.sh
. "$HERE/../upgrade.sh"
export LAB_DEB_CACHE=$T/cache
DEB_CACHE=$LAB_DEB_CACHE
mkdir -p "$T/bin"
export PATH=$T/bin:$PATH
# dpkg-query prints $FAKE/dpkg (already in its -f format); apt-cache madison the lines of $FAKE/madison for the names
# asked; apt-get only logs (a download must not happen where the cache has everything)
cat >"$T/bin/dpkg-query" <<'EOF'
#!/bin/sh
cat "$FAKE/dpkg"
EOF
cat >"$T/bin/apt-cache" <<'EOF'
#!/bin/bash
[[ $1 == madison ]] || { echo "apt-cache stub: unexpected: $*" >&2; exit 2; }
shift
for p; do grep "^ *$p |" "$FAKE/madison" || true; done
EOF
cat >"$T/bin/apt-get" <<'EOF'
#!/bin/sh
echo "apt-get $*" >>"$FAKE/log"
exit 1
EOF
chmod +x "$T/bin"/*
OLD=2:26.2.2-1~deb12u4 NEW=2:26.2.2-1~deb12u5 MOLD=1:10.11.18-0+deb12u1 MNEW=1:10.11.19-0+deb12u1
installed() {                                         # installed NOVA_VERSION MARIADB_VERSION
  printf '%s\n' "ii 	nova-api	nova	$1" "ii 	python3-nova	nova	$1" "ii 	libmariadb3	mariadb	$2" \
    "ii 	galera-4	galera-4	26.4.23-0+deb12u1" "ii 	placement-api	placement	1:8.0.0-1" \
    "rc 	nova-compute-lxc	nova	$1" >"$FAKE/dpkg"
}
fits() { [[ $1 == libmariadb3 && $2 == 1:* || $1 != libmariadb3 && $2 != 1:* ]]; }   # fits PKG VERSION
mirror() {                                            # mirror VERSION... — madison offers these of the three packages
  local v p; : >"$FAKE/madison"
  for v; do
    for p in nova-api python3-nova libmariadb3; do
      fits "$p" "$v" || continue
      printf ' %s | %s | http://deb.debian.org/debian bookworm/main amd64 Packages\n' "$p" "$v" >>"$FAKE/madison"
    done
  done
}
cache() {                                             # cache VERSION... — .debs of the three packages in the cache
  local v p f; mkdir -p "$DEB_CACHE"
  for v; do
    for p in nova-api python3-nova libmariadb3; do
      fits "$p" "$v" || continue
      f=${p}_${v//:/%3a}_all.deb
      echo "deb $p $v" >"$DEB_CACHE/$f"
      (cd "$DEB_CACHE" && sha256sum "$f") >>"$DEB_CACHE/SHA256SUMS"
    done
  done
}

test_upgrade_table_is_the_installed_binaries_of_the_sources() {
  installed "$NEW" "$MNEW"
  assert_eq "libmariadb3 mariadb $MNEW $MOLD $MNEW
nova-api nova $NEW $OLD $NEW
python3-nova nova $NEW $OLD $NEW" "$(upg_table)" "table (galera-4, placement and a removed package are not in the set)"
}

test_upgrade_on_and_changed() {
  installed "$NEW" "$MOLD"
  local t; t=$(upg_table)
  ! upg_on old "$t" || fail "on old with nova at NEW"
  ! upg_on new "$t" || fail "on new with mariadb at OLD"
  assert_eq nova "$(upg_changed old "$t")" "sources not at OLD"
  assert_eq mariadb "$(upg_changed new "$t")" "sources not at NEW"
  installed "$OLD" "$MOLD"
  upg_on old "$(upg_table)" || fail "not on old"
  ! upg_on old "" || fail "an empty set is on no version"
}

test_upgrade_services_in_restart_order() {
  set_computes 2
  assert_eq "mariadb haproxy keystone nova-api nova-api-metadata neutron-server nova-conductor nova-scheduler nova-compute-1 nova-compute-2 neutron-linuxbridge-agent-compute-1 neutron-linuxbridge-agent-compute-2 neutron-dhcp-agent neutron-l3-agent neutron-metadata-agent" \
    "$(services_of neutron nova keystone haproxy mariadb | paste -sd' ')" "services of the changed sources"
  assert_eq "glance-api" "$(services_of glance)" "glance"
}

test_upgrade_prepare_exits_3_when_neither_mirror_nor_cache_has_the_old_versions() {
  installed "$NEW" "$MNEW"
  mirror "$NEW" "$MNEW"
  local rc=0 out
  # shellcheck disable=SC2119  # prepare without arguments
  out=$(cmd_prepare 2>&1) || rc=$?
  assert_eq 3 "$rc" "exit status"
  assert_eq "lab: the mirror no longer has the OLD versions (libmariadb3=$MOLD and 2 more), and the cache $T/cache does not either: no upgrade path" "$out" "message"
  assert_eq "" "$(<"$FAKE/log")" "nothing downloaded or installed"
}

test_upgrade_cache_is_used_when_the_mirror_dropped_the_old_versions() {
  installed "$NEW" "$MNEW"
  mirror "$NEW" "$MNEW"
  cache "$OLD" "$MOLD" "$NEW" "$MNEW"
  upg_cache old "$(upg_table)" || fail "upg_cache old"
  upg_cache new "$(upg_table)" || fail "upg_cache new"
  assert_eq "" "$(<"$FAKE/log")" "no download"
  assert_eq "$T/cache/libmariadb3_1%3a10.11.18-0+deb12u1_all.deb
$T/cache/nova-api_2%3a26.2.2-1~deb12u4_all.deb
$T/cache/python3-nova_2%3a26.2.2-1~deb12u4_all.deb" "$(upg_files old "$(upg_table)")" "the OLD .debs"
}

test_upgrade_a_corrupt_cached_deb_is_refused() {
  installed "$NEW" "$MNEW"
  cache "$OLD" "$MOLD"
  echo garbage >>"$DEB_CACHE/nova-api_2%3a26.2.2-1~deb12u4_all.deb"
  local rc=0 out
  out=$( (upg_files old "$(upg_table)" >/dev/null) 2>&1) || rc=$?
  assert_eq 1 "$rc" "exit status"
  assert_eq "lab: $T/cache/nova-api_2%3a26.2.2-1~deb12u4_all.deb does not match its checksum in $T/cache/SHA256SUMS (delete it: the next prepare downloads it again)" "$out" "message"
}

test_upgrade_versions_says_where_each_version_is() {
  installed "$NEW" "$MNEW"
  mirror "$NEW" "$MNEW" "$MOLD"
  cache "$OLD"
  local out; out=$(cmd_versions)
  assert_contains "$out" "nova-api                     $NEW       $OLD (cache)       $NEW (mirror)"
  assert_contains "$out" "libmariadb3                  $MNEW     $MOLD (mirror)    $MNEW (mirror)"
  assert_eq 4 "$(wc -l <<<"$out")" "header + 3 packages"
}

test_upgrade_run_exits_3_when_not_on_the_old_versions() {
  installed "$NEW" "$MNEW"
  local rc=0 out
  # shellcheck disable=SC2119  # run without arguments
  out=$(cmd_run 2>&1) || rc=$?
  assert_eq 3 "$rc" "exit status"
  assert_contains "$out" "lab: nothing to upgrade: the lab is not on the OLD versions (libmariadb3=$MNEW nova-api=$NEW"
  # shellcheck disable=SC2016  # backquotes of the message
  assert_contains "$out" 'run `scripts/lab/upgrade.sh prepare` first'
}

test_upgrade_report_json_shape() {
  printf 'nova-api %s %s\n' "$OLD" "$NEW" >"$T/packages"
  printf 'packages (NEW)\t2026-12-02T17:00:00.000Z\t41.25\nrestart nova-api\t2026-12-02T17:01:00.000Z\t9.5\n' >"$T/steps"
  printf '{"down_s": 6.4, "backend_down_s": 5.8, "transitions": [{"t": 0.5, "what": "backend", "state": "DOWN"}], "samples": 60}' >"$T/p.json"
  printf 'nova-api\t127.0.0.10:8774\t%s\n' "$T/p.json" >"$T/apis"
  "$PY" "$LAB_BIN/upgrade.py" report 2026-12-02T17:00:00.000Z 123.4567 "$T/packages" "$T/steps" "$T/apis" >"$T/r.json"
  assert_eq '{"api_downtime":[{"backend_down_s":5.8,"down_s":6.4,"frontend":"127.0.0.10:8774","service":"nova-api","transitions":[{"state":"DOWN","t":0.5,"what":"backend"}]}],"duration_s":123.457,"packages":[{"from":"2:26.2.2-1~deb12u4","name":"nova-api","to":"2:26.2.2-1~deb12u5"}],"started":"2026-12-02T17:00:00.000Z","steps":[{"duration_s":41.25,"name":"packages (NEW)","started":"2026-12-02T17:00:00.000Z"},{"duration_s":9.5,"name":"restart nova-api","started":"2026-12-02T17:01:00.000Z"}]}' \
    "$(jq -cS . "$T/r.json")" "report"
}

test_upgrade_probe_counts_downtime_per_sample() {
  # samples every 0.2 s: answers, 3 without an answer (0.6 s), answers; the backend DOWN for 2 samples (0.4 s): "UP 1/2"
  # (one check failed) still serves
  assert_eq '{"down_s": 0.6, "backend_down_s": 0.4, "transitions": [{"t": 0.2, "what": "frontend", "state": "no answer"}, {"t": 0.2, "what": "backend", "state": "UP 1/2"}, {"t": 0.4, "what": "backend", "state": "DOWN"}, {"t": 0.8, "what": "frontend", "state": "answers"}, {"t": 0.8, "what": "backend", "state": "UP"}], "samples": 5}' \
    "$(cd "$LAB_BIN" && "$PY" -c 'import json, upgrade
print(json.dumps(upgrade.summarize([(0.0, True, "UP"), (0.2, False, "UP 1/2"), (0.4, False, "DOWN"), (0.6, False, "DOWN"), (0.8, True, "UP")], 1.0)))')" "summary"
}

# prepare --no-start (up.sh, before it starts services) with the apt and the daemons faked: $FAKE/running lists what runs
# shellcheck disable=SC2317  # the fakes are called by upgrade.sh's functions
fake_daemons() {
  running() { grep -qx "$1" "$FAKE/running" 2>/dev/null; }
  stop_service() { echo "stop $1" >>"$FAKE/log"; }
  upg_install() { echo "install $1" >>"$FAKE/log"; }
}

test_upgrade_prepare_no_start_on_a_fresh_machine_installs_only() {
  installed "$NEW" "$MNEW"
  cache "$OLD" "$MOLD" "$NEW" "$MNEW"
  fake_daemons
  : >"$FAKE/running"
  cmd_prepare --no-start >/dev/null || fail "prepare --no-start"
  assert_eq "install old" "$(<"$FAKE/log")" "what prepare did"
}

test_upgrade_prepare_no_start_stops_the_changed_daemons_that_run() {
  installed "$NEW" "$MOLD"                            # nova to go back; mariadb already there
  cache "$OLD" "$MOLD" "$NEW" "$MNEW"
  fake_daemons
  set_computes 2
  printf '%s\n' mariadb keystone nova-api nova-compute-2 >"$FAKE/running"
  cmd_prepare --no-start >/dev/null || fail "prepare --no-start"
  assert_eq $'stop nova-api\nstop nova-compute-2\ninstall old' "$(<"$FAKE/log")" "what prepare did"
}

test_upgrade_prepare_is_a_no_op_when_on_the_old_versions_with_both_cached() {
  installed "$OLD" "$MOLD"
  cache "$OLD" "$MOLD" "$NEW" "$MNEW"
  fake_daemons
  assert_contains "$(cmd_prepare)" "prepare: already on the OLD versions (3 packages)"
  assert_eq "" "$(<"$FAKE/log")" "nothing done"
}
