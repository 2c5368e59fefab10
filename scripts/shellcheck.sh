#!/usr/bin/env bash
# scripts/shellcheck.sh (make shellcheck): shellcheck every shell script in scripts/ and fixtures/image/ (by name *.sh or
# by a sh/bash shebang: scripts/lab/ctl, the test guest's /init …). Installs Debian's shellcheck when it is missing.
# Findings are fixed in the scripts; a `# shellcheck disable=SCxxxx` says why on its line.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v shellcheck >/dev/null; then
  [[ $EUID -eq 0 ]] || { echo "shellcheck.sh: shellcheck is missing: apt-get install shellcheck (as root)" >&2; exit 1; }
  echo "shellcheck.sh: installing Debian's shellcheck"
  export DEBIAN_FRONTEND=noninteractive
  apt=(apt-get -q -y -o DPkg::Lock::Timeout=1200 install --no-install-recommends shellcheck)
  "${apt[@]}" >/dev/null 2>&1 || { apt-get -q -o DPkg::Lock::Timeout=1200 update >/dev/null && "${apt[@]}" >/dev/null; } ||
    { echo "shellcheck.sh: apt-get install shellcheck failed" >&2; exit 1; }
fi

mapfile -t files < <({
  find scripts fixtures/image -type f -name '*.sh'
  grep -rlE '^#!(/usr)?/bin/(env )?(ba)?sh\b' scripts fixtures/image
} | sort -u)
# -x: follow the files they source (the `# shellcheck source=` lines name them relative to the repository)
shellcheck -x "${files[@]}"
echo "shellcheck: ${#files[@]} scripts clean ($(shellcheck --version | sed -n 's/^version: //p'))"
