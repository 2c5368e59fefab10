#!/usr/bin/env bash
# configure.sh — write every lab service's configuration (idempotent, ~1 s: one ini.py process).
#
# Edits Debian's shipped files in place (/etc/<project>/...) and writes the lab's own:
#   /etc/mysql/mariadb.conf.d/99-lab.cnf     MariaDB + Galera (one-node cluster, loopback only)
#   /etc/rabbitmq/{rabbitmq-env.conf,rabbitmq.conf,enabled_plugins}
#   /etc/haproxy/haproxy.cfg                 public frontends on $VIP, stats socket + CSV page
#   /etc/nova/compute-N.conf                 per compute host: host, instances dir, libvirt URI
# RBD settings (cinder [ceph], nova [libvirt] rbd_secret_uuid) are written when $LAB_DIR/ceph.env exists;
# up.sh runs this again after scripts/lab/ceph.sh up.
# shellcheck source=scripts/lab/lib.sh
. "$(dirname "$0")/lib.sh"
need_root
load_secrets

CEPH_SECRET_UUID=""
if [[ -s $LAB_DIR/ceph.env ]]; then
  CEPH_SECRET_UUID=$(sed -n 's/^CEPH_SECRET_UUID=//p' "$LAB_DIR/ceph.env")
fi

KS_INT=http://$SVC_IP:5000           # services authenticate against keystone directly
KS_PUB=http://$VIP:5000              # what users (and www_authenticate_uri) see
DB=mysql+pymysql://os:$DB_PASS@$SVC_IP
RMQ=rabbit://openstack:$RABBIT_PASS@$SVC_IP:5672/
MC=$SVC_IP:11211

EDITS=()
S() { EDITS+=("$1"$'\t'"$2"$'\t'"$3"$'\t'"$4"); }       # S FILE SECTION KEY VALUE
X() { EDITS+=("$1"$'\t'"$2"$'\t'"$3"$'\t@delete'); }    # X FILE SECTION KEY
authtoken() {                                           # authtoken FILE USER
  local f=$1 u=$2
  S "$f" keystone_authtoken www_authenticate_uri "$KS_PUB"
  S "$f" keystone_authtoken auth_url "$KS_INT"
  S "$f" keystone_authtoken memcached_servers "$MC"
  S "$f" keystone_authtoken auth_type password
  S "$f" keystone_authtoken project_domain_name Default
  S "$f" keystone_authtoken user_domain_name Default
  S "$f" keystone_authtoken project_name service
  S "$f" keystone_authtoken username "$u"
  S "$f" keystone_authtoken password "$SERVICE_PASS"
  S "$f" keystone_authtoken region_name "$REGION"
}
svcauth() {                                             # svcauth FILE SECTION USER
  local f=$1 s=$2 u=$3
  S "$f" "$s" auth_type password
  S "$f" "$s" auth_url "$KS_INT/v3"
  S "$f" "$s" project_domain_name Default
  S "$f" "$s" user_domain_name Default
  S "$f" "$s" project_name service
  S "$f" "$s" username "$u"
  S "$f" "$s" password "$SERVICE_PASS"
  S "$f" "$s" region_name "$REGION"
}
common() {                                              # common FILE — messaging, notifications off
  S "$1" DEFAULT transport_url "$RMQ"
  S "$1" DEFAULT graceful_shutdown_timeout 5
  S "$1" oslo_messaging_notifications driver noop
  S "$1" oslo_messaging_rabbit heartbeat_timeout_threshold 60
}

# --- uwsgi APIs: few processes (memory), no keep-alive (Debian's rem-header breaks keep-alive clients).
# nova monkey-patches eventlet at import: its uwsgi apps must run 1 thread per process (else greenlet errors
# and hung requests); keystone, placement and cinder-api do not patch and use threads. nova-api gets 4: a
# POST /servers holds its process 15-22 s on this 2-core machine while VMs boot (it waits on neutron and
# glance), and two comprehensive runs post 6 at once — with 2 processes HAProxy's health check queued behind
# them, timed out twice and took the only backend DOWN (503 "No server is available", CI of 2026-12-03).
for f in /etc/keystone/keystone-uwsgi.ini /etc/placement/placement-api-uwsgi.ini /etc/nova/nova-api-uwsgi.ini \
  /etc/nova/nova-api-metadata-uwsgi.ini /etc/cinder/cinder-api-uwsgi.ini; do
  case $f in
    */nova-api-uwsgi.ini) S "$f" uwsgi processes 4; S "$f" uwsgi threads 1 ;;
    */nova-api-metadata-uwsgi.ini) S "$f" uwsgi processes 1; S "$f" uwsgi threads 1 ;;
    *) S "$f" uwsgi processes 1; S "$f" uwsgi threads 8 ;;
  esac
  S "$f" uwsgi add-header "Connection: close"
  S "$f" uwsgi listen 64
