package tf

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"
)

// PGState keeps the state of runs in PostgreSQL (OpenTofu's pg backend), so
// that another process with the same database and secret — a second `cpulse
// serve` taking over a dead one's runs — can destroy a run from its state:
//
//   - each run has a schema of its own (SchemaName: cloudpulse_<run id>),
//     which holds the pg backend's table "states" and a table "cloudpulse_run"
//     with the run's fixture and its variables (AES-GCM encrypted: a generated
//     tenant password may be among them);
//   - the state is encrypted like a local one (TF_ENCRYPTION), with a
//     passphrase derived from the shared secret and the run id
//     (HMAC-SHA256), so no passphrase is stored anywhere;
//   - after a successful destroy the run's schema is dropped (Workspace.Remove).
type PGState struct {
	ConnStr string // postgres:// URL, given to tofu as PG_CONN_STR
	Secret  []byte // shared by every instance (the service's state_key_file)

	once sync.Once
	db   *sql.DB
	err  error
}

// PGOverrideFile is written into the fixture of a workspace whose state is in
// PostgreSQL: an override file, so the fixture itself stays backend-free.
const PGOverrideFile = "cloudpulse_backend_override.tf"

// pgOverride configures the pg backend; conn_str and schema_name come from
// PG_CONN_STR and PG_SCHEMA_NAME (Workspace.Env), never from the file.
const pgOverride = "# Written by cloudpulse: the state is in PostgreSQL (PG_CONN_STR, PG_SCHEMA_NAME).\nterraform {\n  backend \"pg\" {}\n}\n"

