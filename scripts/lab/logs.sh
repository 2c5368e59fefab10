#!/usr/bin/env bash
# logs.sh (make lab-logs) — the tail of every lab service log (CI prints this when a job fails).
#
#   logs.sh [-n LINES] [NAME...]    NAME filters by service name (substring), e.g. `logs.sh -n 200 nova-compute`
#   logs.sh --list                  print "name path" for every log file
# shellcheck source=scripts/lab/lib.sh
. "$(dirname "$0")/lib.sh"

N=40 LIST=0 FILTER=()
while (($#)); do
  case $1 in
    -n) N=${2:?-n needs a number}; shift 2 ;;
    --list) LIST=1; shift ;;
    -h | --help) sed -n '2,5p' "$0"; exit 0 ;;
    *) FILTER+=("$1"); shift ;;
  esac
done

logs() {                                              # name<TAB>path, one per line
  local s h
  for s in "${OS_APIS[@]}" "${OS_CONTROL[@]}" "${OS_AGENTS[@]}" "${OS_VOLUME[@]}" "${OS_COMPUTE[@]}" haproxy; do
    svc_def "$s" && printf '%s\t%s\n' "$s" "$S_LOG"
  done
  printf '%s\t%s\n' mariadb /var/log/mysql/error.log rabbitmq-server /var/log/rabbitmq/rabbit@localhost.log \
    memcached /var/log/memcached.log
  for h in "${COMPUTES[@]}"; do printf '%s\t%s\n' "libvirt-$h" "$(lv_dir "$h")/log/libvirtd.log"; done
  for s in "$LAB_DIR"/ceph/log/*.log; do [[ -e $s ]] && printf 'ceph-%s\t%s\n' "$(basename "$s" .log)" "$s"; done
  for s in /var/log/apache2/*error*.log; do [[ -e $s ]] && printf 'horizon-%s\t%s\n' "$(basename "$s" .log)" "$s"; done
  for s in "$LAB_LOG"/*.log; do [[ -e $s ]] && printf 'lab-%s\t%s\n' "$(basename "$s" .log)" "$s"; done
  return 0
}

while IFS=$'\t' read -r name path; do
  if ((${#FILTER[@]})); then
    keep=0; for f in "${FILTER[@]}"; do [[ $name == *"$f"* ]] && keep=1; done
    ((keep)) || continue
  fi
  if ((LIST)); then printf '%-28s %s\n' "$name" "$path"; continue; fi
  echo "===== $name ($path)"
  if [[ -r $path ]]; then tail -n "$N" "$path"; else echo "(no log yet)"; fi
done < <(logs)
