#!/usr/bin/env bash
# scripts/obs-deps.sh (make test): Debian's prometheus (Prometheus, promtool) and prometheus-pushgateway for
# tests/observability_test.go, which starts its own on loopback ports in a temporary directory. Nothing to do
# (~10 ms) when they are installed. The packages' own services are not wanted: what their postinst started
# (systemd unit, or the daemon run as user prometheus where there is no systemd) is stopped and disabled.
set -euo pipefail

have() { command -v prometheus >/dev/null && command -v promtool >/dev/null && command -v prometheus-pushgateway >/dev/null; }
have && exit 0

[[ $EUID -eq 0 ]] || { echo "obs-deps.sh: prometheus/prometheus-pushgateway missing: apt-get install --no-install-recommends prometheus prometheus-pushgateway (as root)" >&2; exit 1; }
echo "obs-deps.sh: installing Debian's prometheus and prometheus-pushgateway"
export DEBIAN_FRONTEND=noninteractive
apt=(apt-get -q -y -o DPkg::Lock::Timeout=1200 install --no-install-recommends prometheus prometheus-pushgateway)
"${apt[@]}" >/dev/null 2>&1 || { apt-get -q -o DPkg::Lock::Timeout=1200 update >/dev/null && "${apt[@]}" >/dev/null; } ||
  { echo "obs-deps.sh: apt-get install prometheus prometheus-pushgateway failed" >&2; exit 1; }

for svc in prometheus prometheus-pushgateway; do
  if command -v systemctl >/dev/null && systemctl is-system-running >/dev/null 2>&1; then
    systemctl disable --now "$svc" >/dev/null 2>&1 || true
  fi
  # without systemd, an init script may have started it as user prometheus
  for pid in $(pgrep -u prometheus -x "$svc" || true); do
    echo "obs-deps.sh: stopping $svc (pid $pid) that its package started"
    kill "$pid" || true
  done
done
have || { echo "obs-deps.sh: installed, but prometheus, promtool or prometheus-pushgateway is still not on PATH" >&2; exit 1; }
echo "obs-deps.sh: $(prometheus --version 2>&1 | head -1); $(prometheus-pushgateway --version 2>&1 | head -1)"
