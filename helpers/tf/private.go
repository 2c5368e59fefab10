package tf

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// StateKeyFile holds, in the workspace root (mode 0600), the passphrase that
// encrypts the workspace's state (OpenTofu state encryption, pbkdf2 key
// provider, AES-GCM). It stays with the state, so a later process — `cpulse
// cleanup` after a killed run, the upgrade's post stage — decrypts it with
// nothing but the directory; it protects a state file that was copied alone
// (an artifact upload, a backup), while the directory's 0700 keeps both from
// other users.
const StateKeyFile = "state.key"

// writeStateKey writes a fresh random passphrase to StateKeyFile.
func (w *Workspace) writeStateKey() error {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return fmt.Errorf("state key: %w", err)
	}
	key := hex.EncodeToString(b)
	if err := writePrivate(filepath.Join(w.Root, StateKeyFile), []byte(key+"\n")); err != nil {
		return fmt.Errorf("state key: %w", err)
	}
	w.Secrets().Add(key)
	return nil
}

// stateKey reads the passphrase; "" when the workspace has none (a workspace
// written before state encryption: its state is plain).
func (w *Workspace) stateKey() (string, error) {
	b, err := os.ReadFile(filepath.Join(w.Root, StateKeyFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("state key: %w", err)
	}
	key := strings.TrimSpace(string(b))
	if len(key) < 16 {
		return "", fmt.Errorf("state key %s: too short (%d characters), the state cannot be decrypted with it", filepath.Join(w.Root, StateKeyFile), len(key))
	}
	return key, nil
}

// Env is the environment tofu needs for this workspace: TF_ENCRYPTION, which
// encrypts the state (and reads it back) with the passphrase of StateKeyFile.
// Empty when the workspace has no key. Terraform ignores TF_ENCRYPTION: with
// it the state is written plain (and protected by the file modes alone).
//
// A workspace whose state is in PostgreSQL (AttachPG) also gets PG_CONN_STR
// and PG_SCHEMA_NAME for the pg backend.
func (w *Workspace) Env() (map[string]string, error) {
	env, err := w.pgEnv()
	if err != nil {
		return nil, err
	}
	if env == nil {
		env = map[string]string{}
	}
	key, err := w.stateKey()
	if err != nil || key == "" {
		return env, err
	}
	w.Secrets().Add(key)
	env["TF_ENCRYPTION"] = encryptionConfig(key)
	return env, nil
}

// encryptionConfig is OpenTofu's encryption block for passphrase key.
// enforced: tofu refuses to write the state unencrypted.
func encryptionConfig(key string) string {
	return `key_provider "pbkdf2" "cloudpulse" {
  passphrase = "` + key + `"
}
method "aes_gcm" "cloudpulse" {
  keys = key_provider.pbkdf2.cloudpulse
}
state {
  method   = method.aes_gcm.cloudpulse
  enforced = true
}
plan {
  method   = method.aes_gcm.cloudpulse
  enforced = true
}
`
}

// Protect removes group and other permissions from the workspace root and
// everything in it (symbolic links are left alone: their modes mean nothing).
// The runners call it after every tofu command.
func (w *Workspace) Protect() error {
	return filepath.WalkDir(w.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed while we walked
			}
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if mode := info.Mode().Perm(); mode&0o077 != 0 {
			if err := os.Chmod(p, mode&^0o077); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("protect %s: %w", p, err)
			}
		}
		return nil
	})
}

// writePrivate writes b to path with mode 0600, whatever the umask and
// whatever mode an existing file had.
func writePrivate(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
