package tf

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
)

// Runner runs OpenTofu commands in one workspace.
type Runner interface {
	Init(ctx context.Context) error
	Apply(ctx context.Context) error
	Outputs(ctx context.Context) (Outputs, error)
	Destroy(ctx context.Context) error
	Workspace() *Workspace
}

// Outputs are a fixture's outputs, JSON-decoded (numbers as float64, lists as []any).
type Outputs map[string]any

// String returns a string output, or an error naming the output.
func (o Outputs) String(key string) (string, error) {
	v, ok := o[key]
	if !ok {
		return "", fmt.Errorf("output %q is missing", key)
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("output %q is %T, not a string", key, v)
	}
	return s, nil
}

// Decode converts one output into v (a struct, slice or map) through JSON.
func (o Outputs) Decode(key string, v any) error {
	raw, ok := o[key]
	if !ok {
		return fmt.Errorf("output %q is missing", key)
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return fmt.Errorf("output %q: %w", key, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("output %q: %w", key, err)
	}
	return nil
}

// environ is the caller's environment with extra on top, as a map.
func environ(extra ...map[string]string) map[string]string {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		for i := 0; i < len(kv); i++ {
			if kv[i] == '=' {
				env[kv[:i]] = kv[i+1:]
				break
			}
		}
	}
	for _, m := range extra {
		for k, v := range m {
			env[k] = v
		}
	}
	return env
}
