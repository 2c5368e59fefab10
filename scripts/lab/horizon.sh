#!/bin/bash
# horizon.sh — the lab's OpenStack dashboard (Debian openstack-dashboard, Zed) under apache2 + mod_wsgi,
# served at http://127.0.0.1:8080/ (loopback only; login page /auth/login/).
#
#   horizon.sh up        configure and start (reload if already running); idempotent
#   horizon.sh status    exit 0 when apache runs and the login page answers 200
#   horizon.sh down      stop apache2
#   horizon.sh login-check [CLOUD]
#                        log in through the web form with curl as CLOUD (default lab-member) from
#                        $LAB_DIR/clouds.yaml and check that the project's name is on /project/
#
# Keystone: HORIZON_KEYSTONE_URL, else auth_url of lab-admin in $LAB_DIR/clouds.yaml, else
# http://127.0.0.1:5000/v3. Sessions are signed cookies (no memcached needed); the cache is per-process
# local memory (one mod_wsgi daemon process).
#
# What it changes on the system (the lab owns apache2 on this machine):
#   /etc/apache2/ports.conf                                      Listen 127.0.0.1:8080 only (Debian's says *:80)
#   /etc/apache2/sites-available/cloudpulse-horizon.conf         enabled; 000-default disabled; mod_wsgi enabled
#   /etc/openstack-dashboard/local_settings.d/_90_cloudpulse_lab.py   keystone URL, hosts, sessions, logging
# Debian's COMPRESS_OFFLINE=True needs `manage.py compress` output that matches the settings: the package's
# postinst makes it; this script redoes it (collectstatic + compress, timed) only when the package version or
# the compress-relevant settings (WEBROOT, themes) differ from the last run ($LAB_DIR/horizon/compress.stamp).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LAB_DIR=${LAB_DIR:-$ROOT/.lab}
H=$LAB_DIR/horizon
PY=/usr/bin/python3                                  # the dashboard imports only with Debian's python
LISTEN=127.0.0.1:8080
BASE=http://$LISTEN
SITE=cloudpulse-horizon
SITE_CONF=/etc/apache2/sites-available/$SITE.conf
SETTINGS=/etc/openstack-dashboard/local_settings.d/_90_cloudpulse_lab.py
STATIC=/var/lib/openstack-dashboard/static
MANAGE=/usr/share/openstack-dashboard/manage.py
APACHE_PID=/var/run/apache2/apache2.pid
CLOUDS=$LAB_DIR/clouds.yaml
UP_TIMEOUT=${HORIZON_UP_TIMEOUT:-120}

T0=$EPOCHREALTIME
secs() { printf '%.1f' "$(bc <<<"$EPOCHREALTIME - $1")"; }
say() { printf '[horizon %6ss] %s\n' "$(secs "$T0")" "$*"; }
die() { printf 'horizon.sh: %s\n' "$*" >&2; exit 1; }

need_packages() {
  [[ -x $MANAGE && -f /usr/share/openstack-dashboard/wsgi.py ]] ||
    die "openstack-dashboard is not installed: apt-get install openstack-dashboard (scripts/lab/install.sh does)"
  command -v apache2ctl >/dev/null || die "apache2 is not installed: apt-get install apache2 libapache2-mod-wsgi-py3"
  [[ -f /usr/lib/apache2/modules/mod_wsgi.so ]] || die "mod_wsgi is missing: apt-get install libapache2-mod-wsgi-py3"
  command -v curl >/dev/null || die "curl is missing: apt-get install curl"
}

apache_running() { [[ -s $APACHE_PID ]] && kill -0 "$(<"$APACHE_PID")" 2>/dev/null; }

