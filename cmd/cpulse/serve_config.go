package main

// TEMPORARY: a minimal reader of the API12.md configuration until helper
// store's helpers/service/config lands; then loadServeConfig maps
// config.Load's result instead (only this file changes).

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/cloudpulse/cloudpulse/helpers/service"
)

type serveConfig struct {
	opts                   service.Options
	listen                 string
	tlsCert, tlsKey        string
	historyPath            string
	stateDir               string
	tofu, tofurc           string
	serviceMap, horizonURL string
	checkTimeout           time.Duration
}

type cloudEntry struct {
	Name  string `yaml:"name"`
	Admin bool   `yaml:"admin"`
}

func (c *cloudEntry) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		c.Name = n.Value
		return nil
	}
	type plain cloudEntry
	return n.Decode((*plain)(c))
}

type rawServeConfig struct {
	Listen          string                     `yaml:"listen"`
	TokenFile       string                     `yaml:"token_file"`
	InsecureNoToken bool                       `yaml:"insecure_no_token"`
	OpenReads       []string                   `yaml:"open_reads"`
	TLS             struct{ Cert, Key string } `yaml:"tls"`
	History         struct {
		Path      string `yaml:"path"`
		Retention string `yaml:"retention"`
	} `yaml:"history"`
	MaxBody    string            `yaml:"max_body"`
	Clouds     []cloudEntry      `yaml:"clouds"`
	Intervals  map[string]string `yaml:"intervals"`
	Timeouts   map[string]string `yaml:"timeouts"`
	Jitter     string            `yaml:"jitter"`
	ServiceMap string            `yaml:"service_map"`
	HorizonURL string            `yaml:"horizon_url"`
	Tofu       string            `yaml:"tofu"`
	Tofurc     string            `yaml:"tofurc"`
	StateDir   string            `yaml:"state_dir"`
}

func loadServeConfig(path string) (*serveConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var raw rawServeConfig
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: "+format, append([]any{path}, args...)...)
	}
	sc := &serveConfig{listen: raw.Listen, tlsCert: raw.TLS.Cert, tlsKey: raw.TLS.Key, historyPath: raw.History.Path,
		stateDir: raw.StateDir, tofu: raw.Tofu, tofurc: raw.Tofurc, serviceMap: raw.ServiceMap, horizonURL: raw.HorizonURL,
		checkTimeout: 60 * time.Second}
	if sc.listen == "" {
		sc.listen = "127.0.0.1:8787"
	}
	if sc.historyPath == "" {
		sc.historyPath = "/var/lib/cloudpulse/history.db"
	}
	if sc.stateDir == "" {
		sc.stateDir = defaultStateDir(sc.historyPath)
	}
	o := &sc.opts
	o.OpenReads, o.Retention, o.Jitter, o.ScenarioTimeout = raw.OpenReads, 720*time.Hour, 0.1, 45*time.Minute
	dur := func(what, v string) (time.Duration, error) {
		if v == "0" || v == "-1" {
			return 0, nil
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			return 0, bad("%s: %q is not a duration (use 90s, 30m, 2h; 0 disables)", what, v)
		}
		return d, nil
	}
	if raw.History.Retention != "" {
		if o.Retention, err = dur("history.retention", raw.History.Retention); err != nil {
			return nil, err
		}
	}
	o.Intervals = map[string]time.Duration{}
	for f, v := range raw.Intervals {
		if !strings.Contains(strings.Join(service.Types, ","), f) {
			return nil, bad("intervals: unknown family %q (use one of %s)", f, strings.Join(service.Types, ", "))
		}
		if o.Intervals[f], err = dur("intervals."+f, v); err != nil {
			return nil, err
		}
	}
	for k, v := range raw.Timeouts {
		d, err := dur("timeouts."+k, v)
		if err != nil {
			return nil, err
		}
		switch k {
		case "check":
			sc.checkTimeout = d
		case "scenario":
			o.ScenarioTimeout = d
		default:
			return nil, bad("timeouts: unknown %q (use check, scenario)", k)
		}
	}
	if raw.Jitter != "" {
		p, err := strconv.ParseFloat(strings.TrimSuffix(raw.Jitter, "%"), 64)
		if err != nil || p < 0 || p > 100 {
			return nil, bad("jitter: %q (use a percentage such as 10%%)", raw.Jitter)
		}
		o.Jitter = p / 100
	}
	if raw.MaxBody != "" {
		v := strings.ToUpper(raw.MaxBody)
		mult := int64(1)
		for suf, m := range map[string]int64{"KIB": 1 << 10, "MIB": 1 << 20, "KB": 1000, "MB": 1000000} {
			if strings.HasSuffix(v, suf) {
				v, mult = strings.TrimSuffix(v, suf), m
				break
			}
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n <= 0 {
			return nil, bad("max_body: %q (use a size such as 1MiB)", raw.MaxBody)
		}
		o.MaxBody = n * mult
	}
	for _, c := range raw.Clouds {
		o.Clouds = append(o.Clouds, c.Name)
	}
	if len(o.Clouds) == 0 {
		return nil, bad("clouds: none (name the clouds.yaml clouds to check)")
	}
	host, _, err := net.SplitHostPort(sc.listen)
	if err != nil {
		return nil, bad("listen: %v", err)
	}
	loopback := host == "localhost" || (net.ParseIP(host) != nil && net.ParseIP(host).IsLoopback())
	switch {
	case raw.TokenFile != "":
		tb, err := os.ReadFile(raw.TokenFile)
		if err != nil {
			return nil, bad("token_file: %v", err)
		}
		if o.Token = strings.TrimSpace(string(tb)); o.Token == "" {
			return nil, bad("token_file: %s is empty", raw.TokenFile)
		}
	case raw.InsecureNoToken && loopback:
	default:
		return nil, bad("token_file: required (or insecure_no_token: true with a loopback listen)")
	}
	if !filepath.IsAbs(sc.historyPath) {
		sc.historyPath, _ = filepath.Abs(sc.historyPath)
	}
	return sc, nil
}
