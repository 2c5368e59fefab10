package tf

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// PinnedTofu is the OpenTofu version cloudpulse is tested with (scripts/tools.sh builds it).
const PinnedTofu = "1.12.6"

// Terraform releases accepted in OpenTofu's place: the modules' required_version
// (>= 1.6.0) up to the next major version. Proven on the lab: 1.6.6.
var (
	minTerraform = [3]int{1, 6, 0}
	maxTerraform = [3]int{2, 0, 0} // excluded
)

// The products a binary can be.
const (
	OpenTofu  = "OpenTofu"
	Terraform = "Terraform"
)

// Tools are the OpenTofu (or Terraform) binary every code path runs and the
// CLI config that points it at the local provider mirror.
type Tools struct {
	Tofu      string // absolute path of the binary: OpenTofu, or Terraform in its place
	CLIConfig string // TF_CLI_CONFIG_FILE; empty leaves the user's own (registry installs)
	Product   string // OpenTofu or Terraform, from `version`
	Version   string // from `version -json`
}

// FindTools picks the binary, checking its version (never assuming it), in this order:
//  1. $CLOUDPULSE_TOFU (an error if it is not acceptable: the user chose it);
//  2. .tools/bin/tofu in the repository root (`make tools` builds or links it),
//     when there is a checkout;
//  3. tofu, then terraform, on PATH.
//
// Acceptable are OpenTofu PinnedTofu and Terraform >= 1.6.0, < 2.0.0. The CLI
// config is $CLOUDPULSE_TOFURC (which must exist), else .tools/tofurc when it
// exists, else none (tofu reads $TF_CLI_CONFIG_FILE, which must exist when set,
// or ~/.tofurc). When nothing fits, the error lists what was found and names
// the fix.
func FindTools() (Tools, error) {
	t, err := findBinary()
	rc, rcErr := findCLIConfig()
	if err != nil || rcErr != nil {
		return Tools{}, errors.Join(err, rcErr)
	}
	t.CLIConfig = rc
	return t, nil
}

func findBinary() (Tools, error) {
	if p := os.Getenv("CLOUDPULSE_TOFU"); p != "" {
		t, err := CheckBinary(p)
		if err != nil {
			return Tools{}, fmt.Errorf("CLOUDPULSE_TOFU: %w", err)
		}
		return t, nil
	}
	var candidates []string
	if root, err := RepoRoot(); err == nil && fileExists(filepath.Join(root, ".tools", "bin", "tofu")) {
		candidates = append(candidates, filepath.Join(root, ".tools", "bin", "tofu"))
	}
	for _, name := range []string{"tofu", "terraform"} {
		if p, err := exec.LookPath(name); err == nil {
			candidates = append(candidates, p)
		}
	}
	var tried []string
	for _, p := range candidates {
		t, err := CheckBinary(p)
		if err == nil {
			return t, nil
		}
		tried = append(tried, err.Error())
	}
	fix := "run `make tools`, or set CLOUDPULSE_TOFU"
	if _, err := RepoRoot(); err != nil { // no checkout: the binary runs on its own
		fix = "set CLOUDPULSE_TOFU to the OpenTofu binary, or put tofu on PATH"
	}
	if len(tried) == 0 {
		tried = append(tried, "no .tools/bin/tofu, and neither tofu nor terraform on PATH")
	}
	return Tools{}, fmt.Errorf("no usable OpenTofu %s or Terraform >= 1.6.0, < 2.0.0 (%s): %s",
		PinnedTofu, strings.Join(tried, "; "), fix)
}

func findCLIConfig() (string, error) {
	if p := os.Getenv("CLOUDPULSE_TOFURC"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("CLOUDPULSE_TOFURC=%s is missing: run `make tools`", p)
		}
		return filepath.Abs(p)
	}
	root, err := RepoRoot()
	if err == nil {
		if p := filepath.Join(root, ".tools", "tofurc"); fileExists(p) {
			return p, nil
		}
		return "", nil
	}
	// No checkout: the user's own CLI config (a provider mirror, or none:
	// registry installs) reaches tofu through the environment; one that is
	// missing is named now, not as a provider tofu init cannot find.
	if p := os.Getenv("TF_CLI_CONFIG_FILE"); p != "" && !fileExists(p) {
		return "", fmt.Errorf("TF_CLI_CONFIG_FILE=%s is missing: set CLOUDPULSE_TOFURC or TF_CLI_CONFIG_FILE to the tofurc with the provider mirror", p)
	}
	return "", nil
}

