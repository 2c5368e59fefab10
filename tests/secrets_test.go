package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// secretScanEnv set to "child" (by the scan itself) or "0" (by a user who
// wants the plain run) makes TestFunctionalOperatorMode run its scenario
// directly.
const secretScanEnv = "CLOUDPULSE_SECRET_SCAN"

// scanSecretsAround runs TestFunctionalOperatorMode's passing run in a child
// process (the same test binary, under gotestsum, so that it writes what CI
// writes: test output with terratest's logs, JUnit, go test's JSON, the JSON
// report), and beside it a failing operator-mode run of the `cpulse` CLI (its
// ssh validation logs in as a user the guest does not have; its output, JSON
// results and report are kept). Then it searches every file they wrote for
// each password the runs knew — OS_PASSWORD of the member and admin clouds,
// every secret variable of the environment, and the tenant passwords the runs
// generated (read from their state directories while they lived): 0 hits. A
// watcher checks the state directories while the runs live: no directory or
// file open to group or others, no password in clear in the state, and
// nothing left after the destroys.
//
// It returns false in the child (and with CLOUDPULSE_SECRET_SCAN=0): the
// caller then runs the scenario itself.
func scanSecretsAround(t *testing.T) bool {
	if os.Getenv(secretScanEnv) != "" {
		return false
	}
	admin := adminCloud(t)
	member := cloudConfig(t)
	root, err := tf.RepoRoot()
	require.NoError(t, err)
	gotestsum := findTool(t, root, "gotestsum")
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	ctx := runContext(t, time.Minute)
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(30 * time.Minute)
	}

	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	stateDir := filepath.Join(dir, "state")
	require.NoError(t, os.MkdirAll(logs, 0o700))

	// The CLI is built before anything is created.
	cpulse := filepath.Join(dir, "cpulse")
	build := exec.CommandContext(ctx, goBin, "build", "-o", cpulse, "./cmd/cpulse")
	build.Dir = root
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build ./cmd/cpulse: %s", out)

	watch := watchState(stateDir)
	childEnv := func(extra ...string) []string {
		env := append(os.Environ(), "CLOUDPULSE_STATE_DIR="+stateDir, "CLOUDPULSE_RUN_ID=", secretScanEnv+"=child")
		return append(env, extra...)
	}
	var wg sync.WaitGroup
	var pass, fail childRun
	wg.Add(2)
	go func() { // the passing run: this very test, as CI runs it
		defer wg.Done()
		timeout := time.Until(dl) - 30*time.Second
		pass = runChild(ctx, childEnv("CLOUDPULSE_REPORT="+filepath.Join(logs, "functional.json")),
			gotestsum, "--format", "standard-verbose",
			"--junitfile", filepath.Join(logs, "operator-mode.junit.xml"), "--jsonfile", filepath.Join(logs, "go-test.json"),
			"--raw-command", "--", goBin, "tool", "test2json", "-t", "-p", "github.com/cloudpulse/cloudpulse/tests",
			os.Args[0], "-test.v=test2json", "-test.count=1", "-test.run", "^TestFunctionalOperatorMode$",
			"-test.timeout", timeout.Round(time.Second).String())
	}()
	go func() { // the failing run: the CLI, in operator mode, with a login the guest refuses
		defer wg.Done()
		env := childEnv("OS_CLOUD="+admin.Name, "CLOUDPULSE_CREATE_PROJECT=1", "CLOUDPULSE_SSH_USER=cp-no-such-user",
			"CLOUDPULSE_VALIDATE_TIMEOUT=90s", "CLOUDPULSE_CIDR=10.44.0.0/24", "CLOUDPULSE_HOSTS=",
			"CLOUDPULSE_REPORT="+filepath.Join(logs, "cli-report.json"))
		fail = runChild(ctx, env, cpulse, "check", "functional", "--json")
	}()
	wg.Wait()
	seen := watch.stop()
	if p := reportPath(t); p != "" { // the report CI expects of TestFunctionalOperatorMode
		if b, err := os.ReadFile(filepath.Join(logs, "functional-operator-mode.json")); err == nil {
			assert.NoError(t, os.WriteFile(p, b, 0o644))
		}
	}
	for name, b := range map[string]string{"go-test.log": pass.stdout + pass.stderr, "cli-stdout.json": fail.stdout, "cli-stderr.log": fail.stderr} {
		require.NoError(t, os.WriteFile(filepath.Join(logs, name), []byte(b), 0o600))
	}

	// Every password the runs knew, by where it came from.
	known := map[string]string{}
	addKnown := func(what, v string) {
		if v != "" {
			known[what] = v
		}
	}
	for _, cfg := range []*cloud.Config{admin, member} {
		addKnown("password of cloud "+cfg.Name, cfg.Auth.Password)
		addKnown("application credential secret of cloud "+cfg.Name, cfg.Auth.ApplicationCredentialSecret)
	}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && tf.IsSecretName(k) && len(v) >= 8 {
			addKnown("$"+k, v)
		}
	}
	for i, pw := range seen.tenantPasswords {
		addKnown(fmt.Sprintf("tenant password %d", i+1), pw)
	}
	require.NotEmpty(t, known["password of cloud "+admin.Name], "the admin cloud has a password to look for")

	redact := tf.NewSecrets()
	for _, v := range known {
		redact.Add(v)
	}
	t.Logf("passing run (go test child; exit: %v), last lines:\n%s", pass.err, redact.Redact(lastLines(pass.stdout+pass.stderr, 25)))
	t.Logf("failing run (cpulse check functional --json; exit: %v), last lines of stderr:\n%s", fail.err, redact.Redact(lastLines(fail.stderr, 15)))

	// The runs did what they were meant to.
	assert.NoError(t, pass.err, "the operator-mode run passes")
	var exit *exec.ExitError
	if assert.ErrorAs(t, fail.err, &exit, "the CLI run fails") {
		assert.Equal(t, 1, exit.ExitCode(), "cpulse exits 1 when a check failed")
	}
	assert.Contains(t, fail.stdout, `"name": "functional"`, "the CLI's JSON results")
	// checks are named stably (ssh/vm-1); the CLI lists a scenario's as <scenario>/<check>
	assert.Regexp(t, `"name": "functional/ssh/vm-1",\s*"status": "fail"`, fail.stdout, "the CLI run failed at its ssh validation")
	assert.Regexp(t, `ssh/vm-1: .*ssh cp-no-such-user@[0-9.]+:22`, fail.stdout, "its error names the check, the user and the address")
	assert.Len(t, seen.tenantPasswords, 2, "each run's tenant password, read from its state directory")
	assert.Len(t, seen.workspaces, 2, "both runs' workspaces were seen")

	// State directories: private while they lived, nothing left after.
	assert.Empty(t, seen.violations, "state directories: nothing open to group or others")
	assert.Empty(t, seen.clearState, "states holding a tenant password in clear")
	left, _ := os.ReadDir(stateDir)
	assert.Empty(t, left, "the state is gone after a successful destroy")
	t.Logf("state directories: %d checks of %d paths while the runs lived; modes open to group/others: %d; states with a password in clear: %d; left after destroy: %d",
		seen.walks, seen.paths, len(seen.violations), len(seen.clearState), len(left))

	// Every log, JUnit file, JSON report and CLI output: no password.
	files := 0
	var hits []string
	require.NoError(t, filepath.WalkDir(logs, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files++
		n := 0
		for what, v := range known {
			if c := bytes.Count(b, []byte(v)); c > 0 {
				n += c
				hits = append(hits, fmt.Sprintf("%s: %d × %s", filepath.Base(p), c, what))
			}
		}
		t.Logf("searched %s (%d bytes): %d hits", filepath.Base(p), len(b), n)
		return nil
	}))
	sort.Strings(hits)
	assert.GreaterOrEqual(t, files, 6, "go-test.log, go-test.json, the JUnit file, functional(-operator-mode).json, cli-stderr.log, cli-report.json")
	assert.Empty(t, hits, "secrets found in the runs' output")
	t.Logf("secret search: %d files, %d passwords (%s), %d hits", files, len(known), strings.Join(sortedKeys(known), ", "), len(hits))
	return true
}