done

# --- keystone
f=/etc/keystone/keystone.conf
S $f database connection "$DB/keystone"
S $f token provider fernet
S $f cache enabled true
S $f cache backend dogpile.cache.memcached
S $f cache memcache_servers "$MC"
S $f oslo_messaging_notifications driver noop

# --- glance (eventlet daemon; Debian disabled its uwsgi)
f=/etc/glance/glance-api.conf
S $f DEFAULT graceful_shutdown_timeout 5
S $f DEFAULT workers 0                        # 0: serve from the main process (no fork: -140 MiB)
S $f DEFAULT bind_host "$SVC_IP"
S $f DEFAULT bind_port 9292
S $f DEFAULT enabled_backends fs:file
S $f DEFAULT public_endpoint "http://$VIP:9292"
S $f glance_store default_backend fs
X $f glance_store filesystem_store_datadir
S $f fs filesystem_store_datadir /var/lib/glance/images/
S $f database connection "$DB/glance"
authtoken $f glance
S $f paste_deploy flavor keystone
EDITS+=("$f"$'\toslo_limit\t@delete')
S $f os_glance_staging_store filesystem_store_datadir /var/lib/glance/staging/
S $f os_glance_tasks_store filesystem_store_datadir /var/lib/glance/tasks/
S $f oslo_messaging_notifications driver noop
install -d -o glance -g glance /var/lib/glance/images /var/lib/glance/staging /var/lib/glance/tasks

# --- placement
f=/etc/placement/placement.conf
S $f placement_database connection "$DB/placement"
S $f api auth_strategy keystone
authtoken $f placement

# --- nova (shared by api, metadata, conductor, scheduler and both computes)
f=/etc/nova/nova.conf
common $f
S $f DEFAULT my_ip "$SVC_IP"
S $f DEFAULT host controller                   # conductor, scheduler; computes override it
S $f DEFAULT osapi_compute_workers 1
S $f DEFAULT metadata_workers 1
S $f DEFAULT osapi_compute_listen "$SVC_IP"
S $f DEFAULT metadata_listen "$SVC_IP"
S $f DEFAULT report_interval 5
S $f DEFAULT service_down_time 30
S $f DEFAULT cpu_allocation_ratio 16.0
S $f DEFAULT ram_allocation_ratio 1.0
S $f DEFAULT disk_allocation_ratio 2.0
S $f DEFAULT allow_resize_to_same_host true
S $f DEFAULT instance_usage_audit false
S $f conductor workers 1
S $f scheduler workers 1
S $f scheduler discover_hosts_in_cells_interval 30
S $f api_database connection "$DB/nova_api"
S $f database connection "$DB/nova"
S $f api auth_strategy keystone
authtoken $f nova
S $f service_user send_service_user_token true
svcauth $f service_user nova
S $f vnc enabled false
S $f spice enabled false
S $f glance api_servers "http://$SVC_IP:9292"
S $f cinder os_region_name "$REGION"
S $f cinder catalog_info volumev3:cinderv3:internalURL
svcauth $f cinder nova
svcauth $f placement placement
S $f placement valid_interfaces internal
svcauth $f neutron neutron
X $f neutron service_name
X $f neutron default_floating_pool
S $f neutron valid_interfaces internal
S $f neutron service_metadata_proxy true
S $f neutron metadata_proxy_shared_secret "$METADATA_SECRET"
S $f oslo_concurrency lock_path /var/lib/nova/tmp
S $f libvirt virt_type qemu
S $f libvirt cpu_mode none
if [[ -n $CEPH_SECRET_UUID ]]; then
  S $f libvirt rbd_user cinder
  S $f libvirt rbd_secret_uuid "$CEPH_SECRET_UUID"
