# host.sh — what the lab owns on this host, and nothing more (sourced by lib.sh, ceph.sh and pacemaker.sh).
#
#   $LAB_HOME/marker    written when the lab first takes the host, before its apt creates any state: from then on
#                       the host's OpenStack, MariaDB, Ceph and Pacemaker state is the lab's. Purge keeps it.
#   $LAB_HOME/records   one line per thing the lab made, "KIND VALUE": db, dbuser, netns, link, ipset, iptprefix,
#                       proc (PID STARTTIME NAME), path, backup, absent, cache. Teardown deletes only what is
#                       recorded; a cache (upgrade.sh's .debs, /var/cache/cloudpulse-lab/debs) outlives purge, like
#                       the installed packages: the mirror no longer has its old versions after the next point release.
#   $LAB_HOME/backup/   host files the lab replaced (HAProxy's config, the Pacemaker CIB, corosync's state, a
#                       policy-rc.d that did not say exit 101): down.sh --purge puts them back.
#   $LAB_HOME/owner     which checkout's .lab the lab state belongs to (up.sh's takeover)
# LAB_HOST_ROOT prefixes every host path (empty on a real host; a temporary directory in scripts/lab/test/).
# Functions return non-zero on failure and print their own one-line message; they never exit the caller.
# shellcheck shell=bash

HOST_ROOT=${LAB_HOST_ROOT:-}
LAB_HOME=$HOST_ROOT/var/lib/cloudpulse-lab
LAB_MARKER=$LAB_HOME/marker
LAB_RECORDS=$LAB_HOME/records
LAB_BACKUP=$LAB_HOME/backup
LAB_OWNER=$LAB_HOME/owner
POLICY_RC_D=$HOST_ROOT/usr/sbin/policy-rc.d
# the first line of every policy-rc.d the lab writes (older install.sh wrote the same words)
POLICY_RC_D_HEADER='# written by scripts/lab/install.sh: packages never start services; the lab does'

# --- records ------------------------------------------------------------------------------------------------
# rec_add KIND VALUE... / rec_del KIND VALUE... — under a lock: up.sh starts helpers in parallel
rec_add() {
  local line="$*"
  mkdir -p "$LAB_HOME"
  (
    flock 9
    grep -qxF -- "$line" "$LAB_RECORDS" 2>/dev/null || printf '%s\n' "$line" >>"$LAB_RECORDS"
  ) 9>>"$LAB_HOME/.records.lock"
}
rec_del() {
  local line="$*"
  [[ -f $LAB_RECORDS ]] || return 0
  (
    flock 9
    grep -vxF -- "$line" "$LAB_RECORDS" >"$LAB_RECORDS.tmp" || true
    mv -f "$LAB_RECORDS.tmp" "$LAB_RECORDS"
  ) 9>>"$LAB_HOME/.records.lock"
}
rec_has() { [[ -f $LAB_RECORDS ]] && grep -qxF -- "$*" "$LAB_RECORDS"; }
rec_list() {                                          # rec_list KIND → the VALUE of each record of that kind
  [[ -f $LAB_RECORDS ]] || return 0
  awk -v k="$1" '$1 == k { sub(/^[^ ]+ /, ""); print }' "$LAB_RECORDS"
}