// checked caches CheckBinary by path, size and modification time.
var checked sync.Map

type checkKey struct {
	path string
	size int64
	mod  time.Time
}

// CheckBinary asks path what it is (`version`) and which version
// (`version -json`), and accepts OpenTofu PinnedTofu or Terraform >= 1.6.0,
// < 2.0.0. Its errors name the path.
func CheckBinary(path string) (Tools, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return Tools{}, err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return Tools{}, fmt.Errorf("%s is missing: run `make tools`", abs)
	}
	key := checkKey{abs, st.Size(), st.ModTime()}
	if t, ok := checked.Load(key); ok {
		return t.(Tools), nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	run := func(args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, abs, args...)
		// A TF_CLI_CONFIG_FILE naming a missing file makes `version` print a
		// warning before the product line: version questions need no CLI config.
		cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1", "TF_CLI_CONFIG_FILE=")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w %s", abs, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
		}
		return out, nil
	}
	text, err := run("version")
	if err != nil {
		return Tools{}, err
	}
	js, err := run("version", "-json")
	if err != nil {
		return Tools{}, err
	}
	t, err := parseVersion(text, js)
	if err != nil {
		return Tools{}, fmt.Errorf("%s: %w", abs, err)
	}
	t.Tofu = abs
	if err := accepted(t); err != nil {
		return Tools{}, err
	}
	checked.Store(key, t)
	return t, nil
}

// parseVersion reads the product from `version` ("OpenTofu v1.12.6", "Terraform
// v1.6.6") and the version from `version -json`.
func parseVersion(text, js []byte) (Tools, error) {
	var v struct {
		Version string `json:"terraform_version"`
	}
	if err := json.Unmarshal(js, &v); err != nil || v.Version == "" {
		return Tools{}, fmt.Errorf("`version -json` gave no terraform_version: %q", strings.TrimSpace(string(js)))
	}
	first, _, _ := strings.Cut(strings.TrimSpace(string(text)), "\n")
	product, _, _ := strings.Cut(first, " ")
	if product != OpenTofu && product != Terraform {
		return Tools{}, fmt.Errorf("neither OpenTofu nor Terraform: `version` says %q", first)
	}
	return Tools{Product: product, Version: v.Version}, nil
}

// accepted says why t cannot be used, or nil.
func accepted(t Tools) error {
	switch t.Product {
	case OpenTofu:
		if t.Version == PinnedTofu {
			return nil
		}
	case Terraform:
		if v, ok := semver(t.Version); ok && !less(v, minTerraform) && less(v, maxTerraform) {
			return nil
		}
	}
	return fmt.Errorf("%s is %s v%s, not OpenTofu %s or Terraform >= 1.6.0, < 2.0.0", t.Tofu, t.Product, t.Version, PinnedTofu)
}

// semver parses "1.6.6" (a pre-release or build suffix is ignored).
func semver(s string) ([3]int, bool) {
	s, _, _ = strings.Cut(s, "-")
	s, _, _ = strings.Cut(s, "+")
	parts := strings.Split(s, ".")
	var v [3]int
	if len(parts) != 3 {
		return v, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return v, false
		}
		v[i] = n
	}
	return v, true
}

func less(a, b [3]int) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// Env is the environment every tofu command gets on top of the caller's.
func (t Tools) Env() map[string]string {
	env := map[string]string{
		"TF_IN_AUTOMATION":   "1",
		"CHECKPOINT_DISABLE": "1",
	}
	if t.CLIConfig != "" {
		env["TF_CLI_CONFIG_FILE"] = t.CLIConfig
	}
	return env
}

// String names the binary for logs: "OpenTofu 1.12.6 (/path/tofu)".
func (t Tools) String() string {
	return fmt.Sprintf("%s %s (%s)", t.Product, t.Version, t.Tofu)
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
