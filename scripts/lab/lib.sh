# lib.sh — shared by every scripts/lab script (source it; it sets `set -euo pipefail`).
#
# What lives where (the facts other tools rely on are listed in scripts/lab/README.md):
#   $LAB_DIR (= <repo>/.lab)       secrets.env, clouds.yaml, ceph/, libvirt/, image/, log/, state/
#   /run/lab/<service>.pid          pid files of the daemons the lab starts itself
#   /var/log/<project>/<svc>.log    service logs (Debian's locations)
# shellcheck shell=bash
# shellcheck disable=SC2034  # a library: its settings (addresses, service lists, S_* of svc_def) are used by the scripts that source it
set -euo pipefail

LAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LAB_BIN=$LAB_ROOT/scripts/lab
LAB_DIR=${LAB_DIR:-$LAB_ROOT/.lab}
LAB_RUN=/run/lab
LAB_STATE=$LAB_DIR/state
LAB_LOG=$LAB_DIR/log
PY=/usr/bin/python3                  # OpenStack's libraries import only with Debian's python (not pyenv's)
export LAB_DIR
# what the lab owns on the host: marker, records of what it made, backups ($LAB_HOME = /var/lib/cloudpulse-lab)
# shellcheck source=scripts/lab/host.sh
. "$LAB_BIN/host.sh"
# shellcheck source=scripts/lab/teardown.sh
. "$LAB_BIN/teardown.sh"

# --- addresses ----------------------------------------------------------------------------------------------
SVC_IP=127.0.0.1                     # every service listens here (loopback only)
VIP=127.0.0.10                       # HAProxy's public frontends (the catalog's public endpoints); on lo by 127/8
EXT_BRIDGE=br-lab                    # host side of the external (provider) network, physnet "public"
EXT_PHYSNET=public
EXT_CIDR=172.24.4.0/24
EXT_GW=172.24.4.1
EXT_POOL_START=172.24.4.10
EXT_POOL_END=172.24.4.250
# ranges that must never leave the machine: unreachable routes (high metric) stay installed even when down.
# Tenant subnets live only inside neutron's namespaces (never on the host), so only the external range is here.
LAB_RANGES=("$EXT_CIDR")
UNREACHABLE_METRIC=4000
REGION=RegionOne

# service → port (services on $SVC_IP, HAProxy frontends on $VIP with the same port)
declare -A API_PORT=([keystone]=5000 [glance-api]=9292 [placement-api]=8778 [nova-api]=8774
  [nova-api-metadata]=8775 [neutron-server]=9696 [cinder-api]=8776)
# HAProxy backend name for each public API (server name is always api-1)
declare -A HA_BACKEND=([keystone]=keystone [glance-api]=glance [placement-api]=placement [nova-api]=nova
  [neutron-server]=neutron [cinder-api]=cinder)
HA_SOCKET=/run/haproxy/admin.sock
HA_STATS_PORT=8404
RABBIT_MGMT_PORT=15672

# OpenStack services in start order (agents after the RPC server; computes last)
OS_APIS=(keystone glance-api placement-api nova-api nova-api-metadata neutron-server cinder-api)
OS_CONTROL=(nova-conductor nova-scheduler cinder-scheduler)
OS_VOLUME=(cinder-volume)

# --- compute hosts: LAB_COMPUTES=N (1..3) --------------------------------------------------------------------
# How many compute hosts compute-1..N the lab runs: $LAB_COMPUTES, else the number up.sh last brought the lab up
# with ($LAB_STATE/computes, so that status, ctl and down.sh see a 3-host lab as one), else 2. Everything per host
# derives from COMPUTES (set_computes): nova-compute-N, neutron-linuxbridge-agent-compute-N (iptables prefix
# nlb-compute-N), libvirt-compute-N, /etc/nova/compute-N.conf, smoke's one VM per host, health.py's expected agents.
LAB_COMPUTES_MAX=3
LAB_COMPUTES_FILE=$LAB_STATE/computes
# set_computes N — COMPUTES, OS_AGENTS and OS_COMPUTE for N compute hosts; compute-1 is also the network node (dhcp,
# l3 and metadata agents run with host = compute-1); one linuxbridge agent per compute host (ports bind to the host
# of their nova-compute)
set_computes() {
  { [[ $1 =~ ^[0-9]+$ ]] && (($1 >= 1 && $1 <= LAB_COMPUTES_MAX)); } ||
    die "LAB_COMPUTES must be a number of compute hosts from 1 to $LAB_COMPUTES_MAX, not '$1'"
  local i
  COMPUTES=() OS_COMPUTE=() OS_AGENTS=()
  for ((i = 1; i <= $1; i++)); do
    COMPUTES+=("compute-$i")
    OS_COMPUTE+=("nova-compute-$i")
    OS_AGENTS+=("neutron-linuxbridge-agent-compute-$i")
  done
  OS_AGENTS+=(neutron-dhcp-agent neutron-l3-agent neutron-metadata-agent)
}
lab_computes() {                                      # the number of compute hosts (see above)
  if [[ -n ${LAB_COMPUTES:-} ]]; then echo "$LAB_COMPUTES"
  elif [[ -s $LAB_COMPUTES_FILE ]]; then echo "$(<"$LAB_COMPUTES_FILE")"
  else echo 2; fi
}

