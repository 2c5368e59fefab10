package tf

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Tools are the pinned OpenTofu binary and the CLI config that points it at the
// local provider mirror.
type Tools struct {
	Tofu      string // absolute path of tofu
	CLIConfig string // absolute path of the CLI config (TF_CLI_CONFIG_FILE)
}

// FindTools locates the tools built by `make tools`: $CLOUDPULSE_TOFU and
// $CLOUDPULSE_TOFURC when set, else .tools/bin/tofu and .tools/tofurc in the
// repository root. A missing file is an error that names the fix.
func FindTools() (Tools, error) {
	t := Tools{Tofu: os.Getenv("CLOUDPULSE_TOFU"), CLIConfig: os.Getenv("CLOUDPULSE_TOFURC")}
	if t.Tofu == "" || t.CLIConfig == "" {
		root, err := RepoRoot()
		if err != nil {
			return Tools{}, fmt.Errorf("find tofu: %w (or set CLOUDPULSE_TOFU and CLOUDPULSE_TOFURC)", err)
		}
		if t.Tofu == "" {
			t.Tofu = filepath.Join(root, ".tools", "bin", "tofu")
		}
		if t.CLIConfig == "" {
			t.CLIConfig = filepath.Join(root, ".tools", "tofurc")
		}
	}
	var errs []error
	for _, p := range []string{t.Tofu, t.CLIConfig} {
		if _, err := os.Stat(p); err != nil {
			errs = append(errs, fmt.Errorf("%s is missing: run `make tools`", p))
		}
	}
	return t, errors.Join(errs...)
}

// Env is the environment every tofu command gets on top of the caller's.
func (t Tools) Env() map[string]string {
	return map[string]string{
		"TF_CLI_CONFIG_FILE": t.CLIConfig,
		"TF_IN_AUTOMATION":   "1",
		"CHECKPOINT_DISABLE": "1",
	}
}

// RepoRoot is the nearest directory at or above the working directory (or
// $CLOUDPULSE_ROOT) that holds cloudpulse's go.mod and fixtures/.
func RepoRoot() (string, error) {
	dir := os.Getenv("CLOUDPULSE_ROOT")
	if dir == "" {
		var err error
		if dir, err = os.Getwd(); err != nil {
			return "", err
		}
	}
	dir, _ = filepath.Abs(dir)
	for d := dir; ; d = filepath.Dir(d) {
		if fileExists(filepath.Join(d, "go.mod")) && fileExists(filepath.Join(d, "fixtures")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no cloudpulse checkout (go.mod + fixtures/) at or above %s; set CLOUDPULSE_ROOT", dir)
		}
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
