package tf

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/hashicorp/terraform-exec/tfexec"
)

// Exec runs OpenTofu through terraform-exec: for the CLI and the service.
type Exec struct {
	ws *Workspace
	tf *tfexec.Terraform
}

// NewExec prepares a runner for ws. env holds the cloud selection
// (cloud.Config.TerraformEnv); log, if not nil, receives tofu's output.
func NewExec(ws *Workspace, tools Tools, env map[string]string, log io.Writer) (*Exec, error) {
	t, err := tfexec.NewTerraform(ws.Dir, tools.Tofu)
	if err != nil {
		return nil, fmt.Errorf("tofu in %s: %w", ws.Dir, err)
	}
	full := environ(env, tools.Env())
	// terraform-exec manages these itself and refuses them in SetEnv.
	for _, k := range tfexec.ProhibitedEnv(full) {
		delete(full, k)
	}
	if err := t.SetEnv(full); err != nil {
		return nil, fmt.Errorf("tofu environment: %w", err)
	}
	if log != nil {
		t.SetStdout(log)
		t.SetStderr(log)
	}
	return &Exec{ws: ws, tf: t}, nil
}

func (e *Exec) Workspace() *Workspace { return e.ws }

func (e *Exec) Init(ctx context.Context) error {
	if err := e.tf.Init(ctx, tfexec.Upgrade(false)); err != nil {
		return fmt.Errorf("tofu init in %s: %w", e.ws.Dir, err)
	}
	return nil
}

func (e *Exec) Apply(ctx context.Context) error {
	if err := e.tf.Apply(ctx); err != nil {
		return fmt.Errorf("tofu apply in %s: %w", e.ws.Dir, err)
	}
	return nil
}

func (e *Exec) Outputs(ctx context.Context) (Outputs, error) {
	raw, err := e.tf.Output(ctx)
	if err != nil {
		return nil, fmt.Errorf("tofu output in %s: %w", e.ws.Dir, err)
	}
	out := Outputs{}
	for k, m := range raw {
		var v any
		if err := json.Unmarshal(m.Value, &v); err != nil {
			return nil, fmt.Errorf("tofu output %q: %w", k, err)
		}
		out[k] = v
	}
	return out, nil
}

func (e *Exec) Destroy(ctx context.Context) error {
	if err := e.tf.Destroy(ctx); err != nil {
		return fmt.Errorf("tofu destroy in %s: %w", e.ws.Dir, err)
	}
	return nil
}