fi
install -d -o nova -g nova /var/lib/nova/tmp
for h in "${COMPUTES[@]}"; do
  install -d -o nova -g nova "/var/lib/nova/$h" "/var/lib/nova/$h/instances" "/var/lib/nova/$h/tmp"
  cf=/etc/nova/$h.conf
  [[ -e $cf ]] || install -m 640 -o root -g nova /dev/null "$cf"
  S "$cf" DEFAULT host "$h"
  S "$cf" DEFAULT compute_driver libvirt.LibvirtDriver
  S "$cf" DEFAULT instances_path "/var/lib/nova/$h/instances"
  S "$cf" DEFAULT force_config_drive true
  S "$cf" DEFAULT resume_guests_state_on_host_boot false
  S "$cf" libvirt connection_uri "$(lv_uri "$h")"
  S "$cf" oslo_concurrency lock_path "/var/lib/nova/$h/tmp"
done

# --- neutron: ML2 linuxbridge + vxlan (local 127.0.0.1), physnet "public" on the host bridge br-lab
f=/etc/neutron/neutron.conf
common $f
S $f DEFAULT core_plugin ml2
S $f DEFAULT service_plugins router
S $f DEFAULT bind_host "$SVC_IP"
S $f DEFAULT api_workers 0                    # neutron-server: API in the main process (eventlet)
S $f DEFAULT rpc_workers 1                    # one RPC worker process
S $f DEFAULT rpc_state_report_workers 0        # state reports handled by the rpc worker (-150 MiB)
S $f DEFAULT interface_driver linuxbridge
S $f DEFAULT allow_overlapping_ips true
S $f DEFAULT agent_down_time 30
# a jumbo underlay: the tunnels run over loopback (MTU 65536), so vxlan networks get 9000 - 50 = 8950 and the
# comprehensive scenario's path-MTU and jumbo checks run for real (a fixture may still ask for less)
S $f DEFAULT global_physnet_mtu 9000
S $f DEFAULT dhcp_agents_per_network 1
S $f agent report_interval 5
# one long-lived rootwrap daemon per agent instead of a python rootwrap process per ip/iptables command, and
# privsep helpers started by sudo directly (not through rootwrap): both save seconds of CPU per operation
S $f agent root_helper_daemon "sudo neutron-rootwrap-daemon /etc/neutron/rootwrap.conf"
for sect in privsep privsep_link privsep_namespace privsep_dhcp_release privsep_conntrack; do
  S $f $sect helper_command "sudo privsep-helper"
done
S $f database connection "$DB/neutron"
authtoken $f neutron
svcauth $f nova nova
S $f nova endpoint_type internal
S $f oslo_concurrency lock_path /var/lib/neutron/tmp
X $f oslo_policy policy_file
S $f experimental linuxbridge true        # Zed refuses linuxbridge without this
f=/etc/neutron/plugins/ml2/ml2_conf.ini
S $f ml2 type_drivers flat,vxlan
S $f ml2 tenant_network_types vxlan
S $f ml2 mechanism_drivers linuxbridge,l2population
S $f ml2 extension_drivers port_security
S $f ml2_type_flat flat_networks "$EXT_PHYSNET"
S $f ml2_type_vxlan vni_ranges 1:1000
S $f securitygroup enable_ipset true
f=/etc/neutron/plugins/ml2/linuxbridge_agent.ini
X $f linux_bridge physical_interface_mappings
S $f linux_bridge bridge_mappings "$EXT_PHYSNET:$EXT_BRIDGE"
S $f vxlan enable_vxlan true
S $f vxlan local_ip "$SVC_IP"
S $f vxlan l2_population true
S $f securitygroup enable_security_group true
S $f securitygroup firewall_driver iptables
# one agent per compute host: its host name and the symlink that gives its iptables chains their own prefix
install -d -o root -g root -m 755 /var/lib/neutron/bin
for h in "${COMPUTES[@]}"; do
  ln -sfn /usr/bin/neutron-linuxbridge-agent "/var/lib/neutron/bin/nlb-$h"
  rec_add iptprefix "nlb-$h"                    # its chains nlb-compute-N-… are the lab's (teardown.sh)
  cf=/etc/neutron/linuxbridge-$h.ini
  [[ -e $cf ]] || install -m 640 -o root -g neutron /dev/null "$cf"
  S "$cf" DEFAULT host "$h"
