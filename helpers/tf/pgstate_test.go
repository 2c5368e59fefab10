package tf_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/service/store/pgtest"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

func TestSchemaName(t *testing.T) {
	assert.Equal(t, "cloudpulse_cp12021042_0a1b2c3d", tf.SchemaName("cp12021042-0a1b2c3d"))
	assert.Equal(t, "cloudpulse_a_b_c", tf.SchemaName(`A"b;c`))
}

func TestPGPassphraseIsDerivedPerRun(t *testing.T) {
	p := &tf.PGState{Secret: []byte("0123456789abcdef0123456789abcdef")}
	q := &tf.PGState{Secret: []byte("0123456789abcdef0123456789abcdef")}
	assert.Equal(t, p.Passphrase("cp12021042-0a1b2c3d"), q.Passphrase("cp12021042-0a1b2c3d"), "same secret, same run: same passphrase on every instance")
	assert.NotEqual(t, p.Passphrase("cp12021042-0a1b2c3d"), p.Passphrase("cp12021042-0a1b2c3e"))
	assert.Len(t, p.Passphrase("x"), 64)
}

// TestPGStateRebuiltElsewhereDestroysFromTheState: a run applies
// fixtures/selftest with its state in PostgreSQL; its workspace is then lost
// (the instance died on another host). A second PGState with the same secret
// rebuilds the workspace from the recorded fixture and variables and destroys
// from the state (the destroy-time provisioner removes the marker file); the
// run's schema is dropped after. A different secret can neither decrypt the
// variables nor so rebuild; a reopened workspace not attached says why.
func TestPGStateRebuiltElsewhereDestroysFromTheState(t *testing.T) {
	ctx := context.Background()
	srv, err := pgtest.Start(ctx)
	if errors.Is(err, pgtest.ErrNoPostgres) {
		t.Skip(err.Error())
	}
	require.NoError(t, err)
	t.Cleanup(func() { srv.Stop() })
	url, err := srv.NewDB(ctx)
	require.NoError(t, err)
	secret := []byte("0123456789abcdef0123456789abcdef")
	a := &tf.PGState{ConnStr: url, Secret: secret}
	t.Cleanup(func() { a.Close() })

	f := newFixture(t, nil)
	id := f.ws.RunID
	require.NoError(t, f.ws.UsePG(ctx, a, "fixtures/selftest"))
	r := f.exec(t)
	require.NoError(t, r.Init(ctx))
	require.NoError(t, r.Apply(ctx))
	require.FileExists(t, f.marker)
	ids, err := r.(*tf.Exec).StateIDs(ctx)
	require.NoError(t, err)
	assert.Len(t, ids, 1, "the marker's id, read from the state in PostgreSQL")
	local, _ := filepath.Glob(filepath.Join(f.ws.Dir, "*.tfstate*"))
	assert.Empty(t, local, "no local state")

	db, err := sql.Open("pgx", url)
	require.NoError(t, err)
	defer db.Close()
	var state string
	require.NoError(t, db.QueryRowContext(ctx, `SELECT data FROM `+tf.SchemaName(id)+`.states WHERE name = 'default'`).Scan(&state))
	assert.Contains(t, state, `"encrypted_data"`)
	assert.NotContains(t, state, f.marker, "the state in PostgreSQL is encrypted")

	reopened, err := tf.OpenWorkspace(f.ws.Root)
	require.NoError(t, err)
	_, err = tf.NewExec(reopened, f.tools, nil, nil)
	require.EqualError(t, err, "tofu in "+f.ws.Dir+": workspace "+f.ws.Root+" keeps its state in PostgreSQL (cloudpulse_backend_override.tf): clean it up from `cpulse serve` with its history on PostgreSQL and the same state_key_file")

	// the instance and its workspace are gone
	require.NoError(t, f.ws.Release())
	require.NoError(t, os.RemoveAll(f.ws.Root))

	wrong := &tf.PGState{ConnStr: url, Secret: []byte("another secret, another instance")}
	t.Cleanup(func() { wrong.Close() })
	_, _, err = tf.RebuildWorkspace(ctx, wrong, t.TempDir(), id)
	require.EqualError(t, err, "state in PostgreSQL: run "+id+": cannot decrypt its variables: another state key wrote them (every instance needs the same state_key_file)")

	b := &tf.PGState{ConnStr: url, Secret: secret}
	t.Cleanup(func() { b.Close() })
	ws, fixture, err := tf.RebuildWorkspace(ctx, b, t.TempDir(), id)
	require.NoError(t, err)
	assert.Equal(t, "fixtures/selftest", fixture)
	rb, err := tf.NewExec(ws, f.tools, nil, nil)
	require.NoError(t, err)
	require.NoError(t, rb.Init(ctx))
	require.NoError(t, rb.Destroy(ctx))
	assert.NoFileExists(t, f.marker, "destroyed from the state in PostgreSQL")
	require.NoError(t, ws.Remove())

	var schemas int
	require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1`, tf.SchemaName(id)).Scan(&schemas))
	assert.Zero(t, schemas, "the run's schema is dropped after its destroy")
	_, _, err = tf.RebuildWorkspace(ctx, b, t.TempDir(), id)
	require.ErrorIs(t, err, tf.ErrNoPGState)
	assert.True(t, strings.HasPrefix(err.Error(), "run "+id+": "), err.Error())
}
