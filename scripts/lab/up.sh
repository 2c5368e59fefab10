#!/usr/bin/env bash
# up.sh (make lab-up) — bring the lab cloud up on this machine; idempotent, safe to rerun at any time.
#
# Installs missing Debian packages, configures and starts (without systemd) MariaDB/Galera, RabbitMQ,
# memcached, Ceph, a one-node Pacemaker cluster (corosync + pacemakerd), keystone, glance, placement, nova
# (api, metadata, conductor, scheduler, two compute hosts with private libvirtds), neutron (linuxbridge/vxlan, l3, dhcp, metadata), cinder (RBD), HAProxy and
# horizon, waits until every API answers and every agent is up, then creates the test project, user,
# flavors, image and external network and writes $LAB_DIR/clouds.yaml. One line per stage.
# Logs of helpers it runs: $LAB_DIR/log/. Service logs: scripts/lab/logs.sh.
# shellcheck source=scripts/lab/lib.sh
. "$(dirname "$0")/lib.sh"
need_root
check_forwarding
lab_lock 1800 "$@"
mkdir -p "$LAB_STATE" "$LAB_LOG" "$LAB_RUN"

# --- a host of its own: OpenStack, MariaDB, Ceph or Pacemaker state that no cloudpulse lab made is refused, before
# the lab's apt creates any (host.sh: the marker in /var/lib/cloudpulse-lab, what the lab made in its records)
host_claim "$LAB_DIR" "$SECRETS" || exit 1

