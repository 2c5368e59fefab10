package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// inDir makes a directory with a token file "token" (0600), a world-readable
// "open", an "empty" one and a cert "c.pem", and changes into it, so the
// errors name "serve.yaml" and the files as written.
func inDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, f := range map[string]struct {
		text string
		mode os.FileMode
	}{"token": {"  s3cret\n", 0o600}, "open": {"s3cret", 0o644}, "empty": {"\n \n", 0o600}, "c.pem": {"x", 0o600},
		"state.key": {strings.Repeat("ab", 32) + "\n", 0o600}, "short.key": {"0123456789", 0o600}, "open.key": {strings.Repeat("ab", 32), 0o644}} {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(f.text), f.mode))
		require.NoError(t, os.Chmod(p, f.mode))
	}
	t.Chdir(dir)
	return dir
}

func load(t *testing.T, yaml string) (*Config, error) {
	t.Helper()
	require.NoError(t, os.WriteFile("serve.yaml", []byte(yaml), 0o600))
	return Load("serve.yaml")
}

const known = "known: listen, token_file, insecure_no_token, open_reads, tls, history, max_body, clouds, intervals, timeouts, jitter, service_map, horizon_url, tofu, tofurc, state_dir, upgrade_watch, state_key_file"

func TestLoadInvalid(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"bad duration", "listen: 127.0.0.1:8787\ntoken_file: token\nclouds: [lab]\nintervals:\n  operator: 60s\n  endpoint: 120s\n  functional: 30x\n",
			`serve.yaml:7: intervals.functional: "30x" is not a duration (write it like 30m, 2h; 0 or -1 disables)`},
		{"duration without unit", "token_file: token\nclouds: [lab]\nintervals: {operator: 60}\n",
			`serve.yaml:3: intervals.operator: "60" is not a duration (write it like 30m, 2h; 0 or -1 disables)`},
		{"negative interval", "token_file: token\nclouds: [lab]\nintervals: {endpoint: -5m}\n",
			`serve.yaml:3: intervals.endpoint: "-5m" is negative (write it like 30m, 2h; 0 or -1 disables)`},
		{"minus two", "token_file: token\nclouds: [lab]\nintervals: {endpoint: -2}\n",
			`serve.yaml:3: intervals.endpoint: "-2" is negative (write it like 30m, 2h; 0 or -1 disables)`},
		{"unknown family", "token_file: token\nclouds: [lab]\nintervals:\n  functionl: 30m\n",
			`serve.yaml:4: unknown key "intervals.functionl" (known: operator, endpoint, functional, comprehensive, upgrade)`},
		{"intervals not a mapping", "token_file: token\nclouds: [lab]\nintervals: 30m\n",
			`serve.yaml:3: intervals is "30m", not a mapping (write it like intervals: {functional: 30m})`},
		{"unknown key", "token_file: token\nclouds: [lab]\ncolour: red\n",
			`serve.yaml:3: unknown key "colour" (` + known + `)`},
		{"unknown nested key", "token_file: token\nclouds: [lab]\ntls: {cert: c.pem, kye: c.pem}\n",
			`serve.yaml:3: unknown key "tls.kye" (known: cert, key)`},
		{"key twice", "listen: 127.0.0.1:1\ntoken_file: token\nclouds: [lab]\nlisten: 127.0.0.1:2\n",
			`serve.yaml:4: listen is set again, first on line 1 (keep one)`},
		{"syntax", "token_file: token\nclouds: [lab\n",
			`serve.yaml:2: did not find expected ',' or ']' (fix the YAML syntax)`},
		{"syntax in block", "token_file: token\nclouds:\n  - lab\n intervals: {}\n",
			`serve.yaml:4: did not find expected key (fix the YAML syntax)`},
		{"tab indent", "history:\n\tpath: x\n",
			`serve.yaml:2: found character that cannot start any token (fix the YAML syntax)`},
		{"a list", "- clouds: [lab]\n",
			`serve.yaml:1: the configuration is a list, not a mapping (write keys like clouds: [mycloud] at the top level)`},
		{"no clouds", "token_file: token\n",
			`serve.yaml:1: no clouds configured (list clouds.yaml names, like clouds: [mycloud])`},
		{"empty clouds", "token_file: token\nclouds: []\n",
			`serve.yaml:2: no clouds configured (list clouds.yaml names, like clouds: [mycloud])`},
		{"empty file", "# nothing\n",
			`serve.yaml:1: no clouds configured (list clouds.yaml names, like clouds: [mycloud])`},
		{"clouds not a list", "token_file: token\nclouds: lab\n",
			`serve.yaml:2: clouds is "lab", not a list (write it like clouds: [mycloud, {name: admin-cloud, admin: true}])`},
		{"cloud twice", "token_file: token\nclouds:\n  - lab\n  - {name: lab, admin: true}\n",
			`serve.yaml:4: clouds: "lab" is listed twice (list each cloud once)`},
		{"cloud without name", "token_file: token\nclouds:\n  - {admin: true}\n",
			`serve.yaml:3: clouds[0] has no name (write a clouds.yaml name, or {name: NAME, admin: true})`},
		{"cloud unknown key", "token_file: token\nclouds:\n  - {name: a, region: x}\n",
			`serve.yaml:3: unknown key "clouds[0].region" (known: name, admin)`},
		{"cloud admin not bool", "token_file: token\nclouds:\n  - {name: a, admin: yes}\n",
			`serve.yaml:3: clouds[0].admin: "yes" is not true or false (write true or false)`},
		{"not loopback", "listen: 0.0.0.0:8787\nclouds: [lab]\n",
			`serve.yaml:1: listen 0.0.0.0:8787 is not loopback: set token_file (or listen on 127.0.0.1)`},
		{"all interfaces", "clouds: [lab]\nlisten: :8787\ninsecure_no_token: true\n",
			`serve.yaml:2: listen :8787 is not loopback: set token_file (or listen on 127.0.0.1)`},
		{"listen not host:port", "token_file: token\nclouds: [lab]\nlisten: 8787\n",
			`serve.yaml:3: listen "8787" is not host:port (write it like 127.0.0.1:8787)`},
		{"no token on loopback", "clouds: [lab]\n",
			`serve.yaml:1: token_file is not set (set token_file, or insecure_no_token: true to serve loopback without a token)`},
		{"token and insecure", "clouds: [lab]\ntoken_file: token\ninsecure_no_token: true\n",
			`serve.yaml:3: insecure_no_token: true and token_file are both set (remove one of them)`},
		{"insecure not bool", "clouds: [lab]\ninsecure_no_token: please\n",
			`serve.yaml:2: insecure_no_token: "please" is not true or false (write true or false)`},
		{"token missing", "clouds: [lab]\ntoken_file: nope\n",
			`serve.yaml:2: token_file nope: no such file or directory (write a random token to it: umask 077; openssl rand -hex 32 > nope)`},
		{"token empty", "clouds: [lab]\ntoken_file: empty\n",
			`serve.yaml:2: token_file empty is empty (write a random token to it: openssl rand -hex 32 > empty)`},
		{"token world-readable", "clouds: [lab]\ntoken_file: open\n",
			`serve.yaml:2: token_file open has mode 0644: readable by group or others (chmod 600 open)`},
		{"tls cert only", "token_file: token\nclouds: [lab]\ntls: {cert: c.pem}\n",
			`serve.yaml:3: tls.cert is set but tls.key is not (set both, or neither for plain HTTP)`},
		{"tls key only", "token_file: token\nclouds: [lab]\ntls:\n  key: c.pem\n",
			`serve.yaml:4: tls.key is set but tls.cert is not (set both, or neither for plain HTTP)`},
		{"tls missing file", "token_file: token\nclouds: [lab]\ntls:\n  cert: c.pem\n  key: k.pem\n",
			`serve.yaml:5: tls.key k.pem: no such file or directory (give an existing PEM file)`},
		{"tls a list", "token_file: token\nclouds: [lab]\ntls: [c.pem]\n",
			`serve.yaml:3: tls is a list, not a mapping (write it like tls: {cert: FILE, key: FILE})`},
		{"watch interval zero", "token_file: token\nclouds: [lab]\nupgrade_watch: {interval: 0s}\n",
			`serve.yaml:3: upgrade_watch.interval: "0s" is not positive (write it like 60s, 45m)`},
		{"watch unknown key", "token_file: token\nclouds: [lab]\nupgrade_watch: {every: 1s}\n",
			`serve.yaml:3: unknown key "upgrade_watch.every" (known: max, interval)`},
		{"timeout zero", "token_file: token\nclouds: [lab]\ntimeouts: {check: 0}\n",
			`serve.yaml:3: timeouts.check: "0" is not positive (write it like 60s, 45m)`},
		{"timeout minus one", "token_file: token\nclouds: [lab]\ntimeouts: {scenario: -1}\n",
			`serve.yaml:3: timeouts.scenario: "-1" is negative (write it like 60s, 45m)`},
		{"retention negative", "token_file: token\nclouds: [lab]\nhistory: {retention: -24h}\n",
			`serve.yaml:3: history.retention: "-24h" is negative (write it like 720h; 0 or -1 keeps everything)`},
		{"jitter too big", "token_file: token\nclouds: [lab]\njitter: 60%\n",
			`serve.yaml:3: jitter: "60%" is outside 0%–50% (write it like 10%; 0% to 50%)`},
		{"jitter negative", "token_file: token\nclouds: [lab]\njitter: -1%\n",
			`serve.yaml:3: jitter: "-1%" is outside 0%–50% (write it like 10%; 0% to 50%)`},
		{"jitter no percent", "token_file: token\nclouds: [lab]\njitter: 10\n",
			`serve.yaml:3: jitter: "10" is not a percentage (write it like 10%; 0% to 50%)`},
		{"open read unknown", "token_file: token\nclouds: [lab]\nopen_reads: [healthz, docs]\n",
			`serve.yaml:3: open_reads: unknown read "docs" (one of healthz, metrics, status, api)`},
		{"open reads not a list", "token_file: token\nclouds: [lab]\nopen_reads: healthz\n",
			`serve.yaml:3: open_reads is "healthz", not a list (write it like open_reads: [healthz, metrics])`},
		{"max_body unit", "token_file: token\nclouds: [lab]\nmax_body: 1XB\n",
			`serve.yaml:3: max_body: "1XB" is not a size (write it like 1MiB, 64KiB or a number of bytes)`},
		{"max_body zero", "token_file: token\nclouds: [lab]\nmax_body: 0\n",
			`serve.yaml:3: max_body: "0" is not a size (write it like 1MiB, 64KiB or a number of bytes)`},
		{"horizon url", "token_file: token\nclouds: [lab]\nhorizon_url: horizon.example.com\n",
			`serve.yaml:3: horizon_url: "horizon.example.com" is not an http(s) URL (write it like https://horizon.example.com/)`},
		{"history postgres no database", "token_file: token\nclouds: [lab]\nhistory:\n  path: postgres://cp:s3cret@db.example\n",
			`serve.yaml:4: history.path: postgres://cp:xxxxx@db.example names no database (write it like postgres://USER@HOST:5432/DB?sslmode=verify-full; the password in ~/.pgpass or PGPASSWORD)`},
		{"history postgres no host", "token_file: token\nclouds: [lab]\nhistory: {path: \"postgresql:///h\"}\n",
			`serve.yaml:3: history.path: postgresql:///h has no host (write it like postgres://USER@HOST:5432/DB?sslmode=verify-full; the password in ~/.pgpass or PGPASSWORD)`},
		{"listen a list", "token_file: token\nclouds: [lab]\nlisten: [a]\n",
			`serve.yaml:3: listen is a list, not a single value (write it like 127.0.0.1:8787)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inDir(t)
			_, err := load(t, tc.yaml)
			require.EqualError(t, err, tc.want)
			var ce *Error
			require.True(t, errors.As(err, &ce))
			require.NotContains(t, err.Error(), "\n")
		})
	}
}

func TestLoadDefaults(t *testing.T) {
	inDir(t)
	c, err := load(t, "token_file: token\nclouds: [lab]\n")
	require.NoError(t, err)
	require.Equal(t, &Config{
		File:      "serve.yaml",
		Listen:    "127.0.0.1:8787",
		TokenFile: "token",
		OpenReads: []string{"healthz"},
		History:   History{Path: "./cloudpulse-history.db", Retention: 720 * time.Hour},
		MaxBody:   1 << 20,
		Clouds:    []Cloud{{Name: "lab"}},
		Intervals: map[string]time.Duration{"operator": time.Minute, "endpoint": 2 * time.Minute,
			"functional": 30 * time.Minute, "comprehensive": 2 * time.Hour, "upgrade": 0},
		Timeouts:     Timeouts{Check: time.Minute, Scenario: 45 * time.Minute},
		Jitter:       0.10,
		StateDir:     "cloudpulse-state",
		UpgradeWatch: UpgradeWatch{Max: 6 * time.Hour, Interval: time.Second},
	}, c)
	for fam, want := range map[string]time.Duration{"operator": time.Minute, "endpoint": 2 * time.Minute,
		"functional": 30 * time.Minute, "comprehensive": 2 * time.Hour} {
		d, on := c.Interval(fam)
		require.True(t, on, fam)
		require.Equal(t, want, d, fam)
	}
	_, on := c.Interval("upgrade")
	require.False(t, on)
	_, on = c.Interval("nope")
	require.False(t, on)
	tok, err := c.Token()
	require.NoError(t, err)
	require.Equal(t, "s3cret", tok)
	require.True(t, c.OpenRead("healthz"))
	require.False(t, c.OpenRead("api"))
}

func TestLoadEverything(t *testing.T) {
	dir := inDir(t)
	require.NoError(t, os.Mkdir("etc", 0o700))
	yaml := `listen: "[::1]:0"
token_file: ../token
open_reads: [metrics, status, api, metrics]
tls: {cert: ../c.pem, key: ` + dir + `/c.pem}
history:
  path: h/history.db
  retention: 0
max_body: 64KiB
clouds:
  - lab-member
  - name: lab-admin
    admin: true
intervals: {operator: 10s, endpoint: -1, functional: 0, comprehensive: 3h, upgrade: 12h}
timeouts: {check: 5s, scenario: 1h30m}
jitter: 12.5%
service_map: map.yaml
horizon_url: http://172.24.4.1/dashboard
tofu: tofu
tofurc: /etc/tofurc
state_dir: ~
upgrade_watch: {max: 2h, interval: 500ms}
`
	require.NoError(t, os.WriteFile("etc/serve.yaml", []byte(yaml), 0o600))
	c, err := Load("etc/serve.yaml")
	require.NoError(t, err)
	require.Equal(t, "[::1]:0", c.Listen)
	require.Equal(t, "token", c.TokenFile, "relative to the file's directory")
	require.Equal(t, []string{"metrics", "status", "api"}, c.OpenReads)
	require.Equal(t, TLS{Cert: "c.pem", Key: dir + "/c.pem"}, c.TLS)
	require.Equal(t, History{Path: "etc/h/history.db", Retention: 0}, c.History)
	require.Equal(t, int64(64<<10), c.MaxBody)
	require.Equal(t, []Cloud{{Name: "lab-member"}, {Name: "lab-admin", Admin: true}}, c.Clouds)
	for fam, want := range map[string]struct {
		d  time.Duration
		on bool
	}{"operator": {10 * time.Second, true}, "endpoint": {-1, false}, "functional": {0, false},
		"comprehensive": {3 * time.Hour, true}, "upgrade": {12 * time.Hour, true}} {
		d, on := c.Interval(fam)
		require.Equal(t, want.on, on, fam)
		require.Equal(t, want.d, d, fam)
	}
	require.Equal(t, Timeouts{Check: 5 * time.Second, Scenario: 90 * time.Minute}, c.Timeouts)
	require.Equal(t, UpgradeWatch{Max: 2 * time.Hour, Interval: 500 * time.Millisecond}, c.UpgradeWatch)
	require.Equal(t, 0.125, c.Jitter)
	require.Equal(t, "etc/map.yaml", c.ServiceMap)
	require.Equal(t, "http://172.24.4.1/dashboard", c.HorizonURL)
	require.Equal(t, "tofu", c.Tofu, "a bare name stays for the PATH lookup")
	require.Equal(t, "/etc/tofurc", c.TofuRC)
	require.Equal(t, "etc/h/cloudpulse-state", c.StateDir, "default: next to the history")
	cl, ok := c.Cloud("lab-admin")
	require.True(t, ok)
	require.True(t, cl.Admin)
}

func TestLoadHistoryPostgres(t *testing.T) {
	inDir(t)
	c, err := load(t, "token_file: token\nclouds: [lab]\nhistory: {path: \"postgres://cp@db.example:5432/cloudpulse?sslmode=verify-full\"}\nstate_key_file: state.key\n")
	require.NoError(t, err)
	require.Equal(t, "state.key", c.StateKeyFile)
	key, err := c.StateKey()
	require.NoError(t, err)
	require.Equal(t, strings.Repeat("ab", 32), string(key), "trimmed")
	require.Equal(t, "postgres://cp@db.example:5432/cloudpulse?sslmode=verify-full", c.History.Path, "a URL is not a relative path")
	require.Equal(t, "cloudpulse-state", c.StateDir, "default: next to the configuration")
}

func TestLoadStateKeyFileInvalid(t *testing.T) {
	const pg = "token_file: token\nclouds: [lab]\nhistory: {path: \"postgres://cp@db.example:5432/cloudpulse\"}\n"
	for _, tc := range []struct{ name, yaml, want string }{
		{"postgres without key", pg,
			`serve.yaml:3: history.path is PostgreSQL, so scenario state is kept there, and state_key_file is not set (set state_key_file; write one random secret and copy the same file to every instance: umask 077; openssl rand -hex 32 > /etc/cloudpulse/state.key)`},
		{"sqlite with key", "token_file: token\nclouds: [lab]\nstate_key_file: state.key\n",
			`serve.yaml:3: state_key_file is set but the history is SQLite: runs keep their state in state_dir, each with a key of its own (remove it, or put the history on postgres://)`},
		{"missing", pg + "state_key_file: nope.key\n",
			`serve.yaml:4: state_key_file nope.key: no such file or directory (write one random secret and copy the same file to every instance: umask 077; openssl rand -hex 32 > nope.key)`},
		{"open to others", pg + "state_key_file: open.key\n",
			`serve.yaml:4: state_key_file open.key has mode 0644: readable by group or others (chmod 600 open.key)`},
		{"too short", pg + "state_key_file: short.key\n",
			`serve.yaml:4: state_key_file short.key is too short: want 32 characters or more (write one random secret and copy the same file to every instance: umask 077; openssl rand -hex 32 > short.key)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inDir(t)
			_, err := load(t, tc.yaml)
			require.EqualError(t, err, tc.want)
		})
	}
}

func TestLoadInsecureLoopback(t *testing.T) {
	for _, listen := range []string{"127.0.0.1:8787", "127.3.4.5:1", "localhost:8787", "[::1]:8787"} {
		t.Run(listen, func(t *testing.T) {
			inDir(t)
			c, err := load(t, "listen: \""+listen+"\"\ninsecure_no_token: true\nclouds: [lab]\n")
			require.NoError(t, err)
			require.True(t, c.InsecureNoToken)
			_, err = c.Token()
			require.EqualError(t, err, "read token: token_file is not set")
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	inDir(t)
	_, err := Load("nope.yaml")
	require.EqualError(t, err, "read config: open nope.yaml: no such file or directory")
}

func TestTokenRotated(t *testing.T) {
	inDir(t)
	c, err := load(t, "token_file: token\nclouds: [lab]\n")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile("token", []byte("new\n"), 0o600))
	tok, err := c.Token()
	require.NoError(t, err)
	require.Equal(t, "new", tok)
}

func TestExampleLoads(t *testing.T) {
	dir := inDir(t)
	ex := Example()
	require.Contains(t, ex, "\ntoken_file: /etc/cloudpulse/token\n")
	c, err := load(t, strings.Replace(ex, "\ntoken_file: /etc/cloudpulse/token\n", "\ntoken_file: "+filepath.Join(dir, "token")+"\n", 1))
	require.NoError(t, err)
	require.Equal(t, []Cloud{{Name: "mycloud"}, {Name: "mycloud-admin", Admin: true}}, c.Clouds)
	d, on := c.Interval("functional")
	require.True(t, on)
	require.Equal(t, 30*time.Minute, d)
	_, on = c.Interval("upgrade")
	require.False(t, on)
	require.Equal(t, []string{"healthz", "metrics"}, c.OpenReads)
	require.Equal(t, "/var/lib/cloudpulse/history.db", c.History.Path)
	require.Equal(t, 0.10, c.Jitter)
}
