#!/bin/bash
# pacemaker.sh — the lab's one-node Pacemaker cluster: corosync (udpu on 127.0.0.1:5405, one vote, quorate
# alone) and pacemakerd started by hand (no systemd), with harmless resources for the operator check
# `pacemaker` (crm_mon --output-as=xml): a primitive cp-dummy and a clone cp-clone (both ocf:pacemaker:Dummy).
#
#   pacemaker.sh up       start corosync and pacemakerd (configure the cluster the first time); idempotent;
#                         returns when crm_mon shows node controller online and every resource Started
#   pacemaker.sh status   print a crm_mon summary; exit 0 only when healthy (DC with quorum, node online, both
#                         resources Started, no failed action)
#   pacemaker.sh down     stop pacemakerd (it stops the resources first), then corosync; the CIB is KEPT
#   pacemaker.sh wipe     down, then delete the cluster state (/var/lib/pacemaker/{cib,pengine}/*,
#                         /var/lib/corosync/*, $LAB_DIR/pacemaker): the next up configures a new cluster
#
# Cluster: name cloudpulse-lab, node `controller` (corosync nodelist name, nodeid 1), stonith-enabled=false
# (nothing to fence), no-quorum-policy=ignore (one node), dc-deadtime=5s (the first start waits the default
# 20 s for an election nobody else joins; later starts 5 s). Corosync runs without realtime scheduling
# (sched_rr: no) and with udpu rather than knet: knet's buffers cost ~80 MiB RSS, udpu ~15 MiB.
# State: $LAB_DIR/pacemaker/ (corosync.conf, pid files, logs); the CIB is where pacemaker keeps it,
# /var/lib/pacemaker/cib. Fault control: scripts/lab/ctl stop|start pacemaker-resource (bans/clears cp-dummy).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LAB_DIR=${LAB_DIR:-$ROOT/.lab}
D=$LAB_DIR/pacemaker
CONF=$D/corosync.conf
NODE=controller
CLUSTER=cloudpulse-lab
RESOURCE=cp-dummy CLONE=cp-clone CLONE_RSC=cp-clone-dummy
UP_TIMEOUT=${PACEMAKER_UP_TIMEOUT:-120}
PY=/usr/bin/python3

CIB_DIR=/var/lib/pacemaker/cib
# shellcheck source=scripts/lab/host.sh
. "$ROOT/scripts/lab/host.sh"                           # records of its daemons, backups of the host's CIB

T0=$EPOCHREALTIME
say() { printf '[pacemaker %5.1fs] %s\n' "$(bc <<<"$EPOCHREALTIME - $T0")" "$*"; }
die() { printf 'pacemaker.sh: %s\n' "$*" >&2; exit 1; }
quiet() { local out; out=$("$@" 2>&1) || { printf '%s\n' "$out" >&2; return 1; }; }

