package tf_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

func TestSecretsRedact(t *testing.T) {
	s := tf.NewSecrets("hunter2", "", "hunter2-long")
	assert.Equal(t, "a [REDACTED] b [REDACTED] c", s.Redact("a hunter2 b hunter2-long c"),
		"the longer secret is replaced whole, not as [REDACTED]-long")
	assert.Equal(t, []string{"hunter2-long", "hunter2"}, s.Values())
	var none *tf.Secrets
	assert.Equal(t, "hunter2", none.Redact("hunter2"), "nil knows no secret")
}

func TestSecretsError(t *testing.T) {
	s := tf.NewSecrets("s3cr3t-pw")
	base := errors.New("keystone said: bad password s3cr3t-pw")
	err := s.Error(base)
	assert.EqualError(t, err, "keystone said: bad password [REDACTED]")
	assert.ErrorIs(t, err, base, "errors.Is still sees the original")
	plain := errors.New("no secret here")
	assert.Same(t, plain, s.Error(plain))
	assert.NoError(t, s.Error(nil))
}

// A secret split over several writes (tofu's output arrives in chunks) is
// still redacted; text that only looked like the start of one is not lost.
func TestRedactingWriterAcrossWrites(t *testing.T) {
	const secret = "Cp!0123456789abcdef"
	text := "line 1 " + secret + "\nalmost Cp!0123 but not\nend " + secret
	for _, chunk := range []int{1, 2, 3, 5, 7, len(text)} {
		var out bytes.Buffer
		w := tf.NewSecrets(secret).Writer(&out)
		for i := 0; i < len(text); i += chunk {
			n, err := w.Write([]byte(text[i:min(i+chunk, len(text))]))
			require.NoError(t, err)
			assert.Equal(t, min(chunk, len(text)-i), n)
			assert.NotContains(t, out.String(), secret)
		}
		require.NoError(t, w.Flush())
		assert.Equal(t, "line 1 [REDACTED]\nalmost Cp!0123 but not\nend [REDACTED]", out.String(), "chunks of %d", chunk)
	}
}

func TestRedactingWriterFlushesAHeldBackTail(t *testing.T) {
	var out bytes.Buffer
	w := tf.NewSecrets("password123").Writer(&out)
	_, err := io.WriteString(w, "the end: pass")
	require.NoError(t, err)
	assert.Equal(t, "the end: ", out.String(), "\"pass\" may begin the secret: held back")
	require.NoError(t, w.Flush())
	assert.Equal(t, "the end: pass", out.String())
}

func TestSecretsFromEnv(t *testing.T) {
	t.Setenv("OS_PASSWORD", "short")                 // a known secret variable: any length
	t.Setenv("OS_APPLICATION_CREDENTIAL_SECRET", "") // empty: nothing to hide
	t.Setenv("CLOUDPULSE_TEST_TOKEN", "1")           // guessed by name, too short to be one
	t.Setenv("CLOUDPULSE_TEST_DB_PASSWORD", "a-long-db-password")
	t.Setenv("CLOUDPULSE_TEST_PLAIN", "not-a-secret-value")
	s := tf.SecretsFromEnv(map[string]string{"OS_TOKEN": "gAAAAtoken", "TF_VAR_tenant_password": "Cp!tenant-pw"})
	got := s.Values()
	for _, want := range []string{"short", "a-long-db-password", "gAAAAtoken", "Cp!tenant-pw"} {
		assert.Contains(t, got, want)
	}
	for _, no := range []string{"", "1", "not-a-secret-value"} {
		assert.NotContains(t, got, no)
	}
}

func TestIsSecretName(t *testing.T) {
	for name, want := range map[string]bool{
		"OS_PASSWORD": true, "OS_TOKEN": true, "OS_APPLICATION_CREDENTIAL_SECRET": true, "TF_ENCRYPTION": true,
		"tenant_password": true, "RABBIT_MON_PASSWD": true, "MYSQL_MON_PASS": true, "GITHUB_TOKEN": true,
		"OS_USERNAME": false, "OS_CLOUD": false, "run_id": false, "ssh_public_key": false,
	} {
		assert.Equal(t, want, tf.IsSecretName(name), name)
	}
}

