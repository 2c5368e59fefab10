#!/usr/bin/env bash
# run.sh (make lab-unit) — unit tests of the lab's host ownership (scripts/lab/host.sh, teardown.sh, pacemaker.sh's
# cluster-state backup): marker and refusal, records, teardown of only what was recorded, policy-rc.d, backups.
# No root and no cloud needed: every host path is under a temporary LAB_HOST_ROOT, and ip, iptables, ip6tables,
# ipset and ebtables are stubs (stubs/) working on files, so the real host is never touched.
#
#   scripts/lab/test/run.sh [NAME_REGEX]     runs every test_* function of *_test.sh (matching NAME_REGEX)
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FILTER=${1:-.}
pass=0 fail=0 failed=()
for f in "$HERE"/*_test.sh; do
  while read -r t; do
    [[ $t =~ $FILTER ]] || continue
    T=$(mktemp -d "${TMPDIR:-/tmp}/lab-unit.XXXXXX")
    out=$(T=$T HERE=$HERE bash -c '
      set -euo pipefail
      . "$HERE/testlib.sh"
      . "$1"
      "$2"' _ "$f" "$t" 2>&1)
    rc=$?
    rm -rf "$T"
    if ((rc == 0)); then
      pass=$((pass + 1)); printf 'ok   %s\n' "$t"
    else
      fail=$((fail + 1)); failed+=("$t"); printf 'FAIL %s\n     %s\n' "$t" "${out//$'\n'/$'\n'     }"
    fi
  done < <(grep -oE '^test_[a-z0-9_]+' "$f")
done
printf 'lab-unit: %d passed, %d failed%s\n' "$pass" "$fail" "${failed[*]:+ (${failed[*]})}"
((fail == 0 && pass > 0))