# --- one lab per machine ---------------------------------------------------------------------------------
# The system-wide state (databases, keystone keys, instances, images, ceph) matches the secrets of one
# checkout's .lab: the owner, recorded in $LAB_OWNER. Another checkout (a fresh CI clone) or an owner whose
# secrets are gone takes the machine over: the old lab is stopped and purged, then this one starts from
# scratch (packages stay installed). Without that, new secrets would meet old databases and cell mappings.
take_over() {
  local prev=""
  [[ ! -f $LAB_OWNER ]] || prev=$(<"$LAB_OWNER")
  if [[ $prev == "$LAB_DIR" && -s $SECRETS ]]; then return 0; fi
  if [[ -z $prev && -s $SECRETS ]]; then :                         # a lab from before owners were recorded
  elif [[ -n $prev || -d /var/lib/mysql/keystone ]]; then
    local dir=$LAB_DIR
    [[ -z $prev || ! -d $prev ]] || dir=$prev
    say "this machine's lab belongs to ${prev:-another checkout}: stopping it and purging its state"
    LAB_DIR=$dir LAB_LOCK_HELD=1 "$LAB_BIN/down.sh" --purge >"$LAB_LOG/takeover.log" 2>&1 ||
      { tail -20 "$LAB_LOG/takeover.log" >&2; die "could not purge the previous lab (log: $LAB_LOG/takeover.log)"; }
    mkdir -p "$LAB_STATE" "$LAB_LOG"
    rm -f "$LAB_STATE"/*.done
  fi
  mkdir -p "${LAB_OWNER%/*}"
  echo "$LAB_DIR" >"$LAB_OWNER"
}
take_over

# bg NAME CMD... — run a helper in the background, output to $LAB_LOG/NAME.log; bgwait NAME collects it
declare -A BG=()
bg() { local n=$1; shift; "$@" >"$LAB_LOG/$n.log" 2>&1 & BG[$n]=$!; }
bgwait() {
  local n=$1 rc=0
  [[ -n ${BG[$n]:-} ]] || return 0
  wait "${BG[$n]}" || rc=$?
  unset "BG[$n]"
  if ((rc)); then tail -15 "$LAB_LOG/$n.log" | sed 's/^/    /' >&2; fi
  return $rc
}

pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null; }
# marker NAME PKG — true when NAME's one-time setup ran for this version of PKG (and the DB still has tables)
marker_ok() { [[ -f $LAB_STATE/$1.done && $(<"$LAB_STATE/$1.done") == "$(pkgver "$2")" ]] && db_has_tables "$3"; }
marker_set() { pkgver "$2" >"$LAB_STATE/$1.done"; }
db_has_tables() {
  [[ $(mysql_root -N -e "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='$1'" 2>/dev/null) -gt 0 ]]
}
as() { local u=$1; shift; su -s /bin/sh -c "$*" "$u"; }   # as USER 'command' (no secrets in commands)

# ---------------------------------------------------------------------------------------------------------
"$LAB_BIN/install.sh"
# The control plane on Debian's point-release versions (upgrade.sh: OLD), so that `upgrade.sh run` (TestUpgrade) has a
# real upgrade to do: done here, before any service starts, so nothing needs a restart (a daemon of a changed package
# that already runs, as on a rerun after an upgrade, is stopped and started below like the rest); ~1 s when already so.
# When neither the mirror nor the cache has those versions, the lab goes on with what is installed.
upg_rc=0
upg_out=$("$LAB_BIN/upgrade.sh" prepare --no-start 2>&1) || upg_rc=$?
case $upg_rc in
  0) [[ -z $upg_out ]] || printf '%s\n' "$upg_out" ;;
  3) say "packages: $(tail -1 <<<"$upg_out" | sed 's/^lab: //'); going on with the installed versions (upgrade.sh run will have nothing to upgrade)" ;;
  *) printf '%s\n' "$upg_out" | tail -15 >&2; die "upgrade.sh prepare --no-start failed (exit $upg_rc; logs: $LAB_LOG/upgrade/)" ;;
esac
load_secrets
export ADMIN_PASS SERVICE_PASS MEMBER_PASS
export KS_URL=http://$SVC_IP:5000 VIP SVC_IP REGION LAB_COMPUTE_HOSTS="${COMPUTES[*]}"
# the number of compute hosts this lab runs, for every later status, ctl and down.sh (lib.sh: lab_computes)
LAB_COMPUTES=${#COMPUTES[@]}
export LAB_COMPUTES
echo "$LAB_COMPUTES" >"$LAB_COMPUTES_FILE"

# the test guest image builds on its own (first time ~1 min; ~1 s when its inputs are unchanged, so an image built
# from older inputs, e.g. before the guest got iputils' ping, is rebuilt and then re-uploaded: resources.py compares md5)
IMAGE=$LAB_DIR/image/cloudpulse-tiny.qcow2
if [[ -x $LAB_ROOT/fixtures/image/build.sh ]]; then bg image "$LAB_ROOT/fixtures/image/build.sh"; fi
# Ceph is independent of everything else: start it now
if [[ -x $LAB_BIN/ceph.sh ]]; then bg ceph "$LAB_BIN/ceph.sh" up; fi
# so is the one-node Pacemaker cluster (corosync + pacemakerd; only the operator check uses it)
if [[ -x $LAB_BIN/pacemaker.sh ]]; then bg pacemaker "$LAB_BIN/pacemaker.sh" up; fi

"$LAB_BIN/network.sh" up
"$LAB_BIN/configure.sh"
say "network (br-lab $EXT_GW, unreachable routes) and configuration written"

# --- infrastructure --------------------------------------------------------------------------------------
start_mariadb() {
  mysql_root -e 'SELECT 1' >/dev/null 2>&1 && return 0
  # one-node Galera: always allowed to bootstrap (an unclean stop leaves safe_to_bootstrap: 0)
  [[ ! -f /var/lib/mysql/grastate.dat ]] || sed -i 's/^safe_to_bootstrap: 0/safe_to_bootstrap: 1/' /var/lib/mysql/grastate.dat
  # its own session: mysqld_safe does not detach, and must not die with the shell or job that ran lab-up
  setsid --wait /etc/init.d/mariadb start </dev/null
}
start_rabbitmq() {
  port_open "$SVC_IP" 5672 && return 0
  local before p
  before=" $({ pgrep -x epmd || true; } | tr '\n' ' ') "
  setsid --wait /etc/init.d/rabbitmq-server start </dev/null
  # its epmd outlives the broker: the one it started is the lab's (down.sh stops it)
  for p in $(pgrep -x -u rabbitmq epmd || true); do [[ $before == *" $p "* ]] || rec_proc "$p" epmd; done
}
bg mariadb-start start_mariadb
bg rabbitmq-start start_rabbitmq
port_open "$SVC_IP" 11211 || setsid --wait /etc/init.d/memcached start </dev/null >/dev/null
bgwait mariadb-start || die "mariadb failed to start (log: $LAB_LOG/mariadb-start.log, /var/log/mysql/error.log)"
retry 60 "mariadb" mysql_root -e 'SELECT 1'
for d in keystone glance placement nova_api nova nova_cell0 neutron cinder; do rec_add db "$d"; done
for d in "'os'@'localhost'" "'os'@'127.0.0.1'" "'cloudpulse'@'localhost'" "'cloudpulse'@'127.0.0.1'"; do rec_add dbuser "$d"; done
mysql_root <<SQL
CREATE DATABASE IF NOT EXISTS keystone; CREATE DATABASE IF NOT EXISTS glance; CREATE DATABASE IF NOT EXISTS placement;
CREATE DATABASE IF NOT EXISTS nova_api; CREATE DATABASE IF NOT EXISTS nova; CREATE DATABASE IF NOT EXISTS nova_cell0;
CREATE DATABASE IF NOT EXISTS neutron; CREATE DATABASE IF NOT EXISTS cinder;
CREATE USER IF NOT EXISTS 'os'@'localhost'; CREATE USER IF NOT EXISTS 'os'@'127.0.0.1';
ALTER USER 'os'@'localhost' IDENTIFIED BY '$DB_PASS'; ALTER USER 'os'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
GRANT ALL PRIVILEGES ON keystone.* TO 'os'@'localhost', 'os'@'127.0.0.1';
GRANT ALL PRIVILEGES ON glance.* TO 'os'@'localhost', 'os'@'127.0.0.1';
GRANT ALL PRIVILEGES ON placement.* TO 'os'@'localhost', 'os'@'127.0.0.1';
GRANT ALL PRIVILEGES ON nova_api.* TO 'os'@'localhost', 'os'@'127.0.0.1';
GRANT ALL PRIVILEGES ON nova.* TO 'os'@'localhost', 'os'@'127.0.0.1';
GRANT ALL PRIVILEGES ON nova_cell0.* TO 'os'@'localhost', 'os'@'127.0.0.1';
GRANT ALL PRIVILEGES ON neutron.* TO 'os'@'localhost', 'os'@'127.0.0.1';
GRANT ALL PRIVILEGES ON cinder.* TO 'os'@'localhost', 'os'@'127.0.0.1';
CREATE USER IF NOT EXISTS 'cloudpulse'@'localhost'; CREATE USER IF NOT EXISTS 'cloudpulse'@'127.0.0.1';
ALTER USER 'cloudpulse'@'localhost' IDENTIFIED BY '$MYSQL_MON_PASS'; ALTER USER 'cloudpulse'@'127.0.0.1' IDENTIFIED BY '$MYSQL_MON_PASS';
GRANT PROCESS, REPLICATION CLIENT, SLAVE MONITOR ON *.* TO 'cloudpulse'@'localhost', 'cloudpulse'@'127.0.0.1';
GRANT SELECT ON performance_schema.* TO 'cloudpulse'@'localhost', 'cloudpulse'@'127.0.0.1';
FLUSH PRIVILEGES;
SQL
say "mariadb answering (galera, databases and users ready)"

# one-time schema setup per service (skipped when done for this package version)
dbsync() {
  marker_ok glance glance-common glance ||
    { as glance "glance-manage db_sync" && marker_set glance glance-common; } &
  marker_ok placement placement-common placement ||
    { as placement "placement-manage db sync" && marker_set placement placement-common; } &
  marker_ok cinder cinder-common cinder ||
    { as cinder "cinder-manage db sync" && marker_set cinder cinder-common; } &
  wait
  marker_ok neutron neutron-common neutron ||
    { as neutron "neutron-db-manage --config-file /etc/neutron/neutron.conf --config-file /etc/neutron/plugins/ml2/ml2_conf.ini upgrade head" &&
      marker_set neutron neutron-common; } &
  if ! marker_ok nova nova-common nova; then
    as nova "nova-manage api_db sync"
    as nova "nova-manage cell_v2 map_cell0"
    local cells; cells=$(as nova "nova-manage cell_v2 list_cells")
    grep -q ' cell1 ' <<<"$cells" || as nova "nova-manage cell_v2 create_cell --name=cell1"
    as nova "nova-manage db sync"
    marker_set nova nova-common
  fi
  wait
  # every wait above must have succeeded
  marker_ok glance glance-common glance && marker_ok placement placement-common placement &&
    marker_ok cinder cinder-common cinder && marker_ok neutron neutron-common neutron && marker_ok nova nova-common nova
}

# keystone first (its DB and the bootstrap), the other schemas in the background meanwhile
if ! marker_ok keystone keystone keystone; then
  as keystone "keystone-manage db_sync" >"$LAB_LOG/keystone-db.log" 2>&1 || { cat "$LAB_LOG/keystone-db.log"; die "keystone db_sync failed"; }
fi
bg dbsync dbsync
rec_add path /etc/keystone/fernet-keys
rec_add path /etc/keystone/credential-keys
[[ -f /etc/keystone/fernet-keys/0 ]] ||
  as keystone "keystone-manage fernet_setup --keystone-user keystone --keystone-group keystone" >/dev/null 2>&1
[[ -f /etc/keystone/credential-keys/0 ]] ||
  as keystone "keystone-manage credential_setup --keystone-user keystone --keystone-group keystone" >/dev/null 2>&1
if ! marker_ok keystone keystone keystone; then
  # password via the environment, not the command line
  env OS_BOOTSTRAP_PASSWORD="$ADMIN_PASS" su -s /bin/sh -c "keystone-manage bootstrap --bootstrap-region-id $REGION \
    --bootstrap-admin-url http://$SVC_IP:5000/v3/ --bootstrap-internal-url http://$SVC_IP:5000/v3/ \
    --bootstrap-public-url http://$VIP:5000/v3/" keystone >"$LAB_LOG/keystone-bootstrap.log" 2>&1 ||
    { cat "$LAB_LOG/keystone-bootstrap.log"; die "keystone bootstrap failed"; }
  marker_set keystone keystone
fi

# RabbitMQ users: openstack (services), cloudpulse (management API, monitoring tag) — via its HTTP API
bgwait rabbitmq-start || die "rabbitmq-server failed to start (log: $LAB_LOG/rabbitmq-start.log, /var/log/rabbitmq/)"
retry 90 "rabbitmq management API on $SVC_IP:$RABBIT_MGMT_PORT" curl -sf -u guest:guest "http://$SVC_IP:$RABBIT_MGMT_PORT/api/overview"
rabbit_put() { curl -sf -u guest:guest -X PUT -H 'content-type: application/json' --data-binary @- "http://$SVC_IP:$RABBIT_MGMT_PORT/api/$1" >/dev/null; }
printf '{"password":"%s","tags":""}' "$RABBIT_PASS" | rabbit_put users/openstack
printf '{"configure":".*","write":".*","read":".*"}' | rabbit_put permissions/%2F/openstack
printf '{"password":"%s","tags":"monitoring"}' "$RABBIT_MON_PASS" | rabbit_put users/cloudpulse
say "infrastructure up: mariadb/galera, memcached, rabbitmq (+management)"

# --- keystone + HAProxy + catalog ---------------------------------------------------------------------------
svc_start keystone
svc_start haproxy
waitfor "http://$SVC_IP:5000/v3" 120
"$PY" "$LAB_BIN/catalog.py" || die "registering the keystone catalog failed"

umask_old=$(umask); umask 077
cat >"$LAB_DIR/clouds.yaml.tmp" <<EOF
# written by scripts/lab/up.sh — the lab cloud (through HAProxy at $VIP)
clouds:
  lab-admin:
    auth:
      auth_url: http://$VIP:5000/v3
      username: admin
      password: "$ADMIN_PASS"
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    region_name: $REGION
    identity_api_version: 3
    interface: public
  lab-member:
    auth:
      auth_url: http://$VIP:5000/v3
      username: cloudpulse-member
      password: "$MEMBER_PASS"
      project_name: cloudpulse
      user_domain_name: Default
      project_domain_name: Default
    region_name: $REGION
    identity_api_version: 3
    interface: public
EOF
mv "$LAB_DIR/clouds.yaml.tmp" "$LAB_DIR/clouds.yaml"
umask "$umask_old"
say "keystone answering, catalog registered, HAProxy on $VIP, clouds.yaml written"

if [[ -x $LAB_BIN/horizon.sh ]]; then bg horizon "$LAB_BIN/horizon.sh" up; fi

# --- everything else ------------------------------------------------------------------------------------------
bgwait dbsync || die "database schema setup failed (log: $LAB_LOG/dbsync.log)"
say "database schemas ready"
for s in "${OS_APIS[@]}" "${OS_CONTROL[@]}"; do svc_start "$s"; done
for h in "${COMPUTES[@]}"; do bg "libvirt-$h" "$LAB_BIN/libvirt.sh" up "$h"; done

# Ceph → RBD settings, libvirt secrets, cinder-volume
ceph_ok=0
if [[ -n ${BG[ceph]:-} ]]; then
  if bgwait ceph && [[ -s $LAB_DIR/ceph.env ]]; then ceph_ok=1; else say "WARNING: ceph.sh up failed (log: $LAB_LOG/ceph.log): cinder-volume has no backend"; fi
else
  say "WARNING: scripts/lab/ceph.sh missing: cinder-volume has no backend"
fi
((ceph_ok)) && "$LAB_BIN/configure.sh"
for h in "${COMPUTES[@]}"; do
  bgwait "libvirt-$h" || die "libvirt of $h failed to start (log: $LAB_LOG/libvirt-$h.log, $(lv_dir "$h")/log/)"
  if ((ceph_ok)); then "$LAB_BIN/ceph.sh" libvirt-secret "$(lv_uri "$h")" >"$LAB_LOG/ceph-secret-$h.log" 2>&1 ||
    die "defining the ceph secret in libvirt of $h failed (log: $LAB_LOG/ceph-secret-$h.log)"; fi
done
((ceph_ok)) && svc_start cinder-volume
say "APIs, conductor, scheduler started; libvirt of ${COMPUTES[*]} up; ceph $( ((ceph_ok)) && echo ok || echo MISSING)"

# agents after neutron-server's RPC worker consumes its queues (else their first RPC call times out for 60 s)
rpc_consuming() {
  [[ $(curl -sf -u guest:guest "http://$SVC_IP:$RABBIT_MGMT_PORT/api/queues/%2F/q-reports-plugin" | jq -r '.consumers // 0') -gt 0 ]]
}
retry 180 "neutron-server's RPC worker consuming q-reports-plugin (log: /var/log/neutron/neutron-server.log)" rpc_consuming
# The linuxbridge agents share the root namespace and each probes vxlan support at start by creating and deleting
# a test device vxlan-1: started together they delete each other's device and one dies. One at a time, then.
lb_initialized() { grep -q 'Agent initialized successfully' <(tail -c 200000 "/var/log/neutron/$1.log" 2>/dev/null); }
for s in "${OS_AGENTS[@]}"; do
  [[ $s == neutron-linuxbridge-agent-* ]] || continue
  svc_running "$s" && continue
  : >"/var/log/neutron/$s.log"
  svc_start "$s"
  retry 120 "$s initialized (log: /var/log/neutron/$s.log)" lb_initialized "$s"
done
for s in "${OS_AGENTS[@]}" "${OS_COMPUTE[@]}"; do svc_start "$s"; done
say "neutron agents and nova-compute ${COMPUTES[*]} started"

for s in keystone glance-api placement-api nova-api neutron-server cinder-api; do
  waitfor "http://$VIP:${API_PORT[$s]}/" 240
done
waitfor "http://$SVC_IP:8775/" 120
say "all APIs answer through HAProxy ($VIP)"

# a daemon that died while starting (a race with a peer, a slow dependency) is started again, and said so
agents_up() {
  local s
  for s in "${OS_AGENTS[@]}" "${OS_COMPUTE[@]}"; do
    svc_running "$s" || { echo "$(date -u +%T) $s had exited: started again" >>"$LAB_LOG/restarts.log"; svc_start "$s"; }
  done
  "$PY" "$LAB_BIN/health.py" agents >"$LAB_LOG/agents.txt" 2>&1
}
: >"$LAB_LOG/restarts.log"
if ! (retry 300 "agents and services up" agents_up); then
  grep -v ' ok ' "$LAB_LOG/agents.txt" >&2 || true
  die "not every agent/service is up after 300 s (scripts/lab/logs.sh shows the service logs)"
fi
as nova "nova-manage cell_v2 discover_hosts" >/dev/null 2>&1
[[ ! -s $LAB_LOG/restarts.log ]] || say "restarted while coming up: $(cut -d' ' -f2 "$LAB_LOG/restarts.log" | sort -u | tr '\n' ' ')"
say "all agents and services up (nova: conductor, scheduler, ${COMPUTES[*]}; neutron: ${#COMPUTES[@]} linuxbridge + dhcp, l3, metadata; cinder: 2)"

# --- what the tests use ---------------------------------------------------------------------------------------
if [[ -n ${BG[image]:-} ]]; then bgwait image || say "WARNING: fixtures/image/build.sh failed (log: $LAB_LOG/image.log)"; fi
OS_CLIENT_CONFIG_FILE=$LAB_DIR/clouds.yaml IMAGE=$IMAGE EXT_PHYSNET=$EXT_PHYSNET EXT_CIDR=$EXT_CIDR EXT_GW=$EXT_GW \
  EXT_POOL_START=$EXT_POOL_START EXT_POOL_END=$EXT_POOL_END "$PY" "$LAB_BIN/resources.py" ||
  die "creating the test resources failed"
say "project cloudpulse, user cloudpulse-member, quotas, flavors cp.tiny/cp.small, network public, image cloudpulse-tiny ready"

record_neutron                                        # the names of what its agents made so far (teardown.sh)
if [[ -n ${BG[horizon]:-} ]]; then bgwait horizon || say "WARNING: horizon.sh up failed (log: $LAB_LOG/horizon.log)"; fi
if [[ -n ${BG[pacemaker]:-} ]]; then bgwait pacemaker || say "WARNING: pacemaker.sh up failed (log: $LAB_LOG/pacemaker.log)"; fi
if "$LAB_BIN/status.sh" >"$LAB_LOG/status.txt" 2>&1; then
  say "lab healthy — OS_CLIENT_CONFIG_FILE=$LAB_DIR/clouds.yaml OS_CLOUD=lab-member|lab-admin"
else
  grep -v ' ok ' "$LAB_LOG/status.txt" >&2 || true
  die "lab up but not healthy (full status: $LAB_LOG/status.txt)"
fi
