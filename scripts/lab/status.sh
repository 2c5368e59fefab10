#!/usr/bin/env bash
# status.sh (make lab-status) — one line per lab service; exit 0 only when every service answers and every
# agent/compute service is up as the OpenStack APIs report it.
# shellcheck source=scripts/lab/lib.sh
. "$(dirname "$0")/lib.sh"

RC=0
line() {                                              # line NAME ok|BAD DETAIL
  printf '%-28s %-3s %s\n' "$1" "$2" "$3"
  [[ $2 == ok ]] || RC=1
}

# API-level agent states take ~2 s: start them first
agents_out=$(mktemp); trap 'rm -f "$agents_out"' EXIT
if [[ -s $LAB_DIR/secrets.env ]]; then
  load_secrets
  (ADMIN_PASS=$ADMIN_PASS KS_URL=http://$SVC_IP:5000 REGION=$REGION LAB_COMPUTE_HOSTS="${COMPUTES[*]}" \
    "$PY" "$LAB_BIN/health.py" agents >"$agents_out" 2>&1; echo "rc=$?" >>"$agents_out") &
  agents_pid=$!
else
  echo "rc=1 (no $LAB_DIR/secrets.env: the lab was never brought up)" >"$agents_out"; agents_pid=""
fi

# network safety
if out=$("$LAB_BIN/network.sh" status 2>&1); then line network ok "${out#network: }"; else line network BAD "${out//$'\n'/; }"; fi

# MariaDB / Galera
if w=$(mysql_root -N -e "SHOW STATUS WHERE Variable_name IN ('wsrep_cluster_size','wsrep_local_state_comment','wsrep_ready','wsrep_cluster_status')" 2>/dev/null); then
  declare -A W=()
  while read -r k v; do W[$k]=$v; done <<<"$w"
  d="galera cluster_size=${W[wsrep_cluster_size]:-?} state=${W[wsrep_local_state_comment]:-?} ready=${W[wsrep_ready]:-?} status=${W[wsrep_cluster_status]:-?}"
  if [[ ${W[wsrep_cluster_size]:-} == 1 && ${W[wsrep_local_state_comment]:-} == Synced && ${W[wsrep_ready]:-} == ON ]]; then
    line mariadb ok "$SVC_IP:3306 $d"
  else line mariadb BAD "$d"; fi
else line mariadb BAD "not answering on the local socket"; fi

if port_open "$SVC_IP" 11211; then line memcached ok "$SVC_IP:11211"; else line memcached BAD "port $SVC_IP:11211 closed"; fi

if port_open "$SVC_IP" 5672; then
  if [[ -n ${RABBIT_MON_PASS:-} ]] && ov=$(curl -sf -m 5 -u "cloudpulse:$RABBIT_MON_PASS" "http://$SVC_IP:$RABBIT_MGMT_PORT/api/overview"); then
    line rabbitmq-server ok "$SVC_IP:5672, management $SVC_IP:$RABBIT_MGMT_PORT ($(jq -r '"\(.rabbitmq_version), \(.object_totals.queues) queues, \(.object_totals.consumers) consumers"' <<<"$ov"))"
  else line rabbitmq-server BAD "AMQP port open but the management API does not answer for user cloudpulse"; fi
else line rabbitmq-server BAD "port $SVC_IP:5672 closed"; fi

# HAProxy and its backends
if svc_running haproxy && stat=$(ha_cmd "show stat" 2>/dev/null); then
  bad=$(awk -F, '$2 == "api-1" && $18 != "UP" {printf "%s/%s=%s ", $1, $2, $18}' <<<"$stat")
  n=$(awk -F, '$2 == "api-1"' <<<"$stat" | wc -l)
  if [[ -z $bad ]]; then line haproxy ok "$n backends UP (frontends $VIP, socket $HA_SOCKET, stats http://$SVC_IP:$HA_STATS_PORT/stats)"
  else line haproxy BAD "backends not UP: $bad"; fi
else line haproxy BAD "not running or admin socket $HA_SOCKET not answering"; fi

# OpenStack APIs: process, direct, through HAProxy
for s in "${OS_APIS[@]}"; do
  p=${API_PORT[$s]} path=/
  [[ $s == keystone ]] && path=/v3
  if ! svc_running "$s"; then line "$s" BAD "not running (pid file $(svc_pidfile "$s"))"; continue; fi
  if ! http_answers "http://$SVC_IP:$p$path"; then line "$s" BAD "running but http://$SVC_IP:$p$path does not answer"; continue; fi
  if [[ -n ${HA_BACKEND[$s]:-} ]]; then
    if http_answers "http://$VIP:$p$path"; then line "$s" ok "http://$SVC_IP:$p, public http://$VIP:$p (haproxy ${HA_BACKEND[$s]}/api-1)"
    else line "$s" BAD "answers directly but not through HAProxy http://$VIP:$p$path"; fi
  else line "$s" ok "http://$SVC_IP:$p"; fi
done

# daemons: process alive (their API-reported state follows below)
for s in "${OS_CONTROL[@]}" "${OS_AGENTS[@]}" "${OS_VOLUME[@]}" "${OS_COMPUTE[@]}"; do
  if p=$(svc_pid "$s"); then line "$s" ok "pid $p"; else line "$s" BAD "not running"; fi
done
for h in "${COMPUTES[@]}"; do
  if out=$("$LAB_BIN/libvirt.sh" status "$h" 2>&1); then line "libvirt-$h" ok "${out#libvirt-"$h": }"; else line "libvirt-$h" BAD "${out//$'\n'/; }"; fi
done

if [[ -x $LAB_BIN/ceph.sh ]]; then
  if out=$("$LAB_BIN/ceph.sh" status 2>&1); then line ceph ok "$(grep -m1 -o 'HEALTH_[A-Z]*' <<<"$out" || echo healthy) (mon 127.0.0.1:3300/6789)"
  else line ceph BAD "$(tail -1 <<<"$out")"; fi
else line ceph BAD "scripts/lab/ceph.sh missing"; fi
if [[ -x $LAB_BIN/pacemaker.sh ]]; then
  if out=$("$LAB_BIN/pacemaker.sh" status 2>&1); then line pacemaker ok "${out##*pacemaker: healthy: } (corosync udpu 127.0.0.1:5405)"
  else line pacemaker BAD "$(tail -1 <<<"$out")"; fi
fi
if [[ -x $LAB_BIN/horizon.sh ]]; then
  if out=$("$LAB_BIN/horizon.sh" status 2>&1); then line horizon ok "$(tail -1 <<<"$out")"
  else line horizon BAD "$(tail -1 <<<"$out")"; fi
fi

# API-reported agent and service states
[[ -z $agents_pid ]] || wait "$agents_pid" || true
sed -n '/^rc=/!p' "$agents_out"
grep -q '^rc=0$' "$agents_out" || { RC=1; grep '^rc=[^0]' "$agents_out" | grep -v '^rc=1$' || true; }
exit $RC
