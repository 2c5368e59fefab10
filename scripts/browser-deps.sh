#!/usr/bin/env bash
# browser-deps.sh: Debian's Chromium for the status page's real-browser tests
# (tests drive it with chromedp). Idempotent; returns at once when installed.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "browser-deps: chromium missing; install it as root: apt-get install -y --no-install-recommends chromium" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends chromium >/dev/null || {
	apt-get -o DPkg::Lock::Timeout=600 update >/dev/null
	apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends chromium >/dev/null
}
command -v chromium >/dev/null