# keystone_url → the v3 URL Horizon authenticates against
keystone_url() {
  if [[ -n ${HORIZON_KEYSTONE_URL:-} ]]; then echo "$HORIZON_KEYSTONE_URL"; return; fi
  if [[ -s $CLOUDS ]]; then
    local u
    u=$("$PY" -c 'import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))["clouds"]["lab-admin"]["auth"]["auth_url"].rstrip("/")
print(c if c.endswith("/v3") else c + "/v3")' "$CLOUDS" 2>/dev/null) || die "cannot read clouds.lab-admin.auth.auth_url from $CLOUDS"
    echo "$u"; return
  fi
  echo http://127.0.0.1:5000/v3
}

write_if_changed() {                                 # write_if_changed FILE MODE < content; true if it changed
  local tmp; tmp=$(mktemp); cat >"$tmp"
  if [[ -f $1 ]] && cmp -s "$tmp" "$1"; then rm -f "$tmp"; return 1; fi
  install -m "$2" "$tmp" "$1"; rm -f "$tmp"
}

write_settings() {
  write_if_changed "$SETTINGS" 0644 <<PY
# written by scripts/lab/horizon.sh: the lab's settings on top of Debian's local_settings.py and _000x files.
# Keep this file ASCII: Horizon exec()s it with apache's C locale and only logs a failure.
OPENSTACK_KEYSTONE_URL = "$1"
OPENSTACK_KEYSTONE_MULTIDOMAIN_SUPPORT = True       # the login form has a "domain" field
OPENSTACK_KEYSTONE_DEFAULT_DOMAIN = "Default"
OPENSTACK_KEYSTONE_DEFAULT_ROLE = "member"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
# sessions in signed cookies: nothing to run (memcached) and nothing to clean
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
SESSION_TIMEOUT = 3600
# Debian logs most clients at DEBUG into apache's error log: keep INFO
for _logger in LOGGING["loggers"].values():
    if _logger.get("level") == "DEBUG":
        _logger["level"] = "INFO"
PY
}

write_apache() {
  local changed=1
  write_if_changed /etc/apache2/ports.conf 0644 <<CONF && changed=0
# written by scripts/lab/horizon.sh: the lab's apache serves only Horizon, on loopback
ServerName 127.0.0.1
Listen $LISTEN
CONF
  write_if_changed "$SITE_CONF" 0644 <<CONF && changed=0
# written by scripts/lab/horizon.sh — OpenStack dashboard at http://$LISTEN/
<VirtualHost $LISTEN>
    ServerName 127.0.0.1
    WSGIDaemonProcess horizon user=www-data group=www-data processes=1 threads=8 display-name=%{GROUP}
    WSGIProcessGroup horizon
    WSGIApplicationGroup %{GLOBAL}
    WSGIScriptAlias / /usr/share/openstack-dashboard/wsgi.py
    Alias /static $STATIC
    <Directory /usr/share/openstack-dashboard>
        <Files wsgi.py>
            Require all granted
        </Files>
    </Directory>
    <Directory $STATIC>
        Require all granted
        Options -Indexes
    </Directory>
    ErrorLog \${APACHE_LOG_DIR}/horizon_error.log
    CustomLog \${APACHE_LOG_DIR}/horizon_access.log combined
</VirtualHost>
CONF
  [[ -e /etc/apache2/mods-enabled/wsgi.load ]] || { a2enmod -q wsgi >/dev/null; changed=0; }
  [[ ! -e /etc/apache2/sites-enabled/000-default.conf ]] || { a2dissite -q 000-default >/dev/null; changed=0; }
  [[ -e /etc/apache2/sites-enabled/$SITE.conf ]] || { a2ensite -q "$SITE" >/dev/null; changed=0; }
  local out; out=$(apache2ctl -t 2>&1) || die "apache2 configuration test failed: $out"
  return $changed
}

# effective_settings — the settings Horizon really runs with, as apache sees them (www-data, C locale; loading
# them as www-data also creates the secret key file readable by apache). Line 1: keystone URL; the rest: what
# the offline-compressed static files depend on.
effective_settings() {
  env -i LANG=C PATH=/usr/sbin:/usr/bin:/sbin:/bin runuser -u www-data -- "$PY" -W ignore - <<'PY'
import os, sys
sys.path.insert(0, "/usr/share/openstack-dashboard")
os.environ["DJANGO_SETTINGS_MODULE"] = "openstack_dashboard.settings"
import django; django.setup()
from django.conf import settings as s
print(s.OPENSTACK_KEYSTONE_URL)
print(s.WEBROOT, s.STATIC_URL, s.STATIC_ROOT, s.COMPRESS_OFFLINE, s.AVAILABLE_THEMES, s.DEFAULT_THEME)
PY
}

# compress_if_needed COMPRESS_SETTINGS — COMPRESS_OFFLINE: Django serves only what `compress` put in its manifest
compress_if_needed() {
  local want
  want=$({ dpkg-query -W -f '${Version}\n' openstack-dashboard; echo "$1"; } | sha256sum | cut -d' ' -f1)
  if [[ -f $STATIC/dashboard/manifest.json && -f $H/compress.stamp && $(<"$H/compress.stamp") == "$want" ]]; then
    say "static files compressed already (stamp matches)"
    return
  fi
  local t=$EPOCHREALTIME
  say "collecting and compressing static files (COMPRESS_OFFLINE) ..."
  mkdir -p "$STATIC" "$H"
  "$MANAGE" collectstatic --noinput --clear >"$H/collectstatic.log" 2>&1 ||
    die "manage.py collectstatic failed: see $H/collectstatic.log"
  say "collectstatic done in $(secs "$t")s"
  "$MANAGE" compress --force >"$H/compress.log" 2>&1 || die "manage.py compress failed: see $H/compress.log"
  chown -R www-data "$STATIC"
  echo "$want" >"$H/compress.stamp"
  say "collectstatic + compress took $(secs "$t")s"
}

# login_page_ok — 0 on 200; 1 while apache/Django start (no answer, 5xx); dies on 4xx (a configuration error)
login_page_ok() {
  local code; code=$(curl -s -o /dev/null -m 20 -w '%{http_code}' "$BASE/auth/login/") || true
  case $code in
    200) return 0 ;;
    4??) die "$BASE/auth/login/ answered $code: $(grep -v Deprecat /var/log/apache2/horizon_error.log | tail -2 | cut -c1-300)" ;;
    *) return 1 ;;
  esac
}

