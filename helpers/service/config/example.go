package config

// Example returns a commented configuration that Load accepts once the token
// file exists (mode 0600) — the one the README shows.
func Example() string { return example }

const example = `# cpulse serve --config serve.yaml
# Relative paths are relative to this file's directory.

# Where the REST API listens. Loopback by default; any other address needs token_file.
listen: 127.0.0.1:8787

# The bearer token (one line, mode 0600): umask 077; openssl rand -hex 32 > /etc/cloudpulse/token
# Clients send "Authorization: Bearer TOKEN" (or HTTP basic auth with the token as password).
token_file: /etc/cloudpulse/token

# Reads that need no token: healthz, metrics, status, api (result, results, openapi). Default: [healthz].
open_reads: [healthz, metrics]

# HTTPS: both or neither.
# tls: {cert: /etc/cloudpulse/tls.crt, key: /etc/cloudpulse/tls.key}

# Run history (SQLite). Runs queued longer ago than retention are deleted; 0 keeps everything.
# Two or more instances share one PostgreSQL database instead (each scheduled check runs once):
#   path: postgres://cloudpulse@db.example:5432/cloudpulse?sslmode=verify-full  (password: ~/.pgpass or PGPASSWORD)
# Scenario state then goes to that database too (OpenTofu's pg backend, a schema per run), so a live
# instance destroys a dead one's runs; it is encrypted with keys derived from state_key_file, one
# secret that every instance shares (mode 0600): umask 077; openssl rand -hex 32 > /etc/cloudpulse/state.key
# state_key_file: /etc/cloudpulse/state.key
history:
  path: /var/lib/cloudpulse/history.db
  retention: 720h

# Request body limit.
max_body: 1MiB

# The clouds to check: clouds.yaml names (OS_CLOUD). admin: true declares operator
# credentials (operator checks and the comprehensive scenario need them): each run
# then checks the token still has the admin role (check admin-role), and the
# checks that need it fail instead of skipping when it does not.
clouds:
  - mycloud
  - {name: mycloud-admin, admin: true}

# How often each family runs, per cloud; the first run is at start. 0 or -1 disables.
intervals:
  operator: 60s
  endpoint: 120s
  functional: 30m
  comprehensive: 2h
  upgrade: 0

# Deadlines: one check, one scenario run (apply, validate, destroy).
timeouts:
  check: 60s
  scenario: 45m

# A passed snapshot (POST /cpulse/snapshot) has its data-plane paths probed until the check of type upgrade
# on it, which reports the downtime per path; at most this long, a probe of each path this often.
upgrade_watch:
  max: 6h
  interval: 1s

# Each run starts up to this share of its interval late, so clouds do not start together (0% to 50%).
jitter: 10%

# Operator checks: the control plane's service map (see fixtures/service-map).
# service_map: /etc/cloudpulse/service-map.yaml
# horizon_url: https://horizon.example.com/

# OpenTofu: the binary (else $CLOUDPULSE_TOFU, else PATH) and its CLI config (provider mirror).
# tofu: /usr/local/bin/tofu
# tofurc: /etc/cloudpulse/tofurc

# Scenario workspaces (Terraform state of runs in flight). Default: cloudpulse-state next to the history.
# state_dir: /var/lib/cloudpulse/state
`
