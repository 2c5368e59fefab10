#!/usr/bin/env bash
# upgrade.sh — a real minor upgrade of the lab's control plane: Debian 12's point release (bookworm, OLD) →
# its security updates (bookworm-security, NEW), for the sources nova, neutron, keystone, glance, mariadb, haproxy.
#
#   scripts/lab/upgrade.sh versions          one line per package of the set: installed, old, new, where each is
#   scripts/lab/upgrade.sh prepare           (make lab-downgrade) the lab on the OLD versions, OLD and NEW .debs in
#                                            the cache; restarts what changed and waits for status.sh; ~1 s when
#                                            already so. --no-start (up.sh, before it starts services): stops the
#                                            changed daemons that run instead of restarting them
#   scripts/lab/upgrade.sh run [--report F]  (make lab-upgrade) OLD → NEW as an operator of a single-controller
#                                            cloud: packages (nothing starts), configuration, mariadb, database
#                                            migrations, haproxy, each API in turn behind HAProxy (its downtime
#                                            measured), nova-conductor/scheduler, computes one at a time, agents
#
# The set: every installed binary package built from those sources (dpkg-query ${source:Package}). The .debs of
# both versions are kept in $DEB_CACHE (/var/cache/cloudpulse-lab/debs, recorded as "cache" in the lab's records;
# down.sh --purge keeps it, like the packages): the mirror drops the point release's versions at the next one.
# Exit codes: 0 done; 1 failed (the step is named; every lab service is started again); 3 cannot: prepare when a
# version is neither in the mirror nor in the cache, run when the lab is not on the OLD versions.
# shellcheck source=scripts/lab/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# source → "OLD NEW" (apt-cache policy: bookworm and bookworm-security)
declare -A UPG_VERSIONS=(
  [nova]="2:26.2.2-1~deb12u4 2:26.2.2-1~deb12u5"
  [neutron]="2:21.0.0-7 2:21.0.0-7+deb12u1"
  [keystone]="2:22.0.2-0+deb12u3 2:22.0.2-0+deb12u6"
  [glance]="2:25.1.0-2+deb12u3 2:25.1.0-2+deb12u5"
  [mariadb]="1:10.11.18-0+deb12u1 1:10.11.19-0+deb12u1"
  [haproxy]="2.6.12-1+deb12u3 2.6.12-1+deb12u4"
)
DEB_CACHE_PATH=/var/cache/cloudpulse-lab/debs
DEB_CACHE=${LAB_DEB_CACHE:-$HOST_ROOT$DEB_CACHE_PATH}
UPG_LOG=$LAB_LOG/upgrade
# up.sh's one-time setup markers ($LAB_STATE/NAME.done holds PKG's version): NAME:PKG
UPG_MARKERS=(keystone:keystone glance:glance-common nova:nova-common neutron:neutron-common)

# --- the package set --------------------------------------------------------------------------------------------
# upg_table → "PKG SOURCE INSTALLED OLD NEW" for every installed binary package of the set, sorted
upg_table() {
  local st pkg src ver old new
  while IFS=$'\t' read -r st pkg src ver; do
    [[ $st == "ii " && -n ${UPG_VERSIONS[$src]:-} ]] || continue
    read -r old new <<<"${UPG_VERSIONS[$src]}"
    printf '%s %s %s %s %s\n' "$pkg" "$src" "$ver" "$old" "$new"
  done < <(dpkg-query -W -f='${db:Status-Abbrev}\t${Package}\t${source:Package}\t${Version}\n' 2>/dev/null || true) | sort
}
# upg_col old|new → the table's column of that version
upg_col() { case $1 in old) echo 4 ;; new) echo 5 ;; *) die "upg_col: old or new, not '$1'" ;; esac; }
# upg_on old|new TABLE — every package of TABLE is installed at that version (and the set is not empty)
upg_on() {
  [[ -n $2 ]] && awk -v c="$(upg_col "$1")" '$3 != $c {bad=1} END {exit bad}' <<<"$2"
}
# upg_changed old|new TABLE → the sources with a package not at that version
upg_changed() { awk -v c="$(upg_col "$1")" '$3 != $c {print $2}' <<<"$2" | sort -u; }

