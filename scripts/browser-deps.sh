#!/usr/bin/env bash
# scripts/browser-deps.sh: Debian's Chromium for the status page's real-browser tests (TestStatusPageBrowser,
# TestStatusPage drive it with chromedp). Idempotent: returns at once when chromium is on PATH (or
# $CLOUDPULSE_CHROMIUM names one); else installs it as root: apt-get install -y --no-install-recommends chromium
set -euo pipefail

if [[ -n ${CLOUDPULSE_CHROMIUM:-} && -x $CLOUDPULSE_CHROMIUM ]] || command -v chromium >/dev/null; then
  exit 0
fi
[[ $EUID -eq 0 ]] || { echo "browser-deps.sh: chromium is missing: apt-get install -y --no-install-recommends chromium (as root)" >&2; exit 1; }
echo "browser-deps.sh: installing Debian's chromium"
export DEBIAN_FRONTEND=noninteractive
apt=(apt-get -q -y -o DPkg::Lock::Timeout=1200 install --no-install-recommends chromium)
"${apt[@]}" >/dev/null 2>&1 || { apt-get -q -o DPkg::Lock::Timeout=1200 update >/dev/null && "${apt[@]}" >/dev/null; } ||
  { echo "browser-deps.sh: apt-get install chromium failed" >&2; exit 1; }
command -v chromium >/dev/null || { echo "browser-deps.sh: chromium installed but not on PATH" >&2; exit 1; }
