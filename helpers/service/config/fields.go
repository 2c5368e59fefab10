package config

import (
	"fmt"
	"net/url"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/cloudpulse/cloudpulse/helpers/service/store"
)

// Fixes shown with errors: how the setting is written.
const (
	fixInterval  = "write it like 30m, 2h; 0 or -1 disables"
	fixTimeout   = "write it like 60s, 45m"
	fixRetention = "write it like 720h; 0 or -1 keeps everything"
	fixCloud     = "write a clouds.yaml name, or {name: NAME, admin: true}"
	fixPostgres  = "write it like postgres://USER@HOST:5432/DB?sslmode=verify-full; the password in ~/.pgpass or PGPASSWORD"
)

var topKeys = []string{"listen", "token_file", "insecure_no_token", "open_reads", "tls", "history", "max_body",
	"clouds", "intervals", "timeouts", "jitter", "service_map", "horizon_url", "tofu", "tofurc", "state_dir", "upgrade_watch", "state_key_file"}

// top applies the file's top-level mapping to l.cfg.
func (l *loader) top(root *yaml.Node) error {
	c := l.cfg
	return l.mapping(root, "", topKeys, "write keys like clouds: [mycloud] at the top level", func(key string, v *yaml.Node) (err error) {
		switch key {
		case "listen":
			c.Listen, err = l.str(v, key, "write it like 127.0.0.1:8787")
		case "token_file":
			c.TokenFile, err = l.str(v, key, "write a file name")
			c.TokenFile = l.path(c.TokenFile)
		case "insecure_no_token":
			c.InsecureNoToken, err = l.boolean(v, key)
		case "open_reads":
			c.OpenReads, err = l.openReads(v)
		case "tls":
			err = l.mapping(v, key, []string{"cert", "key"}, "write it like tls: {cert: FILE, key: FILE}", func(k string, v *yaml.Node) error {
				s, err := l.str(v, "tls."+k, "write a file name")
				if k == "cert" {
					c.TLS.Cert = l.path(s)
				} else {
					c.TLS.Key = l.path(s)
				}
				return err
			})
		case "history":
			err = l.mapping(v, key, []string{"path", "retention"}, "write it like history: {path: FILE, retention: 720h}", func(k string, v *yaml.Node) error {
				if k == "path" {
					s, err := l.str(v, "history.path", "write a file name, or postgres://USER@HOST:5432/DB")
					if err == nil && store.IsPostgresURL(s) {
						if perr := store.CheckPostgresURL(s); perr != nil {
							return l.errAt(v.Line, fixPostgres, "history.path: %v", perr)
						}
						c.History.Path = s
						return nil
					}
					c.History.Path = l.path(s)
					return err
				}
				d, err := l.duration(v, "history.retention", fixRetention, true)
				c.History.Retention = max(d, 0)
				return err
			})
		case "max_body":
			c.MaxBody, err = l.size(v, key)
		case "clouds":
			c.Clouds, err = l.clouds(v)
		case "intervals":
			err = l.mapping(v, key, Families, "write it like intervals: {functional: 30m}", func(k string, v *yaml.Node) error {
				d, err := l.duration(v, "intervals."+k, fixInterval, true)
				c.Intervals[k] = d
				return err
			})
		case "timeouts":
			err = l.mapping(v, key, []string{"check", "scenario"}, "write it like timeouts: {check: 60s, scenario: 45m}", func(k string, v *yaml.Node) error {
				d, err := l.duration(v, "timeouts."+k, fixTimeout, false)
				if k == "check" {
					c.Timeouts.Check = d
				} else {
					c.Timeouts.Scenario = d
				}
				return err
			})
		case "upgrade_watch":
			err = l.mapping(v, key, []string{"max", "interval"}, "write it like upgrade_watch: {max: 6h, interval: 1s}", func(k string, v *yaml.Node) error {
				d, err := l.duration(v, "upgrade_watch."+k, fixTimeout, false)
				if k == "max" {
					c.UpgradeWatch.Max = d
				} else {
					c.UpgradeWatch.Interval = d
				}
				return err
			})
		case "jitter":
			c.Jitter, err = l.percent(v, key)
		case "service_map":
			c.ServiceMap, err = l.str(v, key, "write a file name")
			c.ServiceMap = l.path(c.ServiceMap)
		case "horizon_url":
			c.HorizonURL, err = l.httpURL(v, key)
		case "tofu":
			c.Tofu, err = l.str(v, key, "write the OpenTofu binary's path")
			if strings.ContainsRune(c.Tofu, '/') { // a bare name is looked up in PATH
				c.Tofu = l.path(c.Tofu)
			}
		case "tofurc":
			c.TofuRC, err = l.str(v, key, "write a file name")
			c.TofuRC = l.path(c.TofuRC)
		case "state_key_file":
			c.StateKeyFile, err = l.str(v, key, "write a file name")
			c.StateKeyFile = l.path(c.StateKeyFile)
		case "state_dir":
			c.StateDir, err = l.str(v, key, "write a directory name")
			c.StateDir = l.path(c.StateDir)
		}
		return err
	})
}

func (l *loader) openReads(v *yaml.Node) ([]string, error) {
	fix := "one of " + strings.Join(OpenReadNames, ", ")
	if v.Kind != yaml.SequenceNode {
		return nil, l.errAt(v.Line, "write it like open_reads: [healthz, metrics]", "open_reads is %s, not a list", kind(v))
	}
	reads := []string{}
	for _, e := range v.Content {
		e = deref(e)
		s, err := l.str(e, "open_reads", fix)
		if err != nil {
			return nil, err
		}
		if !contains(OpenReadNames, s) {
			return nil, l.errAt(e.Line, fix, "open_reads: unknown read %q", s)
		}
		if !contains(reads, s) {
			reads = append(reads, s)
		}
	}
	return reads, nil
}

func (l *loader) clouds(v *yaml.Node) ([]Cloud, error) {
	if v.Kind != yaml.SequenceNode {
		return nil, l.errAt(v.Line, "write it like clouds: [mycloud, {name: admin-cloud, admin: true}]", "clouds is %s, not a list", kind(v))
	}
	var clouds []Cloud
	for i, e := range v.Content {
		e = deref(e)
		key := fmt.Sprintf("clouds[%d]", i)
		var cl Cloud
		switch e.Kind {
		case yaml.ScalarNode:
			cl.Name = e.Value
		case yaml.MappingNode:
			if err := l.mapping(e, key, []string{"name", "admin"}, fixCloud, func(k string, v *yaml.Node) (err error) {
				if k == "name" {
					cl.Name, err = l.str(v, key+".name", fixCloud)
				} else {
					cl.Admin, err = l.boolean(v, key+".admin")
				}
				return err
			}); err != nil {
				return nil, err
			}
		default:
			return nil, l.errAt(e.Line, fixCloud, "%s is %s", key, kind(e))
		}
		if strings.TrimSpace(cl.Name) == "" {
			return nil, l.errAt(e.Line, fixCloud, "%s has no name", key)
		}
		for _, prev := range clouds {
			if prev.Name == cl.Name {
				return nil, l.errAt(e.Line, "list each cloud once", "clouds: %q is listed twice", cl.Name)
			}
		}
		clouds = append(clouds, cl)
	}
	return clouds, nil
}

func (l *loader) httpURL(v *yaml.Node, key string) (string, error) {
	fix := "write it like https://horizon.example.com/"
	s, err := l.str(v, key, fix)
	if err != nil {
		return "", err
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", l.errAt(v.Line, fix, "%s: %q is not an http(s) URL", key, s)
	}
	return s, nil
}