# --- the cache --------------------------------------------------------------------------------------------------
# deb_file PKG VERSION → the cached .deb (apt-get download's name: the epoch's ':' is "%3a")
deb_file() {
  local f
  for f in "$DEB_CACHE/${1}_${2//:/%3a}_"*.deb; do [[ -f $f ]] && { echo "$f"; return 0; }; done
  return 1
}
# mirror_versions PKG... → "PKG VERSION" for every version the mirror offers (apt-cache madison; deb-src lines skipped)
mirror_versions() {
  apt-cache madison "$@" 2>/dev/null | awk -F'|' '$3 !~ /Sources/ {gsub(/ /, "", $1); gsub(/ /, "", $2); print $1, $2}'
}
# where PKG VERSION AVAIL → cache, mirror or missing (AVAIL: mirror_versions' output)
where() {
  if deb_file "$1" "$2" >/dev/null; then echo cache
  elif grep -qxF "$1 $2" <<<"$3"; then echo mirror
  else echo missing; fi
}

# upg_cache old|new TABLE — every package of TABLE at that version in the cache (downloads what the mirror has);
# returns 3 with one line when some is neither in the mirror nor in the cache
upg_cache() {
  local which=$1 table=$2 c pkg ver avail w need=() fetch=() missing=()
  c=$(upg_col "$which")
  while read -r pkg ver; do deb_file "$pkg" "$ver" >/dev/null || need+=("$pkg=$ver"); done < <(awk -v c="$c" '{print $1, $c}' <<<"$table")
  ((${#need[@]})) || return 0
  avail=$(mirror_versions "${need[@]%%=*}")
  for w in "${need[@]}"; do
    if grep -qxF "${w%%=*} ${w#*=}" <<<"$avail"; then fetch+=("$w"); else missing+=("$w"); fi
  done
  if ((${#missing[@]})); then
    printf 'lab: the mirror no longer has the %s versions (%s%s), and the cache %s does not either: no upgrade path\n' \
      "${which^^}" "${missing[0]}" "${missing[1]:+ and $((${#missing[@]} - 1)) more}" "$DEB_CACHE" >&2
    return 3
  fi
  mkdir -p "$DEB_CACHE" "$LAB_LOG"
  rec_add cache "${DEB_CACHE#"$HOST_ROOT"}"
  local tmp f log=$LAB_LOG/upgrade-download.log
  tmp=$(mktemp -d "$DEB_CACHE/.download.XXXXXX")
  if ! (cd "$tmp" && apt-get -q -o APT::Sandbox::User=root download "${fetch[@]}") >"$log" 2>&1; then
    rm -rf "$tmp"; tail -5 "$log" >&2
    echo "lab: downloading ${#fetch[@]} ${which^^} .debs failed (log: $log)" >&2
    return 1
  fi
  for f in "$tmp"/*.deb; do
    (cd "$tmp" && sha256sum "${f##*/}") >>"$DEB_CACHE/SHA256SUMS"
    mv -f "$f" "$DEB_CACHE/"
  done
  rm -rf "$tmp"
  say "cache: ${#fetch[@]} ${which^^} .debs downloaded into $DEB_CACHE"
}
# upg_cached old|new TABLE — every package of TABLE has a .deb of that version in the cache (names only: fast)
upg_cached() {
  local pkg ver
  while read -r pkg ver; do deb_file "$pkg" "$ver" >/dev/null || return 1; done < <(awk -v c="$(upg_col "$1")" '{print $1, $c}' <<<"$2")
}
# upg_files old|new TABLE → the cached .debs of that version, each checked against SHA256SUMS
upg_files() {
  local c pkg ver f sum
  c=$(upg_col "$1")
  while read -r pkg ver; do
    f=$(deb_file "$pkg" "$ver") || die "$pkg=$ver is not in the cache $DEB_CACHE"
    sum=$(awk -v n="${f##*/}" '$2 == n {print $1}' "$DEB_CACHE/SHA256SUMS" 2>/dev/null | tail -1)
    [[ -n $sum && $(sha256sum <"$f" | cut -d' ' -f1) == "$sum" ]] ||
      die "$f does not match its checksum in $DEB_CACHE/SHA256SUMS (delete it: the next prepare downloads it again)"
    echo "$f"
  done < <(awk -v c="$c" '{print $1, $c}' <<<"$2")
}

# upg_install old|new TABLE — install that version of every package from the cache: packages start nothing
# (policy-rc.d), keep the lab's configuration (confold); then the lab's configuration again (postinsts write some
# debconf defaults, e.g. nova's my_ip) and up.sh's setup markers follow the new versions
upg_install() {
  local files log=$LAB_LOG/upgrade-apt.log m n p
  mapfile -t files < <(upg_files "$1" "$2")
  export DEBIAN_FRONTEND=noninteractive
  local apt=(apt-get -q -y -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold
    --no-install-recommends --allow-downgrades install "${files[@]}")
  # a version change only: apt must not want to remove anything (it would, were a dependency out of reach)
  "${apt[@]}" -s >"$log" 2>&1 || { tail -20 "$log" >&2; die "apt-get cannot install the ${1^^} versions (log: $log)"; }
  ! grep -q '^Remv ' "$log" || die "apt-get would remove packages to install the ${1^^} versions: $(awk '/^Remv /{printf "%s ", $2}' "$log")(log: $log)"
  with_policy_rc_d eatmydata "${apt[@]}" >"$log" 2>&1 ||
    { tail -20 "$log" >&2; die "apt-get install of the ${1^^} versions failed (log: $log)"; }
  upg_on "$1" "$(upg_table)" || die "after apt-get, not every package is at its ${1^^} version (log: $log)"
  "$LAB_BIN/configure.sh" >"$LAB_LOG/upgrade-configure.log" 2>&1 ||
    { tail -20 "$LAB_LOG/upgrade-configure.log" >&2; die "configure.sh failed (log: $LAB_LOG/upgrade-configure.log)"; }
  for m in "${UPG_MARKERS[@]}"; do
    n=${m%%:*} p=${m#*:}
    [[ ! -f $LAB_STATE/$n.done ]] || dpkg-query -W -f='${Version}' "$p" >"$LAB_STATE/$n.done"
  done
}

# --- services -------------------------------------------------------------------------------------------------------
# services_of SOURCE... → the lab daemons running code of those sources, in restart order
services_of() {
  local -A want=()
  local s
  for s; do want[$s]=1; done
  [[ -z ${want[mariadb]:-} ]] || echo mariadb
  [[ -z ${want[haproxy]:-} ]] || echo haproxy
  [[ -z ${want[keystone]:-} ]] || echo keystone
  [[ -z ${want[glance]:-} ]] || echo glance-api
  [[ -z ${want[nova]:-} ]] || printf '%s\n' nova-api nova-api-metadata
  [[ -z ${want[neutron]:-} ]] || echo neutron-server
  [[ -z ${want[nova]:-} ]] || printf '%s\n' nova-conductor nova-scheduler "${OS_COMPUTE[@]}"
  [[ -z ${want[neutron]:-} ]] || printf '%s\n' "${OS_AGENTS[@]}"
  return 0
}
running() {                                           # running SERVICE — as the lab sees it
  case $1 in
    mariadb) mysql_root -e 'SELECT 1' >/dev/null 2>&1 ;;
    *) svc_running "$1" ;;
  esac
}
health() {
  load_secrets
  ADMIN_PASS=$ADMIN_PASS KS_URL=http://$SVC_IP:5000 REGION=$REGION LAB_COMPUTE_HOSTS="${COMPUTES[*]}" \
    "$PY" "$LAB_BIN/health.py" "$@"
}
mariadb_ready() { [[ $(mysql_root -N -e "SHOW STATUS LIKE 'wsrep_ready'" 2>/dev/null | awk '{print $2}') == ON ]]; }
mariadb_start() {                                     # as up.sh: a one-node Galera may always bootstrap; own session
  [[ ! -f /var/lib/mysql/grastate.dat ]] || sed -i 's/^safe_to_bootstrap: 0/safe_to_bootstrap: 1/' /var/lib/mysql/grastate.dat
  setsid --wait /etc/init.d/mariadb start </dev/null >>"$UPG_LOG/mariadb.log" 2>&1
  retry 120 "mariadb wsrep_ready=ON (log: /var/log/mysql/error.log)" mariadb_ready
}
mariadb_stop() {
  /etc/init.d/mariadb stop >>"$UPG_LOG/mariadb.log" 2>&1 || true
  retry 60 "mariadb to stop" bash -c "! mysql --protocol=socket -uroot -e 'SELECT 1' >/dev/null 2>&1"
}
mariadb_restart() { mariadb_stop; mariadb_start; }
stop_service() {                                      # the lab's way, without waiting for the APIs to notice
  case $1 in
    mariadb) mariadb_stop ;;
    *) svc_stop "$1" ;;
  esac
}

# probe_start URL BACKEND OUT / probe_stop — an API's downtime while it restarts (upgrade.py probe)
PROBE_PID=""
probe_start() {
  HA_SOCKET=$HA_SOCKET "$PY" "$LAB_BIN/upgrade.py" probe "$1" "$2" "$3" 0.2 &
  PROBE_PID=$!
  sleep 0.5                                           # a baseline sample or two
}
probe_stop() {
  sleep 0.5
  [[ -n $PROBE_PID ]] || return 0
  kill -TERM "$PROBE_PID" 2>/dev/null || true
  wait "$PROBE_PID" || true
  PROBE_PID=""
}

# restart_api NAME — ctl restart (returns when the port closed and HAProxy marked the backend DOWN, then when it
# answers and the backend is UP again), its public frontend probed every 200 ms meanwhile
restart_api() {
  local s=$1 port be fe path=/ out
  port=${API_PORT[$s]} be=${HA_BACKEND[$s]:-}
  [[ $s == keystone ]] && path=/v3
  if [[ -n $be ]]; then fe=$VIP:$port; else fe=$SVC_IP:$port; fi   # nova-api-metadata is not behind HAProxy
  out=$UPG_LOG/probe-$s.json
  probe_start "http://$fe$path" "${be:--}" "$out"
  local t0=$EPOCHREALTIME
  "$LAB_BIN/ctl" stop "$s" >>"$UPG_LOG/ctl.log" 2>&1 || { probe_stop; tail -5 "$UPG_LOG/ctl.log" >&2; return 1; }
  echo "  ($(secs_since "$t0") s)" >>"$UPG_LOG/ctl.log"; t0=$EPOCHREALTIME
  "$LAB_BIN/ctl" start "$s" >>"$UPG_LOG/ctl.log" 2>&1 || { probe_stop; tail -5 "$UPG_LOG/ctl.log" >&2; return 1; }
  echo "  ($(secs_since "$t0") s)" >>"$UPG_LOG/ctl.log"
  probe_stop
  printf '%s\t%s\t%s\n' "$s" "$fe" "$out" >>"$UPG_LOG/apis.tsv"
}
ha_all_up() { ha_cmd "show stat" | awk -F, '$2 == "api-1" && $18 !~ /^UP/ {bad=1} END {exit bad}'; }
restart_haproxy() {                                   # its frontends (keystone's probed) go away for the restart
  local out=$UPG_LOG/probe-haproxy.json
  probe_start "http://$VIP:5000/v3" keystone "$out"
  "$LAB_BIN/ctl" restart haproxy >>"$UPG_LOG/ctl.log" 2>&1 || { probe_stop; tail -5 "$UPG_LOG/ctl.log" >&2; return 1; }
  retry 30 "every haproxy backend UP" ha_all_up
  probe_stop
  printf '%s\t%s\t%s\n' haproxy "$VIP:5000" "$out" >>"$UPG_LOG/apis.tsv"
}
lb_initialized_since() {                              # lb_initialized_since LOG OFFSET
  tail -c +"$(($2 + 1))" "$1" 2>/dev/null | grep -q 'Agent initialized successfully'
}
# restart_daemon NAME — stop, start, and return when the API reports a heartbeat of the new process (ctl stop would
# wait up to 35 s for the API to call the old one down: not needed to restart)
restart_daemon() {
  local s=$1 since off=0 t0=$EPOCHREALTIME t1
  svc_def "$s" || die "unknown service $s"
  svc_stop "$s"
  since=$((EPOCHSECONDS + 1))                         # the old process is gone; the new one needs >1 s to report
  t1=$EPOCHREALTIME
  [[ $s != neutron-linuxbridge-agent-* ]] || off=$(stat -c %s "$S_LOG" 2>/dev/null || echo 0)
  svc_start "$s"
  # each linuxbridge agent probes vxlan at start with a device of a fixed name: one at a time (as up.sh)
  [[ $s != neutron-linuxbridge-agent-* ]] || retry 120 "$s initialized (log: $S_LOG)" lb_initialized_since "$S_LOG" "$off"
  health fresh "$s" "$since" 120 >/dev/null
  echo "$s: stopped in $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s, started and reported in $(secs_since "$t1") s"
}
restart_parallel() {                                  # restart_parallel NAME... — restart_daemon each, side by side
  local s bgpids=() names=() i
  for s; do restart_daemon "$s" >"$UPG_LOG/restart-$s.log" 2>&1 & bgpids+=($!); names+=("$s"); done
  for i in "${!bgpids[@]}"; do
    wait "${bgpids[$i]}" || { cat "$UPG_LOG/restart-${names[$i]}.log" >&2; die "restarting ${names[$i]} failed"; }
  done
  for s; do cat "$UPG_LOG/restart-$s.log" >>"$UPG_LOG/daemons.log"; done
}

# --- steps ------------------------------------------------------------------------------------------------------------
STEP="" DISRUPTING=0
now_rfc3339() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }
secs_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.3f", b - a}'; }
# step NAME CMD... — run CMD as the step NAME (named if it fails), its start and duration in $UPG_LOG/steps.tsv
step() {
  local t0 st d
  STEP=$1; shift
  t0=$EPOCHREALTIME st=$(now_rfc3339)
  "$@"
  d=$(secs_since "$t0")
  printf '%s\t%s\t%s\n' "$STEP" "$st" "$d" >>"$UPG_LOG/steps.tsv"
  say "$(printf '%-28s %6.1f s' "$STEP" "$d")"
}

db_migrate() {                                        # db_migrate SOURCE... — the migrations, side by side
  local -A pids=()
  local s
  as() { local u=$1; shift; su -s /bin/sh -c "$*" "$u"; }
  for s; do
    case $s in
      keystone) as keystone "keystone-manage db_sync" >"$UPG_LOG/db-keystone.log" 2>&1 & pids[keystone]=$! ;;
      glance) as glance "glance-manage db_sync" >"$UPG_LOG/db-glance.log" 2>&1 & pids[glance]=$! ;;
      nova) { as nova "nova-manage api_db sync" && as nova "nova-manage db sync"; } >"$UPG_LOG/db-nova.log" 2>&1 & pids[nova]=$! ;;
      neutron) as neutron "neutron-db-manage --config-file /etc/neutron/neutron.conf --config-file /etc/neutron/plugins/ml2/ml2_conf.ini upgrade heads" \
        >"$UPG_LOG/db-neutron.log" 2>&1 & pids[neutron]=$! ;;
    esac
  done
  for s in "${!pids[@]}"; do
    wait "${pids[$s]}" || { tail -10 "$UPG_LOG/db-$s.log" >&2; die "database migration of $s failed (log: $UPG_LOG/db-$s.log)"; }
  done
}

