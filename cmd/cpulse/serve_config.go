package main

import (
	"fmt"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/service"
	"github.com/cloudpulse/cloudpulse/helpers/service/config"
)

// serveConfig is the configuration file mapped to what runServe needs.
type serveConfig struct {
	opts                   service.Options
	listen                 string
	tlsCert, tlsKey        string
	historyPath            string
	stateDir               string
	tofu, tofurc           string
	serviceMap, horizonURL string
	checkTimeout           time.Duration
	admin                  map[string]bool // clouds declared admin: true
	stateKey               []byte          // state_key_file's secret (PostgreSQL history only)
}

// loadServeConfig reads FILE (config.Load: bad input refused as FILE:LINE:
// what (fix)) and the token it names.
func loadServeConfig(path string) (*serveConfig, error) {
	c, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	sc := &serveConfig{listen: c.Listen, tlsCert: c.TLS.Cert, tlsKey: c.TLS.Key, historyPath: c.History.Path,
		stateDir: c.StateDir, tofu: c.Tofu, tofurc: c.TofuRC, serviceMap: c.ServiceMap, horizonURL: c.HorizonURL,
		checkTimeout: c.Timeouts.Check}
	if sc.stateDir == "" {
		sc.stateDir = defaultStateDir(sc.historyPath)
	}
	o := &sc.opts
	o.OpenReads, o.Retention, o.Jitter, o.ScenarioTimeout, o.MaxBody = c.OpenReads, c.History.Retention, c.Jitter, c.Timeouts.Scenario, c.MaxBody
	o.WatchMax, o.WatchInterval = c.UpgradeWatch.Max, c.UpgradeWatch.Interval
	o.Intervals = map[string]time.Duration{}
	for f := range c.Intervals {
		if d, ok := c.Interval(f); ok {
			o.Intervals[f] = d
		}
	}
	sc.admin = map[string]bool{}
	for _, cl := range c.Clouds {
		o.Clouds = append(o.Clouds, cl.Name)
		sc.admin[cl.Name] = cl.Admin
	}
	if c.StateKeyFile != "" {
		if sc.stateKey, err = c.StateKey(); err != nil {
			return nil, err
		}
	}
	if !c.InsecureNoToken || c.TokenFile != "" {
		if c.TokenFile == "" {
			return nil, fmt.Errorf("read token: token_file is not set")
		}
		if o.Tokens, err = service.OpenTokenFile(c.TokenFile); err != nil {
			return nil, err
		}
	}
	return sc, nil
}