// The runners with the real tofu: a fixture that prints OS_PASSWORD from a
// local-exec, outputs the tenant password (which `tofu output -json` prints
// in clear) and fails with an error quoting it. Neither the log nor the
// errors may hold either; Go still gets the output's value.
func TestRunnersRedactSecrets(t *testing.T) {
	tools, err := tf.FindTools()
	require.NoError(t, err)
	const osPassword, tenantPassword = "os-Pw-9f8e7d6c5b", "Cp!tenant-1a2b3c4d5e"
	t.Setenv("OS_PASSWORD", osPassword)

	newWS := func(t *testing.T, failApply bool) *tf.Workspace {
		ws, err := tf.NewWorkspace(tf.WorkspaceOptions{Fixture: "helpers/tf/testdata/redact", RunID: "redact12021042-0a1b2c3d",
			StateRoot: t.TempDir(), Vars: map[string]any{"run_id": "redact12021042-0a1b2c3d", "tenant_password": tenantPassword, "fail_apply": failApply}})
		require.NoError(t, err)
		return ws
	}
	check := func(t *testing.T, log string, errs ...error) {
		t.Helper()
		all := log
		for _, err := range errs {
			if err != nil {
				all += "\n" + err.Error()
			}
		}
		assert.NotContains(t, all, osPassword)
		assert.NotContains(t, all, tenantPassword)
	}

	t.Run("exec", func(t *testing.T) {
		for _, fail := range []bool{false, true} {
			var log bytes.Buffer
			ws := newWS(t, fail)
			r, err := tf.NewExec(ws, tools, nil, &log)
			require.NoError(t, err)
			var out tf.Outputs
			err = tf.Lifecycle(context.Background(), r, tf.LifecycleOptions{}, func(_ context.Context, o tf.Outputs) error {
				out = o
				return nil
			})
			check(t, log.String(), err)
			assert.Contains(t, log.String(), "env says [REDACTED]", "the local-exec printed OS_PASSWORD, redacted")
			if fail {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "bad password [REDACTED]")
				continue
			}
			require.NoError(t, err)
			assert.Contains(t, log.String(), `"value": "[REDACTED]"`, "tofu output -json, redacted")
			pw, err := out.String("password")
			require.NoError(t, err)
			assert.Equal(t, tenantPassword, pw, "Go gets the value itself")
		}
	})

	t.Run("terratest", func(t *testing.T) {
		// terratest's logger writes to os.Stdout: capture it.
		stdout := os.Stdout
		rd, wr, err := os.Pipe()
		require.NoError(t, err)
		os.Stdout = wr
		captured := make(chan string)
		go func() { b, _ := io.ReadAll(rd); captured <- string(b) }()
		var errs []error
		for _, fail := range []bool{false, true} {
			ws := newWS(t, fail)
			errs = append(errs, tf.Lifecycle(context.Background(), tf.NewTerratest(t, ws, tools, nil), tf.LifecycleOptions{},
				func(context.Context, tf.Outputs) error { return nil }))
		}
		os.Stdout = stdout
		wr.Close()
		log := <-captured
		check(t, log, errs...)
		assert.Contains(t, log, "env says [REDACTED]")
		assert.Contains(t, log, `"value": "[REDACTED]"`)
		assert.Contains(t, log, "Returning due to fatal error", "terratest's own retry message (logger.Default) is redacted too")
		assert.NoError(t, errs[0])
		require.Error(t, errs[1])
		assert.Contains(t, errs[1].Error(), "bad password [REDACTED]")
	})
}

// A workspace is private: root 0700, every file and directory in it without
// group or other permissions, after tofu ran in it too; its state is
// encrypted with the key of state.key, and it is gone after a destroy.
func TestWorkspaceIsPrivate(t *testing.T) {
	tools, err := tf.FindTools()
	require.NoError(t, err)
	old := syscallUmask(0o022) // the usual umask: files 0644, directories 0755
	defer syscallUmask(old)
	stateRoot := filepath.Join(t.TempDir(), "runs")
	ws, err := tf.NewWorkspace(tf.WorkspaceOptions{Fixture: "helpers/tf/testdata/redact", RunID: "private12021042-0a1b2c3d",
		StateRoot: stateRoot, Vars: map[string]any{"run_id": "private12021042-0a1b2c3d", "tenant_password": "Cp!private-pw-0001"}})
	require.NoError(t, err)
	assertPrivate(t, stateRoot)
	r, err := tf.NewExec(ws, tools, nil, nil)
	require.NoError(t, err)
	require.NoError(t, r.Init(context.Background()))
	assertPrivate(t, stateRoot) // OpenTofu makes .terraform.lock.hcl 0644 itself: Protect after the command
	require.NoError(t, r.Apply(context.Background()))
	assertPrivate(t, stateRoot)

	state, err := os.ReadFile(filepath.Join(ws.Dir, "terraform.tfstate"))
	require.NoError(t, err)
	if tools.Product == tf.OpenTofu {
		assert.NotContains(t, string(state), "Cp!private-pw-0001", "the state is encrypted")
		assert.Contains(t, string(state), `"encrypted_data"`)
	} else { // Terraform has no state encryption: the file modes alone protect it
		t.Logf("%s %s: state not encrypted (OpenTofu only); protected by its 0600 mode in a 0700 directory", tools.Product, tools.Version)
	}

	// A later process (cpulse cleanup) opens it with nothing but the directory.
	opened, err := tf.OpenWorkspace(ws.Root)
	require.NoError(t, err)
	assert.Contains(t, opened.Secrets().Values(), "Cp!private-pw-0001", "secret variables are known again")
	r2, err := tf.NewExec(opened, tools, nil, nil)
	require.NoError(t, err)
	out, err := r2.Outputs(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "Cp!private-pw-0001", out["password"], "the state decrypts with state.key")
	require.NoError(t, r2.Destroy(context.Background()))
	require.NoError(t, opened.Remove())
	assert.NoDirExists(t, ws.Root)
}

// assertPrivate fails for the state root or anything in it that group or
// others may read, write or enter.
func assertPrivate(t *testing.T, root string) {
	t.Helper()
	n := 0
	require.NoError(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		if d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		info, err := d.Info()
		require.NoError(t, err)
		if info.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s is %v: open to group or others", strings.TrimPrefix(p, root), info.Mode().Perm())
		}
		n++
		return nil
	}))
	assert.Greater(t, n, 5, "walked the workspace")
}