# --- output -------------------------------------------------------------------------------------------------
LAB_T0=${LAB_T0:-$EPOCHSECONDS}
export LAB_T0
say() { printf '[lab %4ds] %s\n' $((EPOCHSECONDS - LAB_T0)) "$*"; }
die() { printf 'lab: %s\n' "$*" >&2; exit 1; }
need_root() { [[ $EUID -eq 0 ]] || die "run as root (the lab starts system daemons)"; }
set_computes "$(lab_computes)"                       # COMPUTES, OS_AGENTS, OS_COMPUTE (see "compute hosts" above)

# --- secrets ------------------------------------------------------------------------------------------------
# Generated once, mode 600; never printed. Removed only by `down.sh --purge`.
SECRETS=$LAB_DIR/secrets.env
load_secrets() {
  mkdir -p "$LAB_DIR"
  if [[ ! -s $SECRETS ]]; then
    local tmp k
    tmp=$(mktemp "$LAB_DIR/.secrets.XXXXXX")
    {
      echo "# lab secrets, generated by scripts/lab on $(date -u +%FT%TZ); never commit or print"
      for k in ADMIN_PASS MEMBER_PASS SERVICE_PASS DB_PASS RABBIT_PASS RABBIT_MON_PASS MYSQL_MON_PASS METADATA_SECRET; do
        printf '%s=%s\n' "$k" "$(tr -dc 'A-Za-z0-9' </dev/urandom | head -c 24)"
      done
    } >"$tmp"
    chmod 600 "$tmp"
    mv "$tmp" "$SECRETS"
  fi
  # shellcheck disable=SC1090
  . "$SECRETS"
}

