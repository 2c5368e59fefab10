#!/usr/bin/env bash
# scripts/pg-deps.sh (make test): Debian's postgresql server binaries (initdb, pg_ctl, postgres) for the history
# store's PostgreSQL tests (helpers/service/store/pgtest starts a throwaway cluster on a loopback port in a
# temporary directory, as user postgres when run as root). Nothing to do when they are installed. The package's
# own cluster and service are not wanted: what its postinst started is stopped and disabled.
set -euo pipefail

have() { compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null && id postgres >/dev/null 2>&1; }
have && exit 0

[[ $EUID -eq 0 ]] || { echo "pg-deps.sh: PostgreSQL missing: apt-get install --no-install-recommends postgresql (as root)" >&2; exit 1; }
echo "pg-deps.sh: installing Debian's postgresql"
export DEBIAN_FRONTEND=noninteractive
apt=(apt-get -q -y -o DPkg::Lock::Timeout=1200 install --no-install-recommends postgresql)
"${apt[@]}" >/dev/null 2>&1 || { apt-get -q -o DPkg::Lock::Timeout=1200 update >/dev/null && "${apt[@]}" >/dev/null; } ||
  { echo "pg-deps.sh: apt-get install postgresql failed" >&2; exit 1; }

if command -v systemctl >/dev/null && systemctl is-system-running >/dev/null 2>&1; then
  systemctl disable --now postgresql >/dev/null 2>&1 || true
fi
# without systemd, the package may have started its main cluster as user postgres
if command -v pg_lsclusters >/dev/null; then
  pg_lsclusters -h 2>/dev/null | while read -r ver name _; do
    pg_ctlcluster "$ver" "$name" stop >/dev/null 2>&1 || true
  done
fi
have || { echo "pg-deps.sh: installed, but /usr/lib/postgresql/*/bin/pg_ctl or the user postgres is missing" >&2; exit 1; }
postgres=(/usr/lib/postgresql/*/bin/postgres)
echo "pg-deps.sh: $("${postgres[-1]}" --version | head -1)"
