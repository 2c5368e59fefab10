#!/bin/bash
# ceph.sh — the lab's single-node Ceph: one mon, one mgr and one BlueStore OSD on a sparse file, loopback only,
# with an RBD pool `volumes` and a `client.cinder` user for Cinder (RBDDriver) and nova (libvirt rbd disks).
#
#   ceph.sh up                   start (bootstrap the first time, restart from the kept data afterwards); idempotent
#   ceph.sh status               print the `ceph -s` summary; exit 0 only when healthy
#   ceph.sh down                 stop the daemons (osd, mgr, mon) and wait for them; the data is KEPT
#   ceph.sh wipe                 down, then delete the cluster data (the next `up` bootstraps a new cluster)
#   ceph.sh libvirt-secret URI   define the ceph secret (uuid CEPH_SECRET_UUID, value = the client.cinder key)
#                                in the libvirtd at URI, e.g. 'qemu:///system?socket=/path/libvirt-sock'; idempotent
#
# State: $LAB_DIR/ceph/ (default <repo>/.lab/ceph: mon store, mgr keyring, OSD dir with the 10 GiB sparse
# block.file, logs, pid files, admin sockets). Outputs: /etc/ceph/ceph.conf (world-readable, no secrets),
# /etc/ceph/ceph.client.admin.keyring (root only), /etc/ceph/ceph.client.cinder.keyring (owner cinder, group
# nova, 0440) and $LAB_DIR/ceph.env (0600): CEPH_FSID, CEPH_SECRET_UUID, CEPH_CINDER_KEY, CEPH_POOL, CEPH_USER,
# CEPH_CONF, CEPH_MON_HOST.
# CEPH_SECRET_UUID is made once and survives down, up and wipe ($LAB_DIR/ceph/secret.uuid).
#
# Health: `up` waits (CEPH_UP_TIMEOUT, default 300 s) for HEALTH_OK. HEALTH_WARN counts as healthy only when
# every check in it is in CEPH_ACCEPTED_WARNINGS (default: POOL_NO_REDUNDANCY — pools of size 1 are the point
# of a one-OSD cluster; ceph.conf already silences it with mon_warn_on_pool_no_redundancy=false).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LAB_DIR=${LAB_DIR:-$ROOT/.lab}
D=$LAB_DIR/ceph
ETC=/etc/ceph
CONF=$ETC/ceph.conf
ADMIN_KEYRING=$ETC/ceph.client.admin.keyring
CINDER_KEYRING=$ETC/ceph.client.cinder.keyring
ENV_FILE=$LAB_DIR/ceph.env
POOL=volumes
POOL_PGS=16
CLIENT=cinder
MON_ID=a MGR_ID=x OSD_ID=0
MON_ADDRS='[v2:127.0.0.1:3300,v1:127.0.0.1:6789]'
SECRET_USAGE='client.cinder secret'
ACCEPTED_WARNINGS=${CEPH_ACCEPTED_WARNINGS:-POOL_NO_REDUNDANCY}
UP_TIMEOUT=${CEPH_UP_TIMEOUT:-300}

# shellcheck source=scripts/lab/host.sh
. "$ROOT/scripts/lab/host.sh"                            # records of the daemons it starts (rec_proc)

T0=$EPOCHREALTIME
say() { printf '[ceph %6.1fs] %s\n' "$(bc <<<"$EPOCHREALTIME - $T0")" "$*"; }
die() { printf 'ceph.sh: %s\n' "$*" >&2; exit 1; }
# ceph CLI that never hangs on a dead mon
cephc() { ceph --connect-timeout 10 "$@"; }
# quiet CMD... — run CMD, show its output only when it fails
quiet() { local out; out=$("$@" 2>&1) || { printf '%s\n' "$out" >&2; return 1; }; }

