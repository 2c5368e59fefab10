package config

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// Families are the check families that have an interval.
var Families = []string{"operator", "endpoint", "functional", "comprehensive", "upgrade"}

// OpenReadNames are the reads that open_reads can open to requests without a token.
var OpenReadNames = []string{"healthz", "metrics", "status", "api"}

// Config is the configuration of `cpulse serve`.
type Config struct {
	File            string   // the file Load read
	Listen          string   // host:port
	TokenFile       string   // the bearer token's file; "" only with InsecureNoToken on loopback
	InsecureNoToken bool     // loopback only: no token at all
	OpenReads       []string // reads that need no token (OpenReadNames); default [healthz]
	TLS             TLS      // zero: plain HTTP
	History         History
	MaxBody         int64   // request body limit, bytes
	Clouds          []Cloud // at least one
	Intervals       map[string]time.Duration
	Timeouts        Timeouts
	Jitter          float64 // fraction of an interval, 0–0.5
	ServiceMap      string  // operator checks' service map
	HorizonURL      string
	Tofu            string // OpenTofu binary; "" = $CLOUDPULSE_TOFU or PATH
	TofuRC          string // OpenTofu CLI config (provider mirror)
	StateDir        string // scenario workspaces
	// UpgradeWatch bounds the watch of a passed snapshot's data-plane paths
	// (until the check of type upgrade on it).
	UpgradeWatch UpgradeWatch
	// StateKeyFile is the secret every instance on a PostgreSQL history
	// shares (mode 0600): runs' state is then in PostgreSQL, encrypted with a
	// passphrase derived from it. Required with a postgres:// history, refused
	// without one.
	StateKeyFile string
}

// UpgradeWatch is how long a snapshot is watched at most, and how often each
// path is probed.
type UpgradeWatch struct{ Max, Interval time.Duration }

// TLS is the server's certificate and key; both or neither.
type TLS struct{ Cert, Key string }

// History is the run history database.
type History struct {
	Path      string
	Retention time.Duration // 0: keep everything
}

// Cloud is a clouds.yaml entry the service checks.
type Cloud struct {
	Name  string
	Admin bool // declared operator credentials: families.Request.RequireAdmin
}

// Timeouts bound one check and one scenario run.
type Timeouts struct{ Check, Scenario time.Duration }

// Default is the configuration before the file is applied (no clouds yet).
func Default() *Config {
	return &Config{
		Listen:    "127.0.0.1:8787",
		OpenReads: []string{"healthz"},
		History:   History{Path: "./cloudpulse-history.db", Retention: 720 * time.Hour},
		MaxBody:   1 << 20,
		Intervals: map[string]time.Duration{
			"operator": 60 * time.Second, "endpoint": 120 * time.Second,
			"functional": 30 * time.Minute, "comprehensive": 2 * time.Hour, "upgrade": 0,
		},
		Timeouts: Timeouts{Check: 60 * time.Second, Scenario: 45 * time.Minute},
		Jitter:   0.10,
		// 6 h at a probe a second: about 2 MB per path
		UpgradeWatch: UpgradeWatch{Max: 6 * time.Hour, Interval: time.Second},
	}
}

// Interval is the family's interval; enabled is false when it is 0 or -1
// (or the family is unknown).
func (c *Config) Interval(family string) (d time.Duration, enabled bool) {
	d = c.Intervals[family]
	return d, d > 0
}

// OpenRead reports whether the read name (OpenReadNames) needs no token.
func (c *Config) OpenRead(name string) bool { return slices.Contains(c.OpenReads, name) }

// Cloud returns the configured cloud with that name.
func (c *Config) Cloud(name string) (Cloud, bool) {
	for _, cl := range c.Clouds {
		if cl.Name == name {
			return cl, true
		}
	}
	return Cloud{}, false
}

// StateKey reads the shared state secret from StateKeyFile (surrounding space trimmed).
func (c *Config) StateKey() ([]byte, error) {
	b, err := os.ReadFile(c.StateKeyFile)
	if err != nil {
		return nil, fmt.Errorf("read state key: %w", err)
	}
	k := strings.TrimSpace(string(b))
	if len(k) < minStateKey {
		return nil, fmt.Errorf("read state key: %s holds %d characters, want %d or more", c.StateKeyFile, len(k), minStateKey)
	}
	return []byte(k), nil
}

// minStateKey is the shortest state key accepted (openssl rand -hex 32 makes 64).
const minStateKey = 32

// Token reads the bearer token from TokenFile (surrounding space trimmed).
// It is read on each call, so a rotated file takes effect without a restart.
func (c *Config) Token() (string, error) {
	if c.TokenFile == "" {
		return "", fmt.Errorf("read token: token_file is not set")
	}
	b, err := os.ReadFile(c.TokenFile)
	if err != nil {
		return "", fmt.Errorf("read token: %w", err)
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", fmt.Errorf("read token: %s is empty", c.TokenFile)
	}
	return t, nil
}