// childRun is a child process's output and exit.
type childRun struct {
	stdout, stderr string
	err            error
}

// runChild runs name with args and env in a process group of its own; ctx
// ending sends it SIGINT, so the run destroys what it built.
func runChild(ctx context.Context, env []string, name string, args ...string) childRun {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGINT) }
	cmd.WaitDelay = 5 * time.Minute
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return childRun{stdout: stdout.String(), stderr: stderr.String(), err: err}
}

// stateWatch polls a state directory while runs live.
type stateWatch struct {
	dir  string
	done chan struct{}
	res  chan stateSeen
}

type stateSeen struct {
	walks, paths    int
	violations      []string // paths open to group or others, with their mode
	clearState      []string // state files that held a tenant password in clear
	tenantPasswords []string // from the workspaces' variables files
	workspaces      []string
}

func watchState(dir string) *stateWatch {
	w := &stateWatch{dir: dir, done: make(chan struct{}), res: make(chan stateSeen, 1)}
	go w.loop()
	return w
}

func (w *stateWatch) stop() stateSeen {
	close(w.done)
	return <-w.res
}

func (w *stateWatch) loop() {
	var s stateSeen
	bad := map[string]bool{}
	paths := map[string]bool{}
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	for {
		w.walk(&s, bad, paths)
		select {
		case <-w.done:
			w.walk(&s, bad, paths)
			s.paths = len(paths)
			w.res <- s
			return
		case <-tick.C:
		}
	}
}