// SchemaName is the PostgreSQL schema that holds run runID's state.
func SchemaName(runID string) string {
	var b strings.Builder
	b.WriteString("cloudpulse_")
	for _, r := range strings.ToLower(runID) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// derive is HMAC-SHA256(secret, purpose/runID).
func (p *PGState) derive(purpose, runID string) []byte {
	m := hmac.New(sha256.New, p.Secret)
	m.Write([]byte(purpose + "/" + runID))
	return m.Sum(nil)
}

// Passphrase is run runID's state passphrase.
func (p *PGState) Passphrase(runID string) string {
	return hex.EncodeToString(p.derive("state", runID))
}

func (p *PGState) open() (*sql.DB, error) {
	p.once.Do(func() {
		if len(p.Secret) < 16 {
			p.err = fmt.Errorf("state in PostgreSQL: the shared secret is too short (%d bytes, want 16 or more)", len(p.Secret))
			return
		}
		p.db, p.err = sql.Open("pgx", p.ConnStr)
	})
	return p.db, p.err
}

// Close closes the connections PGState opened.
func (p *PGState) Close() error {
	if p.db != nil {
		return p.db.Close()
	}
	return nil
}

// quoteIdent quotes a schema name made by SchemaName.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// savedRun is the row of cloudpulse_run.
type savedRun struct {
	Fixture string
	Vars    map[string]any
}

// save creates the run's schema and records its fixture and variables.
func (p *PGState) save(ctx context.Context, runID, fixture string, vars map[string]any) error {
	db, err := p.open()
	if err != nil {
		return err
	}
	plain, err := json.Marshal(vars)
	if err != nil {
		return fmt.Errorf("encode variables: %w", err)
	}
	sealed, err := p.seal(runID, plain)
	if err != nil {
		return err
	}
	schema := quoteIdent(SchemaName(runID))
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("state in PostgreSQL: %w", err)
	}
	defer tx.Rollback()
	for _, q := range []string{
		// the pg backend's shared sequence, made here once under a lock:
		// two tofu processes creating it at once race.
		`SELECT pg_advisory_xact_lock(7146001)`,
		`CREATE SEQUENCE IF NOT EXISTS public.global_states_id_seq AS bigint`,
		`CREATE SCHEMA IF NOT EXISTS ` + schema,
		`CREATE TABLE IF NOT EXISTS ` + schema + `.cloudpulse_run (run_id text PRIMARY KEY, fixture text NOT NULL, vars bytea NOT NULL)`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("state in PostgreSQL: %s: %w", strings.Fields(q)[0], err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+schema+`.cloudpulse_run (run_id, fixture, vars) VALUES ($1, $2, $3)
		ON CONFLICT (run_id) DO UPDATE SET fixture = EXCLUDED.fixture, vars = EXCLUDED.vars`, runID, fixture, sealed); err != nil {
		return fmt.Errorf("state in PostgreSQL: record run %s: %w", runID, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("state in PostgreSQL: %w", err)
	}
	return nil
}

// ErrNoPGState: the database holds no state of the run (it never got so far,
// or its destroy finished).
var ErrNoPGState = errors.New("no state in PostgreSQL")

// load reads the run's fixture and variables back.
func (p *PGState) load(ctx context.Context, runID string) (savedRun, error) {
	db, err := p.open()
	if err != nil {
		return savedRun{}, err
	}
	var exists bool
	if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'cloudpulse_run')`, SchemaName(runID)).Scan(&exists); err != nil {
		return savedRun{}, fmt.Errorf("state in PostgreSQL: %w", err)
	}
	if !exists {
		return savedRun{}, fmt.Errorf("run %s: %w", runID, ErrNoPGState)
	}
	var s savedRun
	var sealed []byte
	err = db.QueryRowContext(ctx, `SELECT fixture, vars FROM `+quoteIdent(SchemaName(runID))+`.cloudpulse_run WHERE run_id = $1`, runID).Scan(&s.Fixture, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return savedRun{}, fmt.Errorf("run %s: %w", runID, ErrNoPGState)
	}
	if err != nil {
		return savedRun{}, fmt.Errorf("state in PostgreSQL: run %s: %w", runID, err)
	}
	plain, err := p.unseal(runID, sealed)
	if err != nil {
		return savedRun{}, err
	}
	if err := json.Unmarshal(plain, &s.Vars); err != nil {
		return savedRun{}, fmt.Errorf("state in PostgreSQL: run %s: variables: %w", runID, err)
	}
	return s, nil
}

// Drop removes run runID's schema: its state and its recorded variables.
func (p *PGState) Drop(ctx context.Context, runID string) error {
	db, err := p.open()
	if err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `DROP SCHEMA IF EXISTS `+quoteIdent(SchemaName(runID))+` CASCADE`); err != nil {
		return fmt.Errorf("state in PostgreSQL: drop %s: %w", SchemaName(runID), err)
	}
	return nil
}

// seal encrypts b with the run's variables key (AES-256-GCM, nonce first).
func (p *PGState) seal(runID string, b []byte) ([]byte, error) {
	g, err := p.gcm(runID)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, g.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return g.Seal(nonce, nonce, b, []byte(runID)), nil
}

// unseal decrypts what seal made.
func (p *PGState) unseal(runID string, b []byte) ([]byte, error) {
	g, err := p.gcm(runID)
	if err != nil {
		return nil, err
	}
	if len(b) < g.NonceSize() {
		return nil, fmt.Errorf("state in PostgreSQL: run %s: variables too short to decrypt", runID)
	}
	plain, err := g.Open(nil, b[:g.NonceSize()], b[g.NonceSize():], []byte(runID))
	if err != nil {
		return nil, fmt.Errorf("state in PostgreSQL: run %s: cannot decrypt its variables: another state key wrote them (every instance needs the same state_key_file)", runID)
	}
	return plain, nil
}

func (p *PGState) gcm(runID string) (cipher.AEAD, error) {
	block, err := aes.NewCipher(p.derive("vars", runID))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// UsePG moves the workspace's state to PostgreSQL: it records the run's
// fixture (relative to the repository, e.g. "fixtures/functional") and
// variables in the run's schema, writes the backend override and replaces the
// local passphrase with the derived one. Call it after NewWorkspace, before
// the first tofu command.
func (w *Workspace) UsePG(ctx context.Context, p *PGState, fixture string) error {
	vars, err := w.Vars()
	if err != nil {
		return err
	}
	if err := p.save(ctx, w.RunID, fixture, vars); err != nil {
		return err
	}
	return w.AttachPG(p)
}

// AttachPG tells a workspace whose state is in PostgreSQL (a reopened or
// rebuilt one) where it is; the override file and the derived passphrase are
// (re)written.
func (w *Workspace) AttachPG(p *PGState) error {
	if _, err := p.open(); err != nil {
		return err
	}
	if err := writePrivate(filepath.Join(w.Dir, PGOverrideFile), []byte(pgOverride)); err != nil {
		return fmt.Errorf("backend override: %w", err)
	}
	key := p.Passphrase(w.RunID)
	if err := writePrivate(filepath.Join(w.Root, StateKeyFile), []byte(key+"\n")); err != nil {
		return fmt.Errorf("state key: %w", err)
	}
	w.Secrets().Add(key)
	if u, err := url.Parse(p.ConnStr); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok {
			w.Secrets().Add(pw)
		}
	}
	w.pg = p
	return nil
}

// InPG reports whether the workspace keeps its state in PostgreSQL (it has
// the backend override), and whether it knows where (AttachPG).
func (w *Workspace) InPG() (inPG, attached bool) {
	_, err := os.Stat(filepath.Join(w.Dir, PGOverrideFile))
	return err == nil, w.pg != nil
}

// pgEnv is the pg backend's environment for the workspace.
func (w *Workspace) pgEnv() (map[string]string, error) {
	inPG, attached := w.InPG()
	switch {
	case !inPG:
		return nil, nil
	case !attached:
		return nil, fmt.Errorf("workspace %s keeps its state in PostgreSQL (%s): clean it up from `cpulse serve` with its history on PostgreSQL and the same state_key_file", w.Root, PGOverrideFile)
	}
	return map[string]string{"PG_CONN_STR": w.pg.ConnStr, "PG_SCHEMA_NAME": SchemaName(w.RunID)}, nil
}

// RebuildWorkspace makes, in stateRoot, the workspace of run runID from the
// fixture and variables recorded in PostgreSQL (the fixture from the checkout
// or the binary), attached to the run's state there: a process that never
// had the run's workspace can then destroy it with tofu. ErrNoPGState when
// the run recorded nothing.
func RebuildWorkspace(ctx context.Context, p *PGState, stateRoot, runID string) (*Workspace, string, error) {
	s, err := p.load(ctx, runID)
	if err != nil {
		return nil, "", err
	}
	ws, err := NewWorkspace(WorkspaceOptions{Fixture: s.Fixture, RunID: runID, Vars: s.Vars, StateRoot: stateRoot})
	if err != nil {
		return nil, "", err
	}
	if err := ws.AttachPG(p); err != nil {
		_ = ws.Remove()
		return nil, "", err
	}
	return ws, s.Fixture, nil
}

// PGLockTimeout is how long destroy waits for the lock of a state in
// PostgreSQL (a killed instance's tofu may finish its apply first).
var PGLockTimeout = 5 * time.Minute