# restart_all SERVICE... — the given services, in an operator's order: mariadb, haproxy, each API in turn behind
# HAProxy, nova-conductor + nova-scheduler, then each compute host in turn (its nova-compute and linuxbridge agent
# together, as a host is upgraded), then the network node's dhcp, metadata and l3 agents together
restart_all() {
  local -A has=()
  local s h g
  for s; do has[$s]=1; done
  [[ -z ${has[mariadb]:-} ]] || step "restart mariadb" mariadb_restart
  [[ -z ${has[haproxy]:-} ]] || step "restart haproxy" restart_haproxy
  for s in "${OS_APIS[@]}"; do [[ -z ${has[$s]:-} ]] || step "restart $s" restart_api "$s"; done
  group() { g=(); for s; do [[ -z ${has[$s]:-} ]] || g+=("$s"); done; }
  group nova-conductor nova-scheduler
  ((${#g[@]} == 0)) || step "restart ${g[*]}" restart_parallel "${g[@]}"
  for h in "${COMPUTES[@]}"; do
    group "nova-compute-${h#compute-}" "neutron-linuxbridge-agent-$h"
    ((${#g[@]} == 0)) || step "restart $h: ${g[*]}" restart_parallel "${g[@]}"
  done
  group neutron-dhcp-agent neutron-metadata-agent neutron-l3-agent
  ((${#g[@]} == 0)) || step "restart ${g[*]}" restart_parallel "${g[@]}"
}

# recover — after a failure: every lab service that does not run is started again (the lab's way)
recover() {
  [[ -n $PROBE_PID ]] && { kill -TERM "$PROBE_PID" 2>/dev/null || true; }
  running mariadb || mariadb_start || echo "lab: mariadb did not start again (log: /var/log/mysql/error.log)" >&2
  local s
  for s in haproxy "${OS_APIS[@]}" "${OS_CONTROL[@]}" "${OS_VOLUME[@]}" "${OS_AGENTS[@]}" "${OS_COMPUTE[@]}"; do
    svc_running "$s" && continue
    svc_start "$s" || echo "lab: $s did not start again" >&2
    if [[ $s == neutron-linuxbridge-agent-* ]]; then sleep 5; fi   # (their vxlan probe: one at a time)
  done
}
on_exit() {
  local rc=$?
  if ((rc != 0 && DISRUPTING)); then
    trap - EXIT
    echo "lab: upgrade.sh $MODE failed at step '$STEP' (exit $rc): starting every lab service that does not run" >&2
    (recover) || true
    echo "lab: upgrade.sh $MODE failed at step '$STEP'; logs in $UPG_LOG/" >&2
  fi
  exit "$rc"
}

status_green() { mkdir -p "$UPG_LOG"; "$LAB_BIN/status.sh" >"$UPG_LOG/status.txt" 2>&1; }
wait_green() {                                        # wait_green [SECONDS] — until status.sh passes
  local end=$((EPOCHSECONDS + ${1:-240}))
  until status_green; do
    if ((EPOCHSECONDS >= end)); then
      grep -v ' ok ' "$UPG_LOG/status.txt" >&2 || true
      die "scripts/lab/status.sh still fails after ${1:-240} s (full: $UPG_LOG/status.txt)"
    fi
    sleep 2
  done
}
new_log() { rm -rf "$UPG_LOG"; mkdir -p "$UPG_LOG"; : >"$UPG_LOG/steps.tsv"; : >"$UPG_LOG/apis.tsv"; }

# --- subcommands --------------------------------------------------------------------------------------------------------
cmd_versions() {
  local table avail pkg src inst old new
  table=$(upg_table)
  [[ -n $table ]] || { echo "lab: none of ${!UPG_VERSIONS[*]} is installed" >&2; return 1; }
  # shellcheck disable=SC2046  # package names: one word each
  avail=$(mirror_versions $(awk '{print $1}' <<<"$table"))
  printf '%-28s %-24s %-32s %s\n' package installed "old (where)" "new (where)"
  while read -r pkg src inst old new; do
    printf '%-28s %-24s %-32s %s\n' "$pkg" "$inst" "$old ($(where "$pkg" "$old" "$avail"))" "$new ($(where "$pkg" "$new" "$avail"))"
  done <<<"$table"
}

cmd_prepare() {
  local no_start=0 table changed svcs s up=0 t0=$EPOCHREALTIME rc=0
  [[ ${1:-} != --no-start ]] || no_start=1
  table=$(upg_table)
  [[ -n $table ]] || die "none of ${!UPG_VERSIONS[*]} is installed (scripts/lab/install.sh)"
  if upg_on old "$table" && upg_cached old "$table" && upg_cached new "$table"; then
    say "prepare: already on the OLD versions ($(wc -l <<<"$table") packages), OLD and NEW .debs cached in $DEB_CACHE"
    return 0
  fi
  upg_cache old "$table" || return $?
  upg_cache new "$table" || return $?
  if upg_on old "$table"; then say "prepare: on the OLD versions; .debs cached in $DEB_CACHE"; return 0; fi
  mapfile -t changed < <(upg_changed old "$table")
  mapfile -t svcs < <(services_of "${changed[@]}")
  for s in "${svcs[@]}"; do if running "$s"; then up=1; fi; done
  new_log
  MODE=prepare DISRUPTING=1
  if ((no_start)); then
    for s in "${svcs[@]}"; do if running "$s"; then stop_service "$s"; fi; done
    DISRUPTING=0
    step "packages (OLD)" upg_install old "$table"
    say "prepare: $(wc -l <<<"$table") packages on the OLD versions (${changed[*]}); the caller starts the services"
    return 0
  fi
  step "packages (OLD)" upg_install old "$table"
  if ((up)); then
    restart_all "${svcs[@]}"
    step "status green" wait_green || rc=$?
  fi
  DISRUPTING=0
  ((rc == 0)) || return "$rc"
  say "prepare: done in $(secs_since "$t0") s: $(wc -l <<<"$table") packages on the OLD versions (${changed[*]})$( ((up)) || echo '; the lab was down: up.sh starts it')"
}

cmd_run() {
  local report="" table changed svcs t0=$EPOCHREALTIME started
  while (($#)); do
    case $1 in
      --report) report=${2:?--report FILE}; shift 2 ;;
      *) die "run: unknown argument '$1' (run [--report FILE])" ;;
    esac
  done
  table=$(upg_table)
  if ! upg_on old "$table"; then
    echo "lab: nothing to upgrade: the lab is not on the OLD versions ($(awk '$3 != $4 {printf "%s=%s ", $1, $3}' <<<"$table" | cut -c1-120)…): run \`scripts/lab/upgrade.sh prepare\` first" >&2
    return 3
  fi
  upg_cache new "$table" || return $?
  new_log
  status_green || { grep -v ' ok ' "$UPG_LOG/status.txt" >&2; die "the lab is not healthy before the upgrade (scripts/lab/status.sh): not upgrading"; }
  mapfile -t changed < <(upg_changed new "$table")
  mapfile -t svcs < <(services_of "${changed[@]}")
  awk '{print $1, $4, $5}' <<<"$table" >"$UPG_LOG/packages.txt"
  started=$(now_rfc3339)
  MODE=run DISRUPTING=1
  say "run: $(wc -l <<<"$table") packages OLD → NEW (${changed[*]}); restarts: ${svcs[*]}"
  step "packages (NEW)" upg_install new "$table"
  # the database server first (its own restart), then the schema migrations the services' packages ask for
  if [[ " ${svcs[*]} " == *" mariadb "* ]]; then restart_all mariadb; fi
  step "database migrations" db_migrate "${changed[@]}"
  local rest=() s
  for s in "${svcs[@]}"; do [[ $s == mariadb ]] || rest+=("$s"); done
  restart_all "${rest[@]}"
  step "status green" wait_green
  DISRUPTING=0
  local dur; dur=$(secs_since "$t0")
  if [[ -n $report ]]; then
    "$PY" "$LAB_BIN/upgrade.py" report "$started" "$dur" "$UPG_LOG/packages.txt" "$UPG_LOG/steps.tsv" "$UPG_LOG/apis.tsv" >"$report.tmp"
    mv -f "$report.tmp" "$report"
  fi
  summary "$dur"
  [[ -z $report ]] || say "report: $report"
}

summary() {                                           # the human summary of a run
  local svc fe out
  say "run: done in $1 s; status.sh green"
  while IFS=$'\t' read -r svc fe out; do
    "$PY" - "$svc" "$fe" "$out" <<'PY'
import json, sys
p = json.load(open(sys.argv[3]))
b = p["backend_down_s"]
print(f"  downtime {sys.argv[1]:18s} {sys.argv[2]:18s} {p['down_s']:5.1f} s"
      + (f"  (HAProxy backend not UP {b:.1f} s)" if b is not None else ""))
PY
  done <"$UPG_LOG/apis.tsv"
}

usage() { sed -n '2,14p' "${BASH_SOURCE[0]}" >&2; exit 2; }

main() {
  local cmd=${1:-}
  (($#)) && shift
  case $cmd in
    versions) cmd_versions ;;
    prepare | run)
      need_root
      lab_lock 1800 "$cmd" "$@"
      MODE=$cmd
      trap on_exit EXIT
      trap 'exit 130' INT TERM HUP
      "cmd_$cmd" "$@" ;;
    *) usage ;;
  esac
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then main "$@"; fi