func (w *stateWatch) walk(s *stateSeen, bad, paths map[string]bool) {
	s.walks++
	_ = filepath.WalkDir(w.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // not there yet, or removed while we walked
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		paths[p] = true
		// OpenTofu chmods the lock file it writes at the end of init to 0644
		// itself (no umask can stop that); it holds provider checksums only,
		// inside the 0700 root, and the runner makes it 0600 when init returns.
		if d.Name() == ".terraform.lock.hcl" {
			return nil
		}
		if mode := info.Mode().Perm(); mode&0o077 != 0 && !bad[p] {
			bad[p] = true
			s.violations = append(s.violations, fmt.Sprintf("%s %v", strings.TrimPrefix(p, w.dir), mode))
		}
		switch d.Name() {
		case tf.VarFile:
			var vars map[string]any
			if b, err := os.ReadFile(p); err == nil && json.Unmarshal(b, &vars) == nil {
				if pw, _ := vars["tenant_password"].(string); pw != "" && !slices.Contains(s.tenantPasswords, pw) {
					s.tenantPasswords = append(s.tenantPasswords, pw)
				}
			}
			ws := filepath.Dir(filepath.Dir(filepath.Dir(p)))
			if !slices.Contains(s.workspaces, ws) {
				s.workspaces = append(s.workspaces, ws)
			}
		case "terraform.tfstate", "terraform.tfstate.backup":
			if b, err := os.ReadFile(p); err == nil {
				for _, pw := range s.tenantPasswords {
					if bytes.Contains(b, []byte(pw)) && !slices.Contains(s.clearState, p) {
						s.clearState = append(s.clearState, p)
					}
				}
			}
		}
		return nil
	})
}

// findTool is name on PATH, or in the checkout's .tools/bin.
func findTool(t *testing.T, root, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	p := filepath.Join(root, ".tools", "bin", name)
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%s is missing: run `make tools`", name)
	}
	return p
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