waitfor() {                                          # waitfor SECONDS WHAT CMD...
  local limit=$1 what=$2; shift 2
  local end=$(( ${EPOCHREALTIME%.*} + limit ))
  until "$@"; do
    (( ${EPOCHREALTIME%.*} < end )) || die "timed out after ${limit}s waiting for $what (see /var/log/apache2/horizon_error.log)"
    sleep 0.5
  done
}

cmd_up() {
  need_packages
  mkdir -p "$H"
  local ks; ks=$(keystone_url)
  # a change is remembered until apache has (re)loaded it, so a failed run still reloads next time
  if write_settings "$ks"; then touch "$H/reload-needed"; fi
  if write_apache; then touch "$H/reload-needed"; fi
  local eff; eff=$(effective_settings 2>"$H/settings.err") || die "Horizon's settings do not load: $(tail -3 "$H/settings.err")"
  [[ ${eff%%$'\n'*} == "$ks" ]] ||
    die "Horizon runs with OPENSTACK_KEYSTONE_URL=${eff%%$'\n'*}, not $ks: $SETTINGS did not apply (see /var/log/apache2/horizon_error.log)"
  say "settings: keystone $ks, apache on $LISTEN"
  compress_if_needed "${eff#*$'\n'}"
  if ! apache_running; then
    apache2ctl start || die "apache2ctl start failed (see /var/log/apache2/error.log)"
    waitfor 10 "apache2 to write $APACHE_PID" apache_running
    rm -f "$H/reload-needed"
    say "apache2 started (pid $(<"$APACHE_PID"))"
  elif [[ -e $H/reload-needed ]]; then
    apache2ctl graceful; rm -f "$H/reload-needed"; say "apache2 reloaded (configuration changed)"
  else
    say "apache2 already running (pid $(<"$APACHE_PID")), configuration unchanged"
  fi
  waitfor "$UP_TIMEOUT" "$BASE/auth/login/ to answer 200" login_page_ok
  say "login page answers: $BASE/auth/login/"
}