done
f=/etc/neutron/l3_agent.ini
S $f DEFAULT host compute-1                    # compute-1 is also the network node
S $f DEFAULT interface_driver linuxbridge
X $f DEFAULT ovs_use_veth
f=/etc/neutron/dhcp_agent.ini
S $f DEFAULT host compute-1
S $f DEFAULT interface_driver linuxbridge
S $f DEFAULT dhcp_driver neutron.agent.linux.dhcp.Dnsmasq
S $f DEFAULT enable_isolated_metadata true
f=/etc/neutron/metadata_agent.ini
S $f DEFAULT nova_metadata_host "$SVC_IP"
S $f DEFAULT nova_metadata_port 8775
S $f DEFAULT metadata_proxy_shared_secret "$METADATA_SECRET"
S $f DEFAULT metadata_workers 0               # serve from the main process (-130 MiB)
S $f DEFAULT host compute-1
install -d -o neutron -g neutron /var/lib/neutron/tmp
# the agents' ebtables: deletes of --among-src rules by number (Debian 12's ebtables-nft cannot delete them by their
# specification, and the linuxbridge agent then retries without end: scripts/lab/ebtables-agent says why)
install -d -o root -g root -m 755 /var/lib/neutron/sbin
install -m 755 "$LAB_BIN/ebtables-agent" /var/lib/neutron/sbin/ebtables
rec_add path /var/lib/neutron/sbin
rec_add path /etc/sudoers.d/cloudpulse-lab
printf '%s\n' '# written by scripts/lab/configure.sh: neutron agents start their privsep helpers without rootwrap' \
  'Defaults:neutron !requiretty' \
  'Defaults:neutron secure_path="/var/lib/neutron/sbin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"' \
  'neutron ALL = (root) NOPASSWD: /usr/bin/privsep-helper *' >/etc/sudoers.d/cloudpulse-lab.tmp
chmod 440 /etc/sudoers.d/cloudpulse-lab.tmp
visudo -cqf /etc/sudoers.d/cloudpulse-lab.tmp && mv /etc/sudoers.d/cloudpulse-lab.tmp /etc/sudoers.d/cloudpulse-lab

# --- cinder: RBD backend "ceph" (scripts/lab/ceph.sh)
f=/etc/cinder/cinder.conf
common $f
S $f DEFAULT my_ip "$SVC_IP"
S $f DEFAULT host controller                   # cinder-volume reports controller@ceph
S $f DEFAULT osapi_volume_listen "$SVC_IP"
S $f DEFAULT osapi_volume_workers 1
S $f DEFAULT glance_api_servers "http://$SVC_IP:9292"
S $f DEFAULT report_interval 5
S $f DEFAULT service_down_time 30
S $f DEFAULT enabled_backends ceph
S $f DEFAULT default_volume_type ceph
S $f database connection "$DB/cinder"
authtoken $f cinder
svcauth $f nova cinder
S $f nova interface internal
S $f service_user send_service_user_token true
svcauth $f service_user cinder
S $f oslo_concurrency lock_path /var/lib/cinder/tmp
EDITS+=("$f"$'\tlvm\t@delete')
S $f ceph volume_driver cinder.volume.drivers.rbd.RBDDriver
S $f ceph volume_backend_name ceph
S $f ceph rbd_pool volumes
S $f ceph rbd_user cinder
S $f ceph rbd_ceph_conf /etc/ceph/ceph.conf
S $f ceph rbd_flatten_volume_from_snapshot false
S $f ceph rbd_max_clone_depth 5
S $f ceph report_discard_supported true
[[ -z $CEPH_SECRET_UUID ]] || S $f ceph rbd_secret_uuid "$CEPH_SECRET_UUID"
install -d -o cinder -g cinder /var/lib/cinder/tmp

printf '%s\n' "${EDITS[@]}" | ini_batch