# --- waiting ------------------------------------------------------------------------------------------------
# retry SECONDS WHAT CMD... — run CMD every 0.5 s until it succeeds; die naming WHAT after SECONDS
retry() {
  local limit=$1 what=$2 end; shift 2
  end=$((EPOCHSECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    ((EPOCHSECONDS < end)) || die "timed out after ${limit}s waiting for $what"
    sleep 0.5
  done
}
port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }       # port_open HOST PORT
port_closed() { ! port_open "$@"; }
http_answers() { [[ $(curl -s -o /dev/null -m 5 -w '%{http_code}' "$1") =~ ^[1-4] ]]; }  # any non-5xx reply
waitfor() { retry "${2:-120}" "$1" http_answers "$1"; }                         # waitfor URL [SECONDS]

# --- ini files ----------------------------------------------------------------------------------------------
# ini_batch < lines: "FILE<TAB>SECTION<TAB>KEY<TAB>VALUE" (VALUE @delete removes) — one python process
ini_batch() { "$PY" "$LAB_BIN/ini.py"; }

# --- daemons the lab starts itself (pid file in /run/lab) ----------------------------------------------------
# svc_def NAME sets S_USER S_PROJ S_LOG S_PORT S_STOPSIG and the array S_CMD; returns 1 for unknown names.
svc_def() {
  S_NAME=$1 S_PORT="" S_STOPSIG=TERM S_CMD=()
  local uw n
  uw=$(command -v uwsgi_python311 || command -v uwsgi_python3 || echo /usr/bin/uwsgi_python3)
  case $1 in
    keystone | placement-api | nova-api | nova-api-metadata | cinder-api)
      S_PROJ=${1%%-*} n=$1
      [[ $1 == keystone ]] && n=keystone
      S_USER=$S_PROJ S_PORT=${API_PORT[$1]} S_STOPSIG=INT
      S_LOG=$(sed -n 's/^logto *= *//p' "/etc/$S_PROJ/$n-uwsgi.ini")
      S_CMD=("$uw" --http-socket "$SVC_IP:$S_PORT" --ini "/etc/$S_PROJ/$n-uwsgi.ini")
      ;;
    neutron-server)
      # eventlet server: API (in the main process, green threads) + one RPC worker process. Under uwsgi with
      # threads, neutron's eventlet monkey patching breaks ("greenlet.error: cannot switch to a different thread").
      S_PROJ=neutron S_USER=neutron S_PORT=9696 S_LOG=/var/log/neutron/neutron-server.log
      S_CMD=(/usr/bin/neutron-server --config-file=/etc/neutron/neutron.conf
        --config-file=/etc/neutron/plugins/ml2/ml2_conf.ini --log-file="$S_LOG") ;;
    glance-api)
      S_PROJ=glance S_USER=glance S_PORT=9292 S_LOG=/var/log/glance/glance-api.log
      S_CMD=(/usr/bin/glance-api --config-file=/etc/glance/glance-api.conf --log-file="$S_LOG") ;;
    nova-conductor | nova-scheduler)
      S_PROJ=nova S_USER=nova S_LOG=/var/log/nova/$1.log
      S_CMD=("/usr/bin/$1" --config-file=/etc/nova/nova.conf --log-file="$S_LOG") ;;
    nova-compute-[0-9])
      S_PROJ=nova S_USER=nova S_LOG=/var/log/nova/$1.log
      S_CMD=(/usr/bin/nova-compute --config-file=/etc/nova/nova.conf --config-file="/etc/nova/${1#nova-}.conf"
        --log-file="$S_LOG") ;;
    neutron-linuxbridge-agent-compute-[0-9])
      # started through a symlink named nlb-compute-N: neutron names its iptables chains after argv[0], so the
      # agents sharing this network namespace keep apart chains (nlb-compute-1-…, nlb-compute-2-…)
      n=${1#neutron-linuxbridge-agent-}
      S_PROJ=neutron S_USER=neutron S_LOG=/var/log/neutron/$1.log
      S_CMD=("/var/lib/neutron/bin/nlb-$n" --config-file=/etc/neutron/neutron.conf
        --config-file=/etc/neutron/plugins/ml2/ml2_conf.ini --config-file=/etc/neutron/plugins/ml2/linuxbridge_agent.ini
        --config-file="/etc/neutron/linuxbridge-$n.ini" --log-file="$S_LOG") ;;
    neutron-dhcp-agent | neutron-l3-agent | neutron-metadata-agent)
      n=${1#neutron-}; n=${n%-agent}
      S_PROJ=neutron S_USER=neutron S_LOG=/var/log/neutron/$1.log
      S_CMD=("/usr/bin/$1" --config-file=/etc/neutron/neutron.conf --config-file="/etc/neutron/${n}_agent.ini"
        --log-file="$S_LOG") ;;
    cinder-scheduler | cinder-volume)
      S_PROJ=cinder S_USER=cinder S_LOG=/var/log/cinder/$1.log
      S_CMD=("/usr/bin/$1" --config-file=/etc/cinder/cinder.conf --log-file="$S_LOG") ;;
    haproxy)
      S_PROJ=haproxy S_USER=root S_LOG=/var/log/haproxy/haproxy.log
      S_CMD=(/usr/sbin/haproxy -f /etc/haproxy/haproxy.cfg) ;;
    *) return 1 ;;
  esac
}
svc_pidfile() { echo "$LAB_RUN/$1.pid"; }
svc_pid() {                                           # prints the pid when the daemon is alive
  local f p; f=$(svc_pidfile "$1")
  [[ -s $f ]] || return 1
  p=$(<"$f")
  [[ -d /proc/$p ]] && ! grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null || return 1
  # a pid file that outlived its daemon (the machine's processes ended, /run stayed) may name a pid reused by
  # something else: it counts only when the process runs the service's program
  local want; want=$(svc_def "$1" && basename "${S_CMD[0]}") || return 1
  tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF -- "$want" || return 1
  echo "$p"
}
svc_running() { svc_pid "$1" >/dev/null; }

