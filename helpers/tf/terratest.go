package tf

import (
	"context"
	"fmt"
	"sync"

	"github.com/gruntwork-io/terratest/modules/logger"
	"github.com/gruntwork-io/terratest/modules/terraform"
	terratesting "github.com/gruntwork-io/terratest/modules/testing"
)

// Terratest runs OpenTofu through terratest's terraform module: for go test.
// t is a *testing.T (terratest's TestingT); tofu's output goes to the test
// log, with every secret of the run redacted.
type Terratest struct {
	t       terratesting.TestingT
	ws      *Workspace
	opts    *terraform.Options
	secrets *Secrets
	err     error // from preparing the environment; returned by every command
}

// NewTerratest prepares a runner for ws; env holds the cloud selection
// (cloud.Config.TerraformEnv). The secrets of ws and of the environment
// (SecretsFromEnv) are redacted from everything terratest logs and from the
// errors, including terratest's own messages through logger.Default.
func NewTerratest(t terratesting.TestingT, ws *Workspace, tools Tools, env map[string]string) *Terratest {
	envVars := map[string]string{}
	for k, v := range env {
		envVars[k] = v
	}
	for k, v := range tools.Env() {
		envVars[k] = v
	}
	wsEnv, err := ws.Env()
	for k, v := range wsEnv {
		envVars[k] = v
	}
	secrets := ws.Secrets()
	secrets.Merge(SecretsFromEnv(envVars))
	return &Terratest{t: t, ws: ws, secrets: secrets, err: err, opts: &terraform.Options{
		TerraformDir:    ws.Dir,
		TerraformBinary: tools.Tofu, // FindTools' choice, never terratest's own pick from PATH
		EnvVars:         envVars,
		NoColor:         true,
		Parallelism:     ws.Parallelism,
		Logger:          redactingTerratestLogger(secrets),
	}}
}

func (r *Terratest) Workspace() *Workspace { return r.ws }

// run runs one tofu command privately (see runPrivately) and wraps its error.
func (r *Terratest) run(what string, f func() error) error {
	if r.err != nil {
		return fmt.Errorf("tofu %s in %s: %w", what, r.ws.Dir, r.err)
	}
	if err := runPrivately(r.ws, r.secrets, f); err != nil {
		return fmt.Errorf("tofu %s in %s: %w", what, r.ws.Dir, err)
	}
	return nil
}

func (r *Terratest) Init(ctx context.Context) error {
	return r.run("init", func() error {
		_, err := terraform.InitContextE(r.t, ctx, r.opts)
		return err
	})
}

func (r *Terratest) Apply(ctx context.Context) error {
	return r.run("apply", func() error {
		_, err := terraform.ApplyContextE(r.t, ctx, r.opts)
		return err
	})
}

func (r *Terratest) Outputs(ctx context.Context) (Outputs, error) {
	var m map[string]any
	err := r.run("output", func() (err error) {
		m, err = terraform.OutputAllContextE(r.t, ctx, r.opts)
		return err
	})
	if err != nil {
		return nil, err
	}
	return Outputs(m), nil
}

func (r *Terratest) Destroy(ctx context.Context) error {
	return r.run("destroy", func() error {
		_, err := terraform.DestroyContextE(r.t, ctx, r.opts)
		return err
	})
}

// runPrivately runs one tofu command with umask 077, then removes group and
// other permissions from whatever it left in the workspace, and redacts its
// error.
func runPrivately(ws *Workspace, secrets *Secrets, f func() error) error {
	restore := privateUmask()
	err := f()
	restore()
	if perr := ws.Protect(); perr != nil && err == nil {
		err = perr
	}
	return secrets.Error(err)
}

// terratest logs through the runner's logger, and through logger.Default in
// its retry loop ("Returning due to fatal error: " with tofu's standard
// error). Both redact the secrets of every Terratest runner of the process.
var terratestLog struct {
	sync.Mutex
	once    sync.Once
	inner   *logger.Logger
	secrets []*Secrets
}

// redactingTerratestLogger registers secrets and returns the redacting
// logger, installed as logger.Default on first use.
func redactingTerratestLogger(secrets *Secrets) *logger.Logger {
	terratestLog.once.Do(func() {
		terratestLog.inner = logger.Default
		logger.Default = logger.New(redactingLogger{})
	})
	terratestLog.Lock()
	terratestLog.secrets = append(terratestLog.secrets, secrets)
	terratestLog.Unlock()
	return logger.Default
}

type redactingLogger struct{}

func (redactingLogger) Logf(t terratesting.TestingT, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	terratestLog.Lock()
	for _, s := range terratestLog.secrets {
		msg = s.Redact(msg)
	}
	inner := terratestLog.inner
	terratestLog.Unlock()
	inner.Logf(t, "%s", msg)
}
