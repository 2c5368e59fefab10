package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/families"
	"github.com/cloudpulse/cloudpulse/helpers/metrics"
	"github.com/cloudpulse/cloudpulse/helpers/probe"
	"github.com/cloudpulse/cloudpulse/helpers/service"
	"github.com/cloudpulse/cloudpulse/helpers/service/store"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// runServe is cpulse serve --config FILE: the checks as a service until
// SIGTERM/SIGINT (then running scenarios are cancelled and destroyed first).
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("cpulse serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "the service's configuration (YAML; see API12.md / README)")
	if err := fs.Parse(args); err != nil {
		return usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return usagef("serve takes no arguments, got %q", fs.Args())
	}
	if *path == "" {
		return usagef("serve: give --config FILE")
	}
	sc, err := loadServeConfig(*path)
	if err != nil {
		return usagef("%v", err)
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))

	// OpenTofu and where scenario workspaces live come from the configuration.
	for env, v := range map[string]string{"CLOUDPULSE_TOFU": sc.tofu, "TF_CLI_CONFIG_FILE": sc.tofurc, "CLOUDPULSE_STATE_DIR": sc.stateDir} {
		if v != "" {
			if err := os.Setenv(env, v); err != nil {
				return err
			}
		}
	}
	if err := os.MkdirAll(sc.stateDir, 0o700); err != nil {
		return fmt.Errorf("state_dir: %w", err)
	}
	clouds := map[string]*cloud.Config{}
	for _, name := range sc.opts.Clouds {
		cfg, err := cloud.Load(name)
		if err != nil {
			return usagef("%s: clouds: %v", *path, err)
		}
		clouds[name] = cfg
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	host, _ := os.Hostname()
	sc.opts.Owner = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
	sc.opts.Logger = log
	runner := service.FamilyRunner{Clouds: clouds, Admin: sc.admin, CheckTimeout: sc.checkTimeout, ServiceMap: sc.serviceMap, HorizonURL: sc.horizonURL, Logger: log}
	if store.IsPostgresURL(sc.historyPath) {
		// scenario state in the same database (pg backend), so a live instance can destroy a dead one's runs
		runner.State = &tf.PGState{ConnStr: sc.historyPath, Secret: sc.stateKey}
		defer runner.State.Close()
	}
	sc.opts.Cleanup = runner.Cleanup(sc.stateDir)
	// POST /cpulse/snapshot: each snapshot's state directory (secret: 0700/0600) under the state directory
	sc.opts.Upgrade, sc.opts.SnapshotDir = runner, filepath.Join(sc.stateDir, "snapshots")
	// a passed snapshot's data-plane paths are watched until the check of type upgrade on it
	sc.opts.WatchPaths = func(dir string) ([]probe.WatchPath, error) { return families.WatchPaths(dir, 0, 0) }

	st, err := store.Open(ctx, sc.historyPath)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	defer st.Close()
	ln, err := net.Listen("tcp", sc.listen)
	if err != nil {
		return err
	}
	sc.opts.Metrics = metrics.New()
	sc.opts.StatusPage = true
	svc := service.New(sc.opts, st, runner.Run)
	if err := svc.Start(ctx); err != nil {
		ln.Close()
		return err
	}
	scheme := "http"
	if sc.tlsCert != "" {
		scheme = "https"
	}
	scenarioState := "state_dir"
	if runner.State != nil {
		scenarioState = "postgresql"
	}
	log.Info("serving", "url", scheme+"://"+ln.Addr().String(), "clouds", strings.Join(sc.opts.Clouds, ","), "history", st.Path(), "state_dir", sc.stateDir, "scenario_state", scenarioState)
	fmt.Fprintf(stdout, "cpulse serve: listening on %s://%s\n", scheme, ln.Addr())
	return svc.Serve(ctx, ln, sc.tlsCert, sc.tlsKey)
}

// defaultStateDir: scenario workspaces next to the history.
func defaultStateDir(historyPath string) string {
	return filepath.Join(filepath.Dir(historyPath), "runs")
}