# --- processes: a pid counts only with the start time it had when recorded (pids are reused) ------------------
proc_start_time() {                                   # field 22 of /proc/PID/stat (after the "(comm)" field)
  local s f
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1   # not $(<…): a missing file ends a set -e shell
  read -ra f <<<"${s##*) }"
  echo "${f[19]}"
}
proc_is() {                                           # proc_is PID STARTTIME — alive (not a zombie), not reused
  local s f
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1   # not $(<…): a missing file ends a set -e shell
  read -ra f <<<"${s##*) }"
  [[ -n $2 && ${f[0]} != Z && ${f[19]} == "$2" ]]
}
rec_proc() {                                          # rec_proc PID NAME — record a process the lab started
  local st
  st=$(proc_start_time "$1") || return 0
  rec_add proc "$1" "$st" "$2"
}
proc_tree() {                                         # proc_tree PID → "PID STARTTIME" of it and its descendants
  local -A kids=()
  local pid ppid queue=("$1") p st
  while read -r pid ppid; do kids[$ppid]+=" $pid"; done < <(ps -e -o pid=,ppid=)
  while ((${#queue[@]})); do
    p=${queue[0]}; queue=("${queue[@]:1}")
    st=$(proc_start_time "$p") || continue
    echo "$p $st"
    # shellcheck disable=SC2206  # the children list is a space-separated list of numbers
    queue+=(${kids[$p]:-})
  done
}
# kill_procs SECONDS < "PID STARTTIME" lines — TERM, wait up to SECONDS, then KILL; only processes that are still
# the ones listed (same start time)
kill_procs() {
  local limit=$1 pid st i p alive=() left
  while read -r pid st _; do proc_is "$pid" "$st" && alive+=("$pid $st"); done
  ((${#alive[@]})) || return 0
  for i in "${alive[@]}"; do kill -TERM "${i%% *}" 2>/dev/null || true; done
  for ((i = 0; i < limit * 10; i++)); do
    left=0
    for p in "${alive[@]}"; do proc_is "${p%% *}" "${p#* }" && left=1; done
    ((left)) || return 0
    sleep 0.1
  done
  for p in "${alive[@]}"; do proc_is "${p%% *}" "${p#* }" && kill -KILL "${p%% *}" 2>/dev/null; done
  return 0
}
# alive_recorded_procs [NAME] — "PID STARTTIME" of the recorded processes (named NAME) that still run
alive_recorded_procs() {
  local pid st
  while read -r pid st _; do
    if proc_is "$pid" "$st"; then echo "$pid $st"; fi
  done < <(rec_list proc | awk -v n="${1:-}" 'n == "" || $3 == n')
}
# stop_recorded_procs [NAME] — stop every recorded process (or those recorded as NAME) and forget the records
stop_recorded_procs() {
  local rec line
  rec=$(rec_list proc | awk -v n="${1:-}" 'n == "" || $3 == n')
  [[ -n $rec ]] || return 0
  kill_procs 20 <<<"$rec"
  while read -r line; do rec_del proc "$line"; done <<<"$rec"
}

# --- the marker: foreign state is refused ---------------------------------------------------------------------
# not_empty DIR — the directory exists and has an entry
not_empty() { [[ -d $1 ]] && [[ -n $(ls -A "$1" 2>/dev/null) ]]; }
# foreign_state → one "WHAT: DETAIL" line per sign of OpenStack, MariaDB, Ceph or Pacemaker state on the host
foreign_state() {
  local r=$HOST_ROOT f
  not_empty "$r/var/lib/mysql" && echo "MariaDB: /var/lib/mysql is not empty"
  [[ -e $r/etc/ceph/ceph.conf ]] && echo "Ceph: /etc/ceph/ceph.conf exists"
  for f in mon osd mgr; do not_empty "$r/var/lib/ceph/$f" && echo "Ceph: /var/lib/ceph/$f is not empty"; done
  [[ -e $r/var/lib/pacemaker/cib/cib.xml ]] && echo "Pacemaker: /var/lib/pacemaker/cib/cib.xml exists"
  # Debian's corosync package ships an example corosync.conf: only one that names a cluster counts
  [[ -f $r/etc/corosync/corosync.conf ]] && grep -Eq '^[[:space:]]*cluster_name:[[:space:]]*[^[:space:]]' "$r/etc/corosync/corosync.conf" &&
    [[ $(sed -n 's/^[[:space:]]*cluster_name:[[:space:]]*//p' "$r/etc/corosync/corosync.conf" | head -1) != debian ]] &&
    echo "Pacemaker: /etc/corosync/corosync.conf configures a cluster"
  # an OpenStack service configured for a real database (Debian's shipped files have none, or sqlite)
  for f in keystone/keystone.conf nova/nova.conf neutron/neutron.conf glance/glance-api.conf cinder/cinder.conf \
    placement/placement.conf; do
    [[ -f $r/etc/$f ]] && grep -Eq '^[[:space:]]*connection[[:space:]]*=[[:space:]]*(mysql|postgres)' "$r/etc/$f" &&
      echo "OpenStack: /etc/$f has a database connection"
  done
  not_empty "$r/etc/keystone/fernet-keys" && echo "OpenStack: /etc/keystone/fernet-keys exists"
  not_empty "$r/var/lib/nova/instances" && echo "OpenStack: /var/lib/nova/instances is not empty"
  not_empty "$r/var/lib/glance/images" && echo "OpenStack: /var/lib/glance/images is not empty"
  if [[ -d $r/run/netns ]]; then
    for f in "$r"/run/netns/*; do
      [[ ${f##*/} =~ ^(qrouter|qdhcp|fip|snat)- ]] && { echo "OpenStack: neutron namespace ${f##*/}"; break; }
    done
  fi
  return 0
}

# host_claim LAB_DIR SECRETS — take the host for the lab, or refuse. Run before the lab's apt (which itself makes
# /var/lib/mysql, /etc/ceph …). Accepted: the marker (a lab of any checkout made this state); a lab from before the
# marker (the owner file, or this checkout's secrets); a host without foreign state (a fresh one); LAB_TAKE_HOST=1.
host_claim() {
  local lab_dir=$1 secrets=$2 how found
  [[ ! -f $LAB_MARKER ]] || return 0
  if [[ -f $LAB_OWNER ]]; then how="migrated: a cloudpulse lab made before the marker (owner $(<"$LAB_OWNER"))"
  elif [[ -s $secrets ]]; then how="migrated: a cloudpulse lab made before the marker (secrets in $lab_dir)"
  else
    found=$(foreign_state)
    if [[ -n $found && ${LAB_TAKE_HOST:-} != 1 ]]; then
      printf 'lab: refusing to start: this host has state that no cloudpulse lab created (no %s): %s. The lab would reconfigure, stop and delete it: run the lab on a machine of its own, remove that state, or, if it is disposable, let the lab take it: LAB_TAKE_HOST=1 make lab-up\n' \
        "${LAB_MARKER#"$HOST_ROOT"}" "$(paste -sd';' <<<"$found" | sed 's/;/; /g')" >&2
      return 1
    fi
    how="fresh host"
    [[ -z $found ]] || how="taken with LAB_TAKE_HOST=1 although it had: $(paste -sd';' <<<"$found" | sed 's/;/; /g')"
  fi
  mkdir -p "$LAB_HOME"
  {
    echo "# cloudpulse lab: this host's OpenStack, MariaDB, Ceph and Pacemaker state belongs to the lab (scripts/lab)."
    echo "# Teardown deletes only what $LAB_RECORDS lists; down.sh --purge restores what $LAB_BACKUP holds."
    echo "claimed $(date -u +%FT%TZ) by $lab_dir"
    echo "how $how"
  } >"$LAB_MARKER.tmp"
  mv -f "$LAB_MARKER.tmp" "$LAB_MARKER"
  if [[ $how == migrated* ]]; then host_migrate_records; fi
}

# A lab from before the records: what that code made (its fixed names), so that teardown can remove it.
host_migrate_records() {
  local d
  for d in keystone glance placement nova_api nova nova_cell0 neutron cinder; do rec_add db "$d"; done
  for d in "'os'@'localhost'" "'os'@'127.0.0.1'" "'cloudpulse'@'localhost'" "'cloudpulse'@'127.0.0.1'"; do
    rec_add dbuser "$d"
  done
  rec_add link br-lab
  rec_add iptprefix nlb-compute-1
  rec_add iptprefix nlb-compute-2
  for d in /etc/keystone/fernet-keys /etc/keystone/credential-keys; do rec_add path "$d"; done
  # the epmd its rabbitmq started (down.sh stops only a recorded one)
  for d in $(pgrep -x -u rabbitmq epmd 2>/dev/null || true); do rec_proc "$d" epmd; done
}

# --- host files the lab replaces: backed up once, restored by down.sh --purge -----------------------------------
# host_backup PATH — before the lab first replaces PATH (a file or a directory): keep the host's version (or
# remember that there was none). A second call keeps the first backup.
host_backup() {
  local p=$1
  rec_has backup "$p" && return 0
  rec_has absent "$p" && return 0
  if [[ -e $HOST_ROOT$p || -L $HOST_ROOT$p ]]; then
    mkdir -p "$(dirname "$LAB_BACKUP$p")"
    rm -rf "$LAB_BACKUP$p"
    cp -a "$HOST_ROOT$p" "$LAB_BACKUP$p"
    rec_add backup "$p"
  else
    rec_add absent "$p"
  fi
}
# host_restore PATH... — put back what host_backup kept; the lab's version goes
host_restore() {
  local p
  for p in "$@"; do
    if rec_has backup "$p"; then
      [[ -e $LAB_BACKUP$p || -L $LAB_BACKUP$p ]] || { echo "lab: backup of $p missing in $LAB_BACKUP" >&2; return 1; }
      rm -rf "$HOST_ROOT$p"
      mkdir -p "$(dirname "$HOST_ROOT$p")"
      cp -a "$LAB_BACKUP$p" "$HOST_ROOT$p"
      rm -rf "$LAB_BACKUP$p"
      rec_del backup "$p"
    elif rec_has absent "$p"; then
      rm -rf "$HOST_ROOT$p"
      rec_del absent "$p"
    fi
  done
}
host_restore_all() {                                  # host_restore_all — every file host_backup kept
  local paths
  mapfile -t paths < <(rec_list backup; rec_list absent)
  ((${#paths[@]} == 0)) || host_restore "${paths[@]}"
}

# --- policy-rc.d: only while the lab's own apt runs -------------------------------------------------------------
# with_policy_rc_d CMD... — run CMD (an apt command) with a policy-rc.d that says exit 101 (packages start no
# service: the lab starts what it needs itself). One that already says exit 101 is used and kept; another one is
# set aside and put back; the lab's own is removed when CMD ends, however it ends.
with_policy_rc_d() {
  policy_rc_d_restore
  (
    trap policy_rc_d_restore EXIT
    trap 'exit 130' INT TERM HUP
    if [[ ! -e $POLICY_RC_D ]] || ! grep -qx 'exit 101' "$POLICY_RC_D"; then
      if [[ -e $POLICY_RC_D ]]; then
        mkdir -p "$LAB_BACKUP/usr/sbin"
        cp -a "$POLICY_RC_D" "$LAB_BACKUP/usr/sbin/policy-rc.d"
      fi
      mkdir -p "$(dirname "$POLICY_RC_D")"
      printf '#!/bin/sh\n%s\nexit 101\n' "$POLICY_RC_D_HEADER" >"$POLICY_RC_D.tmp"
      chmod 755 "$POLICY_RC_D.tmp"
      mv -f "$POLICY_RC_D.tmp" "$POLICY_RC_D"
    fi
    "$@"
  )
}
# policy_rc_d_restore — remove the lab's policy-rc.d and put back the host's (also what a killed run left)
policy_rc_d_restore() {
  if [[ -f $POLICY_RC_D ]] && grep -qxF "$POLICY_RC_D_HEADER" "$POLICY_RC_D"; then rm -f "$POLICY_RC_D"; fi
  if [[ -e $LAB_BACKUP/usr/sbin/policy-rc.d && ! -e $POLICY_RC_D ]]; then
    mv -f "$LAB_BACKUP/usr/sbin/policy-rc.d" "$POLICY_RC_D"
  fi
  return 0
}