need_packages() {
  local missing=() b
  for b in corosync corosync-quorumtool pacemakerd crm_mon cibadmin crm_attribute crm_resource bc; do
    command -v "$b" >/dev/null || missing+=("$b")
  done
  [[ -x /usr/lib/ocf/resource.d/pacemaker/Dummy ]] || missing+=(ocf:pacemaker:Dummy)
  ((${#missing[@]} == 0)) || die "missing ${missing[*]}: install pacemaker corosync pacemaker-cli-utils (scripts/lab/install.sh does)"
}

# waitfor SECONDS WHAT CMD... — poll CMD every 0.5 s
waitfor() {
  local limit=$1 what=$2; shift 2
  local end=$(( ${EPOCHREALTIME%.*} + limit ))
  until "$@" >/dev/null 2>&1; do
    (( ${EPOCHREALTIME%.*} < end )) || die "timed out after ${limit}s waiting for $what (logs: $D/log/)"
    sleep 0.5
  done
}

# --- daemons --------------------------------------------------------------------------------------------------
pidfile() { echo "$D/run/$1.pid"; }                     # corosync | pacemakerd
running() {
  local f p; f=$(pidfile "$1"); [[ -s $f ]] || return 1; p=$(<"$f")
  [[ -r /proc/$p/comm && $(</proc/"$p"/comm) == "$1" ]]
}
start_daemon() {                                        # start_daemon NAME ENV... -- ARGS... (foreground daemon)
  local n=$1; shift
  local env=() bin; while [[ $1 != -- ]]; do env+=("$1"); shift; done; shift
  bin=$(command -v "$n")
  if running "$n"; then rec_proc "$(<"$(pidfile "$n")")" "$n"; say "$n already running (pid $(<"$(pidfile "$n")"))"; return; fi
  rm -f "$(pidfile "$n")"
  env "${env[@]}" start-stop-daemon --start --background --make-pidfile --pidfile "$(pidfile "$n")" \
    --exec "$bin" -- "$@" || die "$n failed to start (logs: $D/log/)"
  waitfor 10 "$n to stay up" running "$n"
  rec_proc "$(<"$(pidfile "$n")")" "$n"
  say "$n started (pid $(<"$(pidfile "$n")"))"
}
stop_daemon() {                                         # SIGTERM, wait (pacemakerd stops the resources first)
  local n=$1 limit=$2 f p i tree; f=$(pidfile "$n")
  if ! running "$n"; then
    rm -f "$f"
    # the lab's $n whose pid file is gone (its checkout deleted or re-cloned): the host's records name it
    if [[ -n $(alive_recorded_procs "$n") ]]; then
      say "$n runs without a pid file in $D/run (a recorded lab daemon): stopping it"
      stop_recorded_procs "$n"
    fi
    return 0
  fi
  p=$(<"$f")
  tree=$(proc_tree "$p")                                # pacemakerd's children: based, fenced, execd, …
  kill "$p"
  for ((i = 0; i < limit * 10; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$p" 2>/dev/null && die "$n (pid $p) did not stop within ${limit}s; see $D/log/"
  kill_procs 5 <<<"$tree"
  rm -f "$f"; stop_recorded_procs "$n"; say "$n stopped"
}
# pacemaker daemons left without their pacemakerd (killed -9): they would keep the IPC names taken
stray_children() { pgrep '^pacemaker-' || true; }     # their names (read only: up refuses)

write_conf() {                                          # rewritten on every up (same content)
  local tmp; tmp=$(mktemp "$D/.corosync.conf.XXXXXX")
  cat >"$tmp" <<CONF
# written by scripts/lab/pacemaker.sh — one-node lab cluster on loopback; state in $D
system {
	# no realtime scheduling on a shared 2-core lab machine
	sched_rr: no
}
totem {
	version: 2
	cluster_name: $CLUSTER
	# udpu: ~15 MiB RSS (knet ~95 MiB); one node needs no multi-link transport
	transport: udpu
	crypto_cipher: none
	crypto_hash: none
}
nodelist {
	node {
		name: $NODE
		nodeid: 1
		ring0_addr: 127.0.0.1
	}
}
quorum {
	# one node, one vote: quorate alone
	provider: corosync_votequorum
}
logging {
	to_stderr: no
	to_syslog: no
	to_logfile: yes
	logfile: $D/log/corosync.log
	timestamp: on
}
CONF
  chmod 0644 "$tmp"; mv -f "$tmp" "$CONF"
}

# --- cluster state --------------------------------------------------------------------------------------------
# crm_state → one word per line for what up/status need: KEY=VALUE (dc, quorum, node, resources, failures)
crm_state() {
  crm_mon --output-as=xml 2>/dev/null | "$PY" -c '
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.stdin).getroot()
st = r.find("status")
if st is None or st.get("code") != "0":
    print("error=" + ("" if st is None else st.get("message", "")))
    sys.exit(0)
dc = r.find("summary/current_dc")
print("dc=%s" % (dc.get("name") if dc is not None and dc.get("present") == "true" else ""))
print("quorum=%s" % (dc is not None and dc.get("with_quorum") == "true"))
for n in r.iterfind("nodes/node"):
    ok = n.get("online") == "true" and n.get("standby") != "true" and n.get("pending") != "true" and n.get("unclean") != "true"
    print("node:%s=%s" % (n.get("name"), "online" if ok else "offline"))
for res in r.iter("resource"):
    print("resource:%s=%s" % (res.get("id"), res.get("role") if res.get("active") == "true" and res.get("failed") != "true" else "not-" + res.get("role", "")))
print("failures=%d" % len(r.findall("failures/failure")))
'
}
STATE=""
healthy() {                                             # healthy → 0 when DC+quorum, node online, resources Started
  STATE=$(crm_state) || return 1
  grep -qx "dc=$NODE" <<<"$STATE" && grep -qx 'quorum=True' <<<"$STATE" && grep -qx "node:$NODE=online" <<<"$STATE" &&
    grep -qx "resource:$RESOURCE=Started" <<<"$STATE" && grep -qx "resource:$CLONE_RSC=Started" <<<"$STATE" &&
    grep -qx 'failures=0' <<<"$STATE"
}
dc_elected() { STATE=$(crm_state) && grep -qx "dc=$NODE" <<<"$STATE" && grep -qx "node:$NODE=online" <<<"$STATE"; }
quorate() { corosync-quorumtool -s 2>/dev/null | grep -q '^Quorate: *Yes'; }

configure_cluster() {                                   # idempotent: properties, the two resources, no leftovers
  local p
  for p in stonith-enabled=false no-quorum-policy=ignore dc-deadtime=5s; do
    [[ $(crm_attribute --type crm_config --name "${p%%=*}" --query --quiet 2>/dev/null) == "${p#*=}" ]] ||
      quiet crm_attribute --type crm_config --name "${p%%=*}" --update "${p#*=}"
  done
  local rscs; rscs=$(cibadmin --query --scope resources)
  if ! grep -q "<primitive [^>]*id=\"$RESOURCE\"" <<<"$rscs"; then
    quiet cibadmin --create --scope resources --xml-text "<primitive id=\"$RESOURCE\" class=\"ocf\" provider=\"pacemaker\" type=\"Dummy\"><operations><op id=\"$RESOURCE-monitor-10s\" name=\"monitor\" interval=\"10s\" timeout=\"20s\"/></operations></primitive>"
    say "resource $RESOURCE (ocf:pacemaker:Dummy) created"
  fi
  if ! grep -q "<clone [^>]*id=\"$CLONE\"" <<<"$rscs"; then
    quiet cibadmin --create --scope resources --xml-text "<clone id=\"$CLONE\"><primitive id=\"$CLONE_RSC\" class=\"ocf\" provider=\"pacemaker\" type=\"Dummy\"><operations><op id=\"$CLONE_RSC-monitor-10s\" name=\"monitor\" interval=\"10s\" timeout=\"20s\"/></operations></primitive></clone>"
    say "clone $CLONE of $CLONE_RSC (ocf:pacemaker:Dummy) created"
  fi
  # what a fault (scripts/lab/ctl stop pacemaker-resource) or an operator may have left: bans, disabled, failures
  if cibadmin --query --scope constraints | grep -q "id=\"cli-ban-$RESOURCE-"; then
    quiet crm_resource --resource "$RESOURCE" --clear; say "cleared the ban of $RESOURCE"
  fi
  local r; for r in "$RESOURCE" "$CLONE"; do
    if [[ $(crm_resource --resource "$r" --meta --get-parameter target-role --quiet 2>/dev/null) == Stopped ]]; then
      quiet crm_resource --resource "$r" --meta --delete-parameter target-role; say "$r was disabled: enabled"
    fi
  done
  if ! grep -qx 'failures=0' <<<"$(crm_state)"; then quiet crm_resource --cleanup; say "failed actions cleaned up"; fi
}

# --- commands -------------------------------------------------------------------------------------------------
# cib_state → none (no CIB yet), lab (the lab's cluster, cluster-name cloudpulse-lab) or foreign
cib_state() {
  if [[ ! -e $HOST_ROOT$CIB_DIR/cib.xml ]]; then echo none
  elif grep -q "name=\"cluster-name\" value=\"$CLUSTER\"" "$HOST_ROOT$CIB_DIR/cib.xml"; then echo lab
  else echo foreign; fi
}
HOST_STATE_DIRS=("$CIB_DIR" /var/lib/pacemaker/pengine /var/lib/corosync)
backed_up() { rec_has backup "$1" || rec_has absent "$1"; }
clear_dir() { [[ ! -d $HOST_ROOT$1 ]] || find "$HOST_ROOT$1" -mindepth 1 -delete; }   # its entries, not DIR

# keep_host_cluster_state — the host's own cluster state, before the lab's cluster first replaces it (down.sh
# --purge restores it); a CIB of the lab's cluster with no backup is a lab from before the backups: nothing to keep
keep_host_cluster_state() {
  local st d; st=$(cib_state)
  case $st in
    lab) ;;
    none) backed_up "$CIB_DIR" || for d in "${HOST_STATE_DIRS[@]}"; do host_backup "$d"; done ;;
    foreign)
      ! backed_up "$CIB_DIR" ||
        die "the CIB in $CIB_DIR is another cluster's (not $CLUSTER), made after the lab kept the host's: stop that cluster and move its state away"
      for d in "${HOST_STATE_DIRS[@]}"; do host_backup "$d"; done
      for d in "${HOST_STATE_DIRS[@]}"; do clear_dir "$d"; done
      say "the host's CIB (not the lab's cluster) is kept in $LAB_BACKUP$CIB_DIR until down.sh --purge restores it" ;;
  esac
}

cmd_up() {
  need_packages
  mkdir -p "$D"/{run,log}
  keep_host_cluster_state
  write_conf
  running pacemakerd || stop_recorded_procs pacemaker-child   # what a killed pacemakerd of the lab left
  [[ -z $(stray_children) ]] || running pacemakerd ||
    die "pacemaker daemons run without a pacemakerd from $D/run (pids $(stray_children | tr '\n' ' ')): stop them first"
  running corosync || [[ -z $(pgrep -x corosync) ]] ||
    die "a corosync not started from $D/run runs (pid $(pgrep -x corosync | tr '\n' ' ')): stop it first"
  start_daemon corosync -- -f -c "$CONF"
  waitfor 30 "corosync quorate (corosync-quorumtool -s)" quorate
  say "corosync quorate (udpu 127.0.0.1:5405, node $NODE)"
  start_daemon pacemakerd PCMK_logfile="$D/log/pacemaker.log" PCMK_logfacility=none --
  waitfor 90 "pacemaker: node $NODE online and elected DC" dc_elected
  local p st
  while read -r p st; do rec_add proc "$p" "$st" pacemaker-child; done < <(proc_tree "$(<"$(pidfile pacemakerd)")" | tail -n +2)
  say "node $NODE online, DC"
  configure_cluster
  local end=$(( ${EPOCHREALTIME%.*} + UP_TIMEOUT ))
  until healthy; do
    (( ${EPOCHREALTIME%.*} < end )) || die "not healthy after ${UP_TIMEOUT}s: $(tr '\n' ' ' <<<"$STATE"); see crm_mon -1 and $D/log/"
    sleep 0.5
  done
  say "healthy: node $NODE online, $RESOURCE and $CLONE Started"
}

cmd_down() {
  stop_daemon pacemakerd 120
  stop_recorded_procs pacemaker-child
  stop_daemon corosync 60
  say "stopped; the CIB is kept in /var/lib/pacemaker/cib ('pacemaker.sh wipe' deletes it)"
}

cmd_wipe() {
  cmd_down
  local r d
  for r in "$RESOURCE" "$CLONE_RSC" "$CLONE_RSC:0"; do rm -f "$HOST_ROOT/run/resource-agents/Dummy-$r.state"; done
  rm -rf "$D"
  if [[ $(cib_state) == foreign ]]; then
    say "the CIB in $CIB_DIR is not the lab's cluster ($CLUSTER): left alone"
  elif backed_up "$CIB_DIR"; then
    # the lab's cluster state goes; the host's (kept when the lab first started its cluster) comes back
    host_restore "${HOST_STATE_DIRS[@]}"
    say "wiped the lab's CIB, scheduler inputs, corosync state and $D; the host's versions restored"
  else
    for d in "${HOST_STATE_DIRS[@]}"; do clear_dir "$d"; done
    say "wiped the lab's CIB, scheduler inputs, corosync state and $D"
  fi
}

cmd_status() {
  local down=() n
  for n in corosync pacemakerd; do running "$n" || down+=("$n"); done
  if ((${#down[@]})); then echo "pacemaker: not running: ${down[*]} (start with scripts/lab/pacemaker.sh up)"; exit 1; fi
  crm_mon -1 2>&1 | sed -n '/Node List/,$p'
  if healthy; then echo "pacemaker: healthy: node $NODE online (DC, quorate), $RESOURCE and $CLONE Started"
  else echo "pacemaker: not healthy: $(tr '\n' ' ' <<<"$STATE")"; exit 1; fi
}

[[ ${BASH_SOURCE[0]} == "$0" ]] || return 0          # sourced (scripts/lab/test): functions only
[[ $EUID -eq 0 ]] || die "run as root"
case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  wipe) cmd_wipe ;;
  status) cmd_status ;;
  *) sed -n '2,14p' "$0" >&2; exit 2 ;;
esac