# svc_start NAME — idempotent; does not wait for readiness
svc_start() {
  svc_def "$1" || die "unknown service $1"
  local p
  if p=$(svc_pid "$1"); then rec_proc "$p" "svc:$1"; return 0; fi   # (recorded: a lab from before the records)
  local d
  for d in /var/lock/$S_PROJ /var/run/$S_PROJ /var/cache/$S_PROJ /var/lib/$S_PROJ /var/log/$S_PROJ; do
    [[ -d $d ]] || install -d -o "$S_USER" -g "$S_USER" "$d"
  done
  mkdir -p "$LAB_RUN"
  touch "$S_LOG"; chown "$S_USER:" "$S_LOG"
  # fewer malloc arenas: the threaded Python daemons keep ~10-20 % less resident memory
  MALLOC_ARENA_MAX=2 start-stop-daemon --start --quiet --background --make-pidfile --pidfile "$(svc_pidfile "$1")" \
    --chuid "$S_USER:$S_USER" --chdir "/var/lib/$S_PROJ" --output "$S_LOG" \
    --startas "${S_CMD[0]}" -- "${S_CMD[@]:1}"
  local pf; pf=$(svc_pidfile "$1")
  [[ ! -s $pf ]] || rec_proc "$(<"$pf")" "svc:$1"
}

# svc_stop NAME [SECONDS] — signal the daemon, wait for it to exit, then KILL its process group (the daemon
# and its workers: start-stop-daemon gave it a group of its own) after SECONDS or when workers linger, and what
# else descended from it (helpers started through sudo have sessions of their own)
svc_stop() {
  svc_def "$1" || die "unknown service $1"
  local p pg i tree limit=${2:-20}
  p=$(svc_pid "$1") || { rm -f "$(svc_pidfile "$1")"; stop_recorded_procs "svc:$1"; return 0; }
  tree=$(proc_tree "$p")
  pg=$(ps -o pgid= -p "$p" | tr -d ' ')
  [[ -n $pg && $pg != "$(ps -o pgid= -p $$ | tr -d ' ')" ]] || pg=""
  kill -"$S_STOPSIG" "$p" 2>/dev/null || true
  for ((i = 0; i < limit * 5; i++)); do [[ -d /proc/$p ]] || break; sleep 0.2; done
  if [[ -n $pg ]]; then
    kill -KILL -- "-$pg" 2>/dev/null || true
  elif [[ -d /proc/$p ]]; then
    kill -KILL "$p" 2>/dev/null || true
  fi
  for ((i = 0; i < 25; i++)); do [[ -d /proc/$p ]] || break; sleep 0.2; done
  kill_procs 2 <<<"$tree"
  rm -f "$(svc_pidfile "$1")"
  stop_recorded_procs "svc:$1"
}

# --- libvirt per compute host -------------------------------------------------------------------------------
# Each compute host gets dbus + virtlogd + libvirtd in a private mount+UTS namespace (hostname compute-N, so
# libvirt reports a distinct hypervisor hostname) with private /etc/libvirt, /run/libvirt, /var/lib/libvirt.
lv_dir() { echo "$LAB_DIR/libvirt/$1"; }              # lv_dir compute-1
lv_run() { echo "/run/libvirt-$1"; }                  # the namespace's /run/libvirt, seen from the host
lv_uri() { echo "qemu:///system?socket=$(lv_run "$1")/libvirt-sock"; }
lv_pid() {                                            # lv_pid compute-1 libvirtd|virtlogd|dbus
  local f p; f=$(lv_run "$1")/$2.pid
  [[ -s $f ]] || return 1
  p=$(<"$f"); [[ -d /proc/$p ]] && echo "$p"
}

# --- networking safety --------------------------------------------------------------------------------------
check_forwarding() {
  [[ $(</proc/sys/net/ipv4/ip_forward) == 0 ]] ||
    die "net.ipv4.ip_forward=1 in the root namespace: the lab refuses to run (it would let VMs route off the machine); set it to 0 yourself"
}

# --- misc ---------------------------------------------------------------------------------------------------
os_admin() {                                          # openstack CLI as the lab admin
  OS_CLIENT_CONFIG_FILE=$LAB_DIR/clouds.yaml OS_CLOUD=lab-admin "$PY" /usr/bin/openstack "$@"
}
mysql_root() { mysql --protocol=socket -uroot "$@"; }

# --- HAProxy admin socket -----------------------------------------------------------------------------------
ha_cmd() { printf '%s\n' "$1" | socat -t 5 stdio "unix-connect:$HA_SOCKET"; }   # ha_cmd "show stat"
ha_server_status() {                                  # ha_server_status BACKEND SERVER → UP, DOWN, MAINT, …
  ha_cmd "show stat" | awk -F, -v b="$1" -v s="$2" '$1 == b && $2 == s {print $18; found=1} END {exit !found}'
}

