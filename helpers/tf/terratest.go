package tf

import (
	"context"
	"fmt"

	"github.com/gruntwork-io/terratest/modules/logger"
	"github.com/gruntwork-io/terratest/modules/terraform"
	terratesting "github.com/gruntwork-io/terratest/modules/testing"
)

// Terratest runs OpenTofu through terratest's terraform module: for go test.
// t is a *testing.T (terratest's TestingT); tofu's output goes to the test log.
type Terratest struct {
	t    terratesting.TestingT
	ws   *Workspace
	opts *terraform.Options
}

// NewTerratest prepares a runner for ws; env holds the cloud selection
// (cloud.Config.TerraformEnv).
func NewTerratest(t terratesting.TestingT, ws *Workspace, tools Tools, env map[string]string) *Terratest {
	envVars := map[string]string{}
	for k, v := range env {
		envVars[k] = v
	}
	for k, v := range tools.Env() {
		envVars[k] = v
	}
	return &Terratest{t: t, ws: ws, opts: &terraform.Options{
		TerraformDir:    ws.Dir,
		TerraformBinary: tools.Tofu, // FindTools' choice, never terratest's own pick from PATH
		EnvVars:         envVars,
		NoColor:         true,
		Logger:          logger.Default,
	}}
}

func (r *Terratest) Workspace() *Workspace { return r.ws }

func (r *Terratest) Init(ctx context.Context) error {
	if _, err := terraform.InitContextE(r.t, ctx, r.opts); err != nil {
		return fmt.Errorf("tofu init in %s: %w", r.ws.Dir, err)
	}
	return nil
}

func (r *Terratest) Apply(ctx context.Context) error {
	if _, err := terraform.ApplyContextE(r.t, ctx, r.opts); err != nil {
		return fmt.Errorf("tofu apply in %s: %w", r.ws.Dir, err)
	}
	return nil
}

func (r *Terratest) Outputs(ctx context.Context) (Outputs, error) {
	m, err := terraform.OutputAllContextE(r.t, ctx, r.opts)
	if err != nil {
		return nil, fmt.Errorf("tofu output in %s: %w", r.ws.Dir, err)
	}
	return Outputs(m), nil
}

func (r *Terratest) Destroy(ctx context.Context) error {
	if _, err := terraform.DestroyContextE(r.t, ctx, r.opts); err != nil {
		return fmt.Errorf("tofu destroy in %s: %w", r.ws.Dir, err)
	}
	return nil
}
