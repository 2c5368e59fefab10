package tf

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/hashicorp/terraform-exec/tfexec"
	tfjson "github.com/hashicorp/terraform-json"
)

// Exec runs OpenTofu through terraform-exec: for the CLI and the service.
type Exec struct {
	ws      *Workspace
	tf      *tfexec.Terraform
	secrets *Secrets
	log     *RedactingWriter // nil without a log
}

// NewExec prepares a runner for ws. env holds the cloud selection
// (cloud.Config.TerraformEnv); log, if not nil, receives tofu's output with
// every secret of ws and of the environment (SecretsFromEnv) redacted — also
// the values of `tofu output`, which it prints in clear. Errors are redacted
// the same way.
func NewExec(ws *Workspace, tools Tools, env map[string]string, log io.Writer) (*Exec, error) {
	t, err := tfexec.NewTerraform(ws.Dir, tools.Tofu)
	if err != nil {
		return nil, fmt.Errorf("tofu in %s: %w", ws.Dir, err)
	}
	wsEnv, err := ws.Env()
	if err != nil {
		return nil, fmt.Errorf("tofu in %s: %w", ws.Dir, err)
	}
	full := environ(env, tools.Env(), wsEnv)
	// terraform-exec manages these itself and refuses them in SetEnv.
	for _, k := range tfexec.ProhibitedEnv(full) {
		delete(full, k)
	}
	if err := t.SetEnv(full); err != nil {
		return nil, fmt.Errorf("tofu environment: %w", err)
	}
	secrets := ws.Secrets()
	secrets.Merge(SecretsFromEnv(full))
	e := &Exec{ws: ws, tf: t, secrets: secrets}
	if log != nil {
		e.log = secrets.Writer(log)
		t.SetStdout(e.log)
		t.SetStderr(e.log)
	}
	return e, nil
}

func (e *Exec) Workspace() *Workspace { return e.ws }

// run runs one tofu command privately (see runPrivately), flushes the log and
// wraps the error.
func (e *Exec) run(what string, f func() error) error {
	err := runPrivately(e.ws, e.secrets, f)
	if e.log != nil {
		if ferr := e.log.Flush(); ferr != nil && err == nil {
			err = ferr
		}
	}
	if err != nil {
		return fmt.Errorf("tofu %s in %s: %w", what, e.ws.Dir, err)
	}
	return nil
}

func (e *Exec) Init(ctx context.Context) error {
	return e.run("init", func() error { return e.tf.Init(ctx, tfexec.Upgrade(false)) })
}

func (e *Exec) Apply(ctx context.Context) error {
	var opts []tfexec.ApplyOption
	if n := e.ws.Parallelism; n > 0 {
		opts = append(opts, tfexec.Parallelism(n))
	}
	return e.run("apply", func() error { return e.tf.Apply(ctx, opts...) })
}

func (e *Exec) Outputs(ctx context.Context) (Outputs, error) {
	var raw map[string]tfexec.OutputMeta
	if err := e.run("output", func() (err error) { raw, err = e.tf.Output(ctx); return err }); err != nil {
		return nil, err
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
	var opts []tfexec.DestroyOption
	if n := e.ws.Parallelism; n > 0 {
		opts = append(opts, tfexec.Parallelism(n))
	}
	if e.ws.pg != nil { // a killed run's orphaned tofu may still hold the state's lock
		opts = append(opts, tfexec.LockTimeout(PGLockTimeout.String()))
	}
	return e.run("destroy", func() error { return e.tf.Destroy(ctx, opts...) })
}

// RefreshPlan runs a refresh-only plan (what changed in the cloud since the
// state was written, nothing proposed) and returns it as JSON; the plan file
// is removed afterwards.
func (e *Exec) RefreshPlan(ctx context.Context) (*tfjson.Plan, error) {
	planFile := filepath.Join(e.ws.Dir, "refresh.tfplan")
	defer os.Remove(planFile)
	if err := e.run("plan -refresh-only", func() error {
		_, err := e.tf.Plan(ctx, tfexec.RefreshOnly(true), tfexec.Out(planFile))
		return err
	}); err != nil {
		return nil, err
	}
	var plan *tfjson.Plan
	if err := e.run("show", func() (err error) { plan, err = e.tf.ShowPlanFile(ctx, planFile); return err }); err != nil {
		return nil, err
	}
	return plan, nil
}

// RefreshState writes what the cloud reports now into the state, changing
// nothing in the cloud (apply -refresh-only): values that settle after
// create (a port's binding, a volume's attachments) are then the state's.
func (e *Exec) RefreshState(ctx context.Context) error {
	return e.run("apply -refresh-only", func() error { return e.tf.Apply(ctx, tfexec.RefreshOnly(true)) })
}