# --- one lifecycle operation at a time ------------------------------------------------------------------------
# up.sh, down.sh and ctl (stop/start/restart) hold this lock, so a fault is never injected into a lab that is
# being brought up or down, and two bring-ups never interleave. status.sh and logs.sh do not take it.
# Usage, first thing in a script: lab_lock SECONDS "$@" — re-executes the script under flock(1) -o, so the lock
# is held by flock and not inherited by the daemons the script starts.
lab_lock() {
  [[ -z ${LAB_LOCK_HELD:-} ]] || return 0
  local wait=$1; shift
  mkdir -p "$LAB_RUN"
  flock -n "$LAB_RUN/lab.lock" true ||
    echo "lab: waiting up to ${wait}s for another lab operation (up/down/ctl) to finish..." >&2
  LAB_LOCK_HELD=1 exec flock -o -w "$wait" -E 75 "$LAB_RUN/lab.lock" "$0" "$@"
}

# --- fault: a lower MTU on one VM port's tap (ctl stop|start|status tap-mtu:PORT_ID[:MTU]) -------------------------
# The tap of a neutron port is "tap" + the port id's first 11 characters, a port of the network's bridge brq…; a
# bridge drops, without a word, a frame bigger than the MTU of the port it leaves by, so every path into that VM
# carries at most the new MTU. Only such a tap is touched; the first lowering keeps the MTU it had in
# $TAP_MTU_DIR/<tap>, which start puts back.
TAP_MTU_DIR=${HOST_ROOT}$LAB_RUN/tap-mtu
SYS_NET=${HOST_ROOT}/sys/class/net
tap_of_port() {                                       # tap_of_port PORT_ID → the port's tap device name
  [[ $1 =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]] || die "'$1' is not a neutron port id (a UUID)"
  echo "tap${1:0:11}"
}
lab_tap() {                                           # lab_tap DEV — dies unless DEV is a neutron tap on a brq bridge
  local dev=$1 master
  [[ $dev =~ ^tap[0-9a-f]{8}-[0-9a-f]{2}$ ]] || die "'$dev' is not a neutron tap name (tap + a port id's first 11 characters)"
  [[ -e $SYS_NET/$dev ]] || die "no device $dev (is the port bound to a running VM?)"
  [[ -e $SYS_NET/$dev/tun_flags ]] || die "$dev is not a tap device"
  master=$(readlink "$SYS_NET/$dev/master" 2>/dev/null) || master=""
  master=${master##*/}
  [[ $master =~ ^brq[0-9a-f]{8}-[0-9a-f]{2}$ ]] || die "$dev is not a port of a neutron bridge (brq…): its master is '${master:-none}'"
}
tap_mtu_lower() {                                     # tap_mtu_lower PORT_ID MTU
  local dev cur
  dev=$(tap_of_port "$1") || exit 1             # (die in the substitution ends only that)
  lab_tap "$dev"
  { [[ $2 =~ ^[0-9]+$ ]] && (($2 >= 68)); } || die "the MTU must be a number from 68, not '$2'"
  cur=$(<"$SYS_NET/$dev/mtu")
  (($2 <= cur)) || die "tap-mtu only lowers an MTU: $dev has $cur, $2 is more"
  mkdir -p "$TAP_MTU_DIR"
  [[ -s $TAP_MTU_DIR/$dev ]] || echo "$cur" >"$TAP_MTU_DIR/$dev"
  ip link set dev "$dev" mtu "$2"
  echo "$dev: MTU $2 (was $(<"$TAP_MTU_DIR/$dev"))"
}
tap_mtu_restore() {                                   # tap_mtu_restore PORT_ID — idempotent
  local dev f
  dev=$(tap_of_port "$1") || exit 1             # (die in the substitution ends only that)
  f=$TAP_MTU_DIR/$dev
  if [[ ! -s $f ]]; then echo "$dev: not lowered, nothing to restore"; return 0; fi
  if [[ ! -e $SYS_NET/$dev ]]; then rm -f "$f"; echo "$dev: gone (its VM was deleted), nothing to restore"; return 0; fi
  lab_tap "$dev"
  ip link set dev "$dev" mtu "$(<"$f")"
  echo "$dev: MTU $(<"$f") restored"
  rm -f "$f"
}
tap_mtu_status() {                                    # tap_mtu_status PORT_ID — fails while lowered
  local dev
  dev=$(tap_of_port "$1") || exit 1             # (die in the substitution ends only that)
  lab_tap "$dev"
  if [[ -s $TAP_MTU_DIR/$dev ]]; then echo "$dev: MTU $(<"$SYS_NET/$dev/mtu"), lowered (was $(<"$TAP_MTU_DIR/$dev"))"; return 1; fi
  echo "$dev: MTU $(<"$SYS_NET/$dev/mtu")"
}