cmd_down() {
  apache_running || { say "apache2 not running"; return; }
  local p; p=$(<"$APACHE_PID")
  apache2ctl stop
  local i; for ((i = 0; i < 100; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$p" 2>/dev/null && die "apache2 (pid $p) did not stop within 10 s"
  say "apache2 stopped"
}

cmd_status() {
  apache_running || { echo "horizon: apache2 not running (start with scripts/lab/horizon.sh up)"; exit 1; }
  login_page_ok || { echo "horizon: $BASE/auth/login/ does not answer 200 (see /var/log/apache2/horizon_error.log)"; exit 1; }
  echo "horizon: $BASE/ up (apache2 pid $(<"$APACHE_PID"), keystone $(sed -n 's/^OPENSTACK_KEYSTONE_URL = "\(.*\)"/\1/p' "$SETTINGS"))"
}

# login-check [CLOUD]: the flow a browser (and the Go Horizon check) performs
cmd_login_check() {
  local cloud=${1:-lab-member}
  [[ -s $CLOUDS ]] || die "$CLOUDS missing: bring the lab up first (scripts/lab/up.sh)"
  local user pass domain project
  { read -r user; read -r pass; read -r domain; read -r project; } < <("$PY" -c 'import sys, yaml
a = yaml.safe_load(open(sys.argv[1]))["clouds"][sys.argv[2]]["auth"]
print(a["username"]); print(a["password"])
print(a.get("user_domain_name") or a.get("domain_name") or "Default"); print(a["project_name"])' "$CLOUDS" "$cloud" 2>/dev/null) ||
    die "cannot read clouds.$cloud.auth (username, password, project_name) from $CLOUDS"
  local csrf region code loc
  JAR=$(mktemp); PAGE=$(mktemp); trap 'rm -f "$JAR" "$PAGE"' EXIT      # the jar holds a live session
  local jar=$JAR page=$PAGE
  # 1. GET the login form: sets the csrftoken cookie; the form carries csrfmiddlewaretoken and region
  code=$(curl -s -m 30 -c "$jar" -b "$jar" -o "$page" -w '%{http_code}' "$BASE/auth/login/")
  [[ $code == 200 ]] || die "GET $BASE/auth/login/ answered $code"
  csrf=$(sed -n 's/.*name="csrfmiddlewaretoken" value="\([^"]*\)".*/\1/p' "$page" | head -1)
  region=$(sed -n 's/.*name="region" value="\([^"]*\)".*/\1/p' "$page" | head -1)
  [[ -n $csrf ]] || die "no csrfmiddlewaretoken in the login form"
  grep -q 'csrftoken' "$jar" || die "the login page set no csrftoken cookie"
  say "login form: csrftoken cookie set, region '$region'"
  # 2. POST the form; success = 302 to WEBROOT and a sessionid cookie
  code=$(curl -s -m 60 -c "$jar" -b "$jar" -o "$page" -w '%{http_code} %{redirect_url}' \
    -H "Referer: $BASE/auth/login/" \
    --data-urlencode "csrfmiddlewaretoken=$csrf" --data-urlencode "region=$region" \
    --data-urlencode "domain=$domain" --data-urlencode "username=$user" --data-urlencode "password=$pass" \
    "$BASE/auth/login/")
  loc=${code#* }; code=${code%% *}
  if [[ $code != 302 ]]; then
    local err   # the form's error: <div class="alert alert-danger"> ... <p>Invalid credentials.</p>
    err=$(sed -n '/<div class="alert alert-danger">/,/<\/div>/{s/.*<p>\(.*\)<\/p>.*/\1/p}' "$page" | head -1)
    die "POST $BASE/auth/login/ answered $code, not 302: ${err:-see /var/log/apache2/horizon_error.log}"
  fi
  grep -q sessionid "$jar" || die "POST /auth/login/ set no sessionid cookie"
  say "POST /auth/login/ → 302 $loc with a sessionid cookie"
  # 3. GET /project/ as the logged-in user: the context switcher names the current project
  code=$(curl -s -m 120 -c "$jar" -b "$jar" -o "$page" -w '%{http_code}' "$BASE/project/")
  [[ $code == 200 ]] || die "GET $BASE/project/ answered $code"
  grep -q "<span class=\"context-project\">$project</span>" "$page" ||
    die "GET /project/ does not show the project $project in <span class=\"context-project\">"
  say "GET /project/ → 200 and shows <span class=\"context-project\">$project</span>: logged in as $user"
}

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  login-check) shift; cmd_login_check "$@" ;;
  *) die "usage: horizon.sh up|down|status|login-check [CLOUD]" ;;
esac