# --- MariaDB as a one-node Galera cluster (wsrep on, loopback only)
install -d -o mysql -g adm -m 2750 /var/log/mysql
# Debian's mysqld_safe sends the error log to syslog (there is none here): log to /var/log/mysql/error.log instead
sed -i -E 's/^(skip_log_error|syslog)[[:space:]]*$/# \1   # disabled by scripts\/lab\/configure.sh/' /etc/mysql/mariadb.conf.d/50-mysqld_safe.cnf
cat >/etc/mysql/mariadb.conf.d/99-lab.cnf <<'EOF'
# written by scripts/lab/configure.sh — MariaDB as a one-node Galera cluster, loopback only
[mysqld]
bind-address = 127.0.0.1
default-storage-engine = innodb
innodb_file_per_table = on
innodb_buffer_pool_size = 64M
performance_schema = off
max_connections = 1000
collation-server = utf8_general_ci
character-set-server = utf8
skip-name-resolve = on
log_error = /var/log/mysql/error.log

[galera]
wsrep_on = ON
wsrep_provider = /usr/lib/galera/libgalera_smm.so
wsrep_cluster_name = cloudpulse-lab
# empty address: this node bootstraps the (one-node) cluster on every start
wsrep_cluster_address = gcomm://
wsrep_node_name = controller-1
wsrep_node_address = 127.0.0.1
wsrep_provider_options = "gmcast.listen_addr=tcp://127.0.0.1:4567;ist.recv_addr=127.0.0.1:4568;gcache.size=64M"
wsrep_sst_method = rsync
wsrep_slave_threads = 1
binlog_format = row
innodb_autoinc_lock_mode = 2
EOF

# --- RabbitMQ: loopback only, management API on 127.0.0.1:15672
cat >/etc/rabbitmq/rabbitmq-env.conf <<'EOF'
# written by scripts/lab/configure.sh — loopback only
NODENAME=rabbit@localhost
NODE_IP_ADDRESS=127.0.0.1
NODE_PORT=5672
export ERL_EPMD_ADDRESS=127.0.0.1
SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
EOF
cat >/etc/rabbitmq/rabbitmq.conf <<EOF
# written by scripts/lab/configure.sh
listeners.tcp.default = 127.0.0.1:5672
management.tcp.ip = 127.0.0.1
management.tcp.port = $RABBIT_MGMT_PORT
vm_memory_high_watermark.absolute = 512MiB
# the management API keeps totals but no message-rate history (memory, CPU)
management.rates_mode = none
collect_statistics_interval = 30000
EOF
echo '[rabbitmq_management].' >/etc/rabbitmq/enabled_plugins
chown rabbitmq:rabbitmq /etc/rabbitmq/enabled_plugins 2>/dev/null || true

# --- HAProxy: public API frontends on $VIP, admin stats socket, stats page (HTML, ;csv) and /metrics on loopback
# The host's haproxy.cfg is kept before the lab first replaces it; down.sh --purge puts it back.
grep -qs '^# written by scripts/lab/configure.sh' /etc/haproxy/haproxy.cfg || host_backup /etc/haproxy/haproxy.cfg
install -d -m 755 /run/haproxy /var/log/haproxy
{
  cat <<EOF
# written by scripts/lab/configure.sh — the lab's public API endpoints (keystone catalog "public")
global
    maxconn 2000
    stats socket $HA_SOCKET mode 660 level admin
    stats timeout 30s
    log stdout format raw local0 info

defaults
    mode http
    log global
    option httplog
    option dontlognull
    option forwardfor
    timeout connect 5s
    timeout client 300s
    timeout server 300s
    # a stopped API (closed port) is DOWN in 3 checks (~6 s); a busy one must miss 3 checks of 10 s in a row
    timeout check 10s
    default-server inter 2s fall 3 rise 1

frontend stats
    bind $SVC_IP:$HA_STATS_PORT
    no log
    stats enable
    stats uri /stats
    stats refresh 10s
    http-request use-service prometheus-exporter if { path /metrics }
EOF
  for svc in keystone glance-api placement-api nova-api neutron-server cinder-api; do
    be=${HA_BACKEND[$svc]} port=${API_PORT[$svc]}
    chk=/; [[ $svc == keystone ]] && chk=/v3
    cat <<EOF

frontend ${be}-public
    bind $VIP:$port
    default_backend $be

backend $be
    option httpchk GET $chk
    http-check expect rstatus ^[234]
    server api-1 $SVC_IP:$port check
EOF
  done
} >/etc/haproxy/haproxy.cfg.lab
mv /etc/haproxy/haproxy.cfg.lab /etc/haproxy/haproxy.cfg
