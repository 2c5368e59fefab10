#!/usr/bin/env bash
# smoke.sh — prove the lab works end to end with the openstack CLI (not the product's tests; a lab self-check).
#
# As lab-admin (in the admin project): network + router to "public", security group (icmp/22/80), keypair,
# one cp.tiny server of image cloudpulse-tiny pinned to each compute host (--availability-zone nova:compute-N),
# floating IPs; then from the host: ping, ssh (hostname, metadata 169.254.169.254), http; a Ceph volume is
# attached to the first server, seen and written by the guest, detached. Everything it made is deleted at exit.
# Prints timings; exit 0 only when every check passed.
# shellcheck source=scripts/lab/lib.sh
. "$(dirname "$0")/lib.sh"
export OS_CLIENT_CONFIG_FILE=$LAB_DIR/clouds.yaml OS_CLOUD=lab-admin
P=lab-smoke
W=$(mktemp -d)
FAIL=0
osc() { "$PY" /usr/bin/openstack "$@"; }
t() {                                                 # t CMD... — run, print its duration, keep its exit status
  local s=$EPOCHREALTIME rc=0
  "$@" || rc=$?
  printf '%6.1fs  %s%s\n' "$(bc <<<"$EPOCHREALTIME - $s")" "${*:2:6}" "$( ((rc)) && echo "  FAILED rc=$rc")" >&2
  return $rc
}
check() { local what=$1; shift; if "$@"; then echo "PASS $what"; else echo "FAIL $what"; FAIL=1; fi; }

cleanup() {
  set +e
  for h in "${COMPUTES[@]}"; do
    fip=$(cat "$W/fip-$h" 2>/dev/null); [[ -z $fip ]] || osc floating ip delete "$fip" >/dev/null 2>&1
    osc server delete --wait "$P-$h" >/dev/null 2>&1
  done
  osc volume delete "$P-vol" >/dev/null 2>&1
  osc router remove subnet "$P-router" "$P-subnet" >/dev/null 2>&1
  osc router delete "$P-router" >/dev/null 2>&1
  osc network delete "$P-net" >/dev/null 2>&1
  osc security group delete "$P-sg" >/dev/null 2>&1
  osc keypair delete "$P-key" >/dev/null 2>&1
  rm -rf "$W"
}
trap cleanup EXIT
cleanup >/dev/null 2>&1; W=$(mktemp -d)

ssh-keygen -q -t ed25519 -N '' -f "$W/key" -C lab-smoke
t osc keypair create --public-key "$W/key.pub" "$P-key" >/dev/null
t osc network create "$P-net" >/dev/null
t osc subnet create "$P-subnet" --network "$P-net" --subnet-range 10.90.0.0/24 >/dev/null
t osc router create "$P-router" --external-gateway public >/dev/null
t osc router add subnet "$P-router" "$P-subnet"
t osc security group create "$P-sg" >/dev/null
for r in "--protocol icmp" "--protocol tcp --dst-port 22" "--protocol tcp --dst-port 80"; do
  # shellcheck disable=SC2086
  osc security group rule create "$P-sg" $r >/dev/null
done

SSH=(ssh -i "$W/key" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5 -o BatchMode=yes -o LogLevel=ERROR)
for h in "${COMPUTES[@]}"; do
  s=$EPOCHREALTIME
  osc server create "$P-$h" --flavor cp.tiny --image cloudpulse-tiny --network "$P-net" --security-group "$P-sg" \
    --key-name "$P-key" --availability-zone "nova:$h" --wait >/dev/null || die "server create on $h failed"
  printf '%6.1fs  server %s ACTIVE\n' "$(bc <<<"$EPOCHREALTIME - $s")" "$P-$h" >&2
  osc floating ip create public -f value -c floating_ip_address >"$W/fip-$h"
  osc server add floating ip "$P-$h" "$(<"$W/fip-$h")"
  check "server on $h" [ "$(osc server show "$P-$h" -f value -c OS-EXT-SRV-ATTR:host)" = "$h" ]
done

for h in "${COMPUTES[@]}"; do
  fip=$(<"$W/fip-$h") s=$EPOCHREALTIME
  ok=0; for _ in $(seq 90); do ping -c1 -W1 "$fip" >/dev/null 2>&1 && { ok=1; break; }; done
  printf '%6.1fs  ping %s (%s)\n' "$(bc <<<"$EPOCHREALTIME - $s")" "$fip" "$h" >&2
  check "ping $h $fip" [ $ok = 1 ]
  ok=0; for _ in $(seq 60); do out=$("${SSH[@]}" "root@$fip" hostname 2>/dev/null) && { ok=1; break; }; sleep 1; done
  check "ssh $h ($out)" [ $ok = 1 ]
  check "http $h" bash -c "curl -sf -m 5 http://$fip/ | grep -q ."
  md=$("${SSH[@]}" "root@$fip" 'timeout 5 wget -q -O - http://169.254.169.254/latest/meta-data/instance-id' 2>/dev/null || true)
  check "metadata service from $h ($md)" [ -n "$md" ]
  gw=$("${SSH[@]}" "root@$fip" "ping -c1 -W2 $EXT_GW >/dev/null && echo reachable" 2>/dev/null || true)
  check "guest on $h reaches the external gateway $EXT_GW" [ "$gw" = reachable ]
done

# Ceph volume: attach, guest writes, detach
h=${COMPUTES[0]} fip=$(<"$W/fip-${COMPUTES[0]}")
t osc volume create "$P-vol" --size 1 >/dev/null
for _ in $(seq 60); do [[ $(osc volume show "$P-vol" -f value -c status 2>/dev/null) == available ]] && break; sleep 1; done
before=$("${SSH[@]}" "root@$fip" 'ls /sys/block | grep ^vd' 2>/dev/null | tr '\n' ' ')
t osc server add volume "$P-$h" "$P-vol" >/dev/null
for _ in $(seq 60); do [[ $(osc volume show "$P-vol" -f value -c status 2>/dev/null) == in-use ]] && break; sleep 1; done
dev=""; for _ in $(seq 30); do
  for d in $("${SSH[@]}" "root@$fip" 'ls /sys/block | grep ^vd' 2>/dev/null); do [[ " $before " == *" $d "* ]] || dev=$d; done
  [[ -n $dev ]] && break; sleep 1
done
check "guest sees the 1 GiB volume ($dev)" [ -n "$dev" ]
[[ -z $dev ]] || check "guest writes the volume" "${SSH[@]}" "root@$fip" "echo lab-smoke | dd of=/dev/$dev bs=512 count=1 conv=sync 2>/dev/null && dd if=/dev/$dev bs=9 count=1 2>/dev/null | grep -q lab-smoke"
t osc server remove volume "$P-$h" "$P-vol"
for _ in $(seq 60); do [[ $(osc volume show "$P-vol" -f value -c status 2>/dev/null) == available ]] && break; sleep 1; done
check "volume detached" [ "$(osc volume show "$P-vol" -f value -c status)" = available ]

((FAIL == 0)) && echo "smoke: all checks passed" || echo "smoke: FAILED"
exit $FAIL