need_packages() {
  local missing=() b
  for b in ceph-mon ceph-mgr ceph-osd ceph ceph-authtool monmaptool rbd uuidgen bc jq; do
    command -v "$b" >/dev/null || missing+=("$b")
  done
  ((${#missing[@]} == 0)) || die "missing ${missing[*]}: install ceph-mon ceph-mgr ceph-osd ceph-common uuid-runtime bc jq (scripts/lab/install.sh does)"
}

# --- daemons --------------------------------------------------------------------------------------------------
ASOK_DIR=/run/lab/ceph                                   # admin sockets (ceph.conf run_dir)
pidfile() { echo "$D/run/$1.pid"; }                      # $1 = mon.a | mgr.x | osd.0
running() {                                               # running mon.a → true if that daemon is alive
  local f p; f=$(pidfile "$1"); [[ -s $f ]] || return 1; p=$(<"$f")
  [[ -r /proc/$p/comm && $(</proc/"$p"/comm) == ceph-"${1%%.*}" ]]
}
start_daemon() {                                          # start_daemon mon a → ceph-mon -i a (daemonizes itself)
  if running "$1.$2"; then
    rec_proc "$(<"$(pidfile "$1.$2")")" "ceph-$1.$2"; say "$1.$2 already running (pid $(<"$(pidfile "$1.$2")"))"; return
  fi
  rm -f "$(pidfile "$1.$2")"
  # daemonizes itself once initialised (the OSD after mounting BlueStore); early stderr goes to a start log
  "ceph-$1" -i "$2" >"$D/log/$1.$2.start.log" 2>&1 ||
    die "ceph-$1 -i $2 failed to start: see $D/log/$1.$2.start.log and $D/log/$1.$2.log"
  waitfor 30 "ceph-$1 -i $2 to write its pid file" running "$1.$2"   # the daemon writes it after forking
  rec_proc "$(<"$(pidfile "$1.$2")")" "ceph-$1.$2"
  say "$1.$2 started (pid $(<"$(pidfile "$1.$2")"))"
}
stop_daemon() {                                           # SIGTERM, wait up to 60 s (the OSD takes ~5 s)
  local n=$1 f p i; f=$(pidfile "$n")
  running "$n" || { rm -f "$f"; return 0; }
  p=$(<"$f"); kill "$p"
  for ((i = 0; i < 600; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$p" 2>/dev/null && die "$n (pid $p) did not stop within 60 s; see $D/log/$n.log"
  rm -f "$f"; say "$n stopped"
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
osd_up() { [[ $(cephc osd stat -f json | jq .num_up_osds) -ge 1 ]]; }
mgr_available() { [[ $(cephc mgr stat -f json | jq .available) == true ]]; }

# healthy → 0 when HEALTH_OK, or HEALTH_WARN whose checks are all in ACCEPTED_WARNINGS
HEALTH=""                                                 # the last `ceph health` seen by healthy()
healthy() {
  local h status checks c
  h=$(cephc health -f json 2>/dev/null) || return 1
  status=$(jq -r .status <<<"$h")
  HEALTH=$(jq -r '.status + ([.checks | to_entries[] | " \(.key): \(.value.summary.message)"] | join(";"))' <<<"$h")
  [[ $status == HEALTH_OK ]] && return 0
  [[ $status == HEALTH_WARN ]] || return 1
  checks=$(jq -r '.checks | keys[]' <<<"$h")
  for c in $checks; do [[ " ${ACCEPTED_WARNINGS//,/ } " == *" $c "* ]] || return 1; done
}

# --- configuration --------------------------------------------------------------------------------------------
write_conf() {                                            # write_conf FSID — rewritten on every up (same content)
  local tmp; mkdir -p "$ETC"; tmp=$(mktemp "$ETC/.ceph.conf.XXXXXX")
  cat >"$tmp" <<CONF
# written by scripts/lab/ceph.sh — single-node lab cluster; state in $D
[global]
fsid = $1
mon_host = $MON_ADDRS
public_network = 127.0.0.0/8
ms_bind_ipv6 = false
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
auth_allow_insecure_global_id_reclaim = false
# daemons' admin sockets (clients create none): a short path, since a UNIX socket path must be under 108
# bytes and the checkout's own path (a CI runner's workspace) can be that long alone
run_dir = $ASOK_DIR
# one OSD: size-1 pools, no failure domain above the OSD, no autoscaler reshuffles
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
osd_crush_chooseleaf_type = 0
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_allow_pool_delete = true
# log_file/pid_file only in daemon sections: clients (qemu, cinder, nova) must not try to write them
[mon]
log_file = $D/log/\$name.log
pid_file = $D/run/\$name.pid
mon_data = $D/mon/\$cluster-\$id
mon_memory_target = 268435456
mon_osd_cache_size_min = 33554432
rocksdb_cache_size = 33554432
mon_data_avail_warn = 5
[mgr]
log_file = $D/log/\$name.log
pid_file = $D/run/\$name.pid
mgr_data = $D/mgr/\$cluster-\$id
# only default-on modules; disabling always-on ones gives HEALTH_ERR MGR_MODULE_ERROR
mgr_disabled_modules = diskprediction_local,iostat,nfs,restful
[osd]
log_file = $D/log/\$name.log
pid_file = $D/run/\$name.pid
osd_data = $D/osd/\$cluster-\$id
osd_objectstore = bluestore
bluestore_block_path = $D/osd/\$cluster-\$id/block.file
bluestore_block_create = true
bluestore_block_size = 10737418240
bluestore_block_db_create = false
bluestore_block_wal_create = false
osd_memory_target = 939524096
osd_memory_cache_min = 134217728
bluestore_cache_autotune = true
osd_op_num_shards = 2
osd_op_num_threads_per_shard = 1
CONF
  chmod 0644 "$tmp"; mv -f "$tmp" "$CONF"
}

# install_file SRC DST OWNER:GROUP MODE — atomic copy
install_file() { install -o "${3%%:*}" -g "${3##*:}" -m "$4" "$1" "$2.tmp.$$" && mv -f "$2.tmp.$$" "$2"; }

cinder_keyring_perms() {                                  # owner cinder, group nova, 0440: both services read it
  local owner=root group=root
  getent passwd cinder >/dev/null && owner=cinder
  getent group nova >/dev/null && group=nova
  [[ $owner == cinder && $group == nova ]] ||
    say "warning: user cinder or group nova missing; $CINDER_KEYRING is $owner:$group 0440 (rerun up after install)"
  chown "$owner:$group" "$CINDER_KEYRING"; chmod 0440 "$CINDER_KEYRING"
}

secret_uuid() {                                           # stable across up/down/wipe
  [[ -s $D/secret.uuid ]] || uuidgen >"$D/secret.uuid"
  cat "$D/secret.uuid"
}

write_env() {
  local key tmp; key=$(sed -n 's/^[[:space:]]*key = //p' "$CINDER_KEYRING")
  [[ -n $key ]] || die "no key in $CINDER_KEYRING"
  tmp=$(mktemp "$LAB_DIR/.ceph.env.XXXXXX")
  cat >"$tmp" <<ENV
# written by scripts/lab/ceph.sh up
CEPH_FSID=$1
CEPH_SECRET_UUID=$(secret_uuid)
CEPH_CINDER_KEY=$key
CEPH_POOL=$POOL
CEPH_USER=$CLIENT
CEPH_CONF=$CONF
CEPH_MON_HOST=127.0.0.1:6789
ENV
  chmod 0600 "$tmp"; mv -f "$tmp" "$ENV_FILE"
}

# --- up -------------------------------------------------------------------------------------------------------
bootstrap_mon() {                                         # first run only: keys, monmap, mon store
  local fsid=$1
  ceph-authtool --create-keyring "$D/mon.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool --create-keyring "$D/client.admin.keyring" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mds 'allow *' --cap mgr 'allow *' >/dev/null
  install_file "$D/client.admin.keyring" "$ADMIN_KEYRING" root:root 0600
  ceph-authtool "$D/mon.keyring" --import-keyring "$D/client.admin.keyring" >/dev/null
  monmaptool --create --clobber --addv "$MON_ID" "$MON_ADDRS" --fsid "$fsid" "$D/monmap" >/dev/null
  rm -rf "$D/mon/ceph-$MON_ID"; mkdir -p "$D/mon/ceph-$MON_ID"
  ceph-mon --mkfs -i "$MON_ID" --monmap "$D/monmap" --keyring "$D/mon.keyring"
  touch "$D/mon/ceph-$MON_ID/.lab-ready"
  say "mon.$MON_ID store created (fsid $fsid)"
}

bootstrap_osd() {                                         # first run only: register osd.0, mkfs the block file
  local uuid key id
  [[ -s $D/osd.uuid ]] || { uuidgen >"$D/osd.uuid"; ceph-authtool --gen-print-key >"$D/osd.key"; }
  uuid=$(<"$D/osd.uuid"); key=$(<"$D/osd.key")
  id=$(jq -n --arg k "$key" '{cephx_secret: $k}' | cephc osd new "$uuid" -i -)   # same uuid → same id on a retry
  [[ $id == "$OSD_ID" ]] || die "ceph osd new returned id '$id', expected $OSD_ID; run 'ceph.sh wipe' and retry"
  rm -rf "$D/osd/ceph-$OSD_ID"; mkdir -p "$D/osd/ceph-$OSD_ID"
  ceph-authtool --create-keyring "$D/osd/ceph-$OSD_ID/keyring" --name "osd.$OSD_ID" --add-key "$key" >/dev/null
  ceph-osd -i "$OSD_ID" --mkfs --osd-uuid "$uuid" >"$D/log/osd-mkfs.log" 2>&1 ||
    die "ceph-osd --mkfs failed: see $D/log/osd-mkfs.log"
  touch "$D/osd/ceph-$OSD_ID/.lab-ready"
  say "osd.$OSD_ID BlueStore created on a sparse 10 GiB file"
}

ensure_pool_and_client() {                               # few CLI calls: each costs ~1 s on a busy host
  local pools
  pools=$(cephc osd pool ls detail -f json)
  if ! jq -e --arg p "$POOL" 'any(.[]; .pool_name == $p)' <<<"$pools" >/dev/null; then
    quiet cephc osd pool create "$POOL" "$POOL_PGS" "$POOL_PGS"
    say "pool $POOL created"
  fi
  if ! jq -e --arg p "$POOL" 'any(.[]; .pool_name == $p and (.application_metadata | has("rbd")))' <<<"$pools" >/dev/null; then
    rbd pool init "$POOL"; say "pool $POOL initialised for rbd"
  fi
  local caps=(mon 'profile rbd' osd "profile rbd pool=$POOL" mgr "profile rbd pool=$POOL")
  local tmp; tmp=$(mktemp)
  if ! cephc auth get "client.$CLIENT" -o "$tmp" 2>/dev/null; then
    cephc auth get-or-create "client.$CLIENT" "${caps[@]}" -o "$tmp"
    say "client.$CLIENT created"
  elif ! grep -qx $'\tcaps mon = "profile rbd"' "$tmp" ||
       ! grep -qx $'\tcaps osd = "profile rbd pool='"$POOL"'"' "$tmp" ||
       ! grep -qx $'\tcaps mgr = "profile rbd pool='"$POOL"'"' "$tmp"; then
    quiet cephc auth caps "client.$CLIENT" "${caps[@]}"
    cephc auth get "client.$CLIENT" -o "$tmp" 2>/dev/null
    say "client.$CLIENT caps reset"
  fi
  install_file "$tmp" "$CINDER_KEYRING" root:root 0440; rm -f "$tmp"
  cinder_keyring_perms
}

cmd_up() {
  need_packages
  mkdir -p "$D"/{mon,mgr/ceph-$MGR_ID,osd,run,log} "$ASOK_DIR"
  local fsid
  if [[ -f $D/mon/ceph-$MON_ID/.lab-ready ]]; then
    [[ -s $D/fsid ]] || die "$D has a mon store but no fsid file; run 'ceph.sh wipe' and retry"
    fsid=$(<"$D/fsid")
    write_conf "$fsid"
    install_file "$D/client.admin.keyring" "$ADMIN_KEYRING" root:root 0600
    say "restarting the existing cluster $fsid from $D"
  else
    if [[ -s $D/fsid ]]; then fsid=$(<"$D/fsid"); else fsid=$(uuidgen); echo "$fsid" >"$D/fsid"; fi
    rm -rf "$D/osd.uuid" "$D/osd.key" "$D/osd/ceph-$OSD_ID" "$D/mgr/ceph-$MGR_ID/keyring"   # a new mon knows neither
    say "bootstrapping a new cluster in $D"
    write_conf "$fsid"
    bootstrap_mon "$fsid"
  fi
  start_daemon mon "$MON_ID"
  waitfor 60 "mon.$MON_ID" cephc mon stat
  say "mon.$MON_ID answers on 127.0.0.1:3300 (v2) and 127.0.0.1:6789 (v1)"
  if [[ ! -s $D/mgr/ceph-$MGR_ID/keyring ]]; then
    cephc auth get-or-create "mgr.$MGR_ID" mon 'allow profile mgr' osd 'allow *' mds 'allow *' \
      -o "$D/mgr/ceph-$MGR_ID/keyring"
  fi
  start_daemon mgr "$MGR_ID"
  [[ -f $D/osd/ceph-$OSD_ID/.lab-ready ]] || bootstrap_osd
  start_daemon osd "$OSD_ID"
  waitfor 120 "osd.$OSD_ID up" osd_up;          say "osd.$OSD_ID up"
  waitfor 120 "mgr.$MGR_ID available" mgr_available; say "mgr.$MGR_ID available"
  ensure_pool_and_client
  write_env "$fsid"
  say "wrote $CONF, $CINDER_KEYRING, $ENV_FILE"
  local end=$(( ${EPOCHREALTIME%.*} + UP_TIMEOUT ))
  until healthy; do
    (( ${EPOCHREALTIME%.*} < end )) || die "not healthy after ${UP_TIMEOUT}s (accepted warnings: $ACCEPTED_WARNINGS): $HEALTH; see 'ceph health detail'"
    sleep 1
  done
  say "healthy: $HEALTH"
}

# --- down / wipe / status -------------------------------------------------------------------------------------
cmd_down() {
  local n strays
  for n in "osd.$OSD_ID" "mgr.$MGR_ID" "mon.$MON_ID"; do stop_daemon "$n"; done
  # daemons the lab started whose pid files are gone (their checkout deleted or re-cloned): the host's records
  # name them (pid and start time); nothing else is stopped
  strays=$(for n in "osd.$OSD_ID" "mgr.$MGR_ID" "mon.$MON_ID"; do alive_recorded_procs "ceph-$n"; done | cut -d' ' -f1)
  for n in "osd.$OSD_ID" "mgr.$MGR_ID" "mon.$MON_ID"; do stop_recorded_procs "ceph-$n"; done
  [[ -z $strays ]] || say "stopped ceph daemons without pid files: $(tr '\n' ' ' <<<"$strays")"
  say "stopped; data kept in $D ('ceph.sh wipe' deletes it)"
}

cmd_wipe() {
  cmd_down
  local keep; keep=$(cat "$D/secret.uuid" 2>/dev/null || true)
  rm -rf "$D" "$ENV_FILE" "$ADMIN_KEYRING" "$CINDER_KEYRING" "$CONF"
  mkdir -p "$D"; [[ -z $keep ]] || echo "$keep" >"$D/secret.uuid"
  say "wiped $D (kept secret.uuid)"
}

cmd_status() {
  local n down=()
  for n in "mon.$MON_ID" "mgr.$MGR_ID" "osd.$OSD_ID"; do running "$n" || down+=("$n"); done
  if ((${#down[@]})); then echo "ceph: not running: ${down[*]} (start with scripts/lab/ceph.sh up)"; exit 1; fi
  cephc -s
  healthy || { echo "ceph: not healthy (accepted warnings: $ACCEPTED_WARNINGS)"; cephc health detail; exit 1; }
}

# --- libvirt secret -------------------------------------------------------------------------------------------
cmd_libvirt_secret() {
  local uri=${1:?usage: ceph.sh libvirt-secret URI (e.g. 'qemu:///system?socket=/path/libvirt-sock')}
  command -v virsh >/dev/null || die "virsh missing: install libvirt-clients (nova-compute pulls it in)"
  [[ -s $ENV_FILE ]] || die "$ENV_FILE missing: run 'scripts/lab/ceph.sh up' first"
  local CEPH_SECRET_UUID CEPH_CINDER_KEY
  CEPH_SECRET_UUID=$(sed -n 's/^CEPH_SECRET_UUID=//p' "$ENV_FILE")
  CEPH_CINDER_KEY=$(sed -n 's/^CEPH_CINDER_KEY=//p' "$ENV_FILE")
  [[ -n $CEPH_SECRET_UUID && -n $CEPH_CINDER_KEY ]] || die "$ENV_FILE lacks CEPH_SECRET_UUID/CEPH_CINDER_KEY: rerun 'ceph.sh up'"
  local V=(virsh -q -c "$uri")
  "${V[@]}" version >/dev/null 2>&1 || die "cannot reach libvirtd at $uri (is it running? is the socket path right?)"
  # usage names are unique: a secret with our usage name but another uuid would make secret-define fail
  local u
  for u in $("${V[@]}" secret-list | awk '{print $1}'); do
    [[ $u != "$CEPH_SECRET_UUID" ]] || continue
    if "${V[@]}" secret-dumpxml "$u" | grep -q "<name>$SECRET_USAGE</name>"; then
      "${V[@]}" secret-undefine "$u" >/dev/null; say "removed stale secret $u with usage '$SECRET_USAGE'"
    fi
  done
  SECRET_TMP=$(mktemp -d); trap 'rm -rf "$SECRET_TMP"' EXIT           # it holds the key for a moment
  local tmp=$SECRET_TMP
  cat >"$tmp/secret.xml" <<XML
<secret ephemeral='no' private='no'>
  <uuid>$CEPH_SECRET_UUID</uuid>
  <usage type='ceph'><name>$SECRET_USAGE</name></usage>
</secret>
XML
  "${V[@]}" secret-define "$tmp/secret.xml" >/dev/null
  if [[ $("${V[@]}" secret-get-value "$CEPH_SECRET_UUID" 2>/dev/null) == "$CEPH_CINDER_KEY" ]]; then
    say "libvirt secret $CEPH_SECRET_UUID already holds the client.$CLIENT key ($uri)"
  else
    (umask 077; printf '%s' "$CEPH_CINDER_KEY" >"$tmp/key")   # base64 key, as nova and devstack set it
    "${V[@]}" secret-set-value "$CEPH_SECRET_UUID" --file "$tmp/key" >/dev/null
    [[ $("${V[@]}" secret-get-value "$CEPH_SECRET_UUID") == "$CEPH_CINDER_KEY" ]] ||
      die "libvirt secret $CEPH_SECRET_UUID at $uri does not read back the client.$CLIENT key"
    say "libvirt secret $CEPH_SECRET_UUID set to the client.$CLIENT key ($uri)"
  fi
}

[[ ${BASH_SOURCE[0]} == "$0" ]] || return 0          # sourced (scripts/lab/test): functions only
case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  wipe) cmd_wipe ;;
  status) cmd_status ;;
  libvirt-secret) shift; cmd_libvirt_secret "$@" ;;
  *) die "usage: ceph.sh up|down|status|wipe|libvirt-secret URI" ;;
esac
