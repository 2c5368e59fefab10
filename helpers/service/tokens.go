package service

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"os"
	"sync"
	"time"
)

// TokenFile holds the tokens of a file, one per line (blank lines and lines
// starting with # are skipped). The file is looked at again on each request
// and re-read when its size or modification time changed, so a token is
// rotated without a restart: add the new token as a second line, move the
// clients to it, then delete the old line. A file that becomes unreadable or
// holds no token keeps the tokens last read (and Err says why), so a botched
// edit does not open the service or lock everyone out.
type TokenFile struct {
	path string

	mu     sync.Mutex
	mod    time.Time
	size   int64
	hashes [][sha256.Size]byte
	err    error // the last re-read's failure; nil when the tokens are the file's
}

// OpenTokenFile reads path; an unreadable file or one without a token is an error.
func OpenTokenFile(path string) (*TokenFile, error) {
	f := &TokenFile{path: path}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read token: %w", err)
	}
	if err := f.load(fi); err != nil {
		return nil, err
	}
	return f, nil
}

// Match tells whether got is one of the file's tokens, compared in constant
// time (of the hashes: a token's length leaks nothing). Every token is
// compared, so the time does not tell which line matched.
func (f *TokenFile) Match(got string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fi, err := os.Stat(f.path); err != nil {
		f.err = fmt.Errorf("read token: %w (the tokens read before stay in use)", err)
	} else if !fi.ModTime().Equal(f.mod) || fi.Size() != f.size {
		if err := f.load(fi); err != nil {
			f.err = fmt.Errorf("%w (the tokens read before stay in use)", err)
		}
	}
	h := sha256.Sum256([]byte(got))
	ok := 0
	for _, want := range f.hashes {
		ok |= subtle.ConstantTimeCompare(h[:], want[:])
	}
	return ok == 1
}

// Err is why the last re-read failed; nil when the tokens in use are the file's.
func (f *TokenFile) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// load reads the file whose stat is fi; on failure nothing changes.
func (f *TokenFile) load(fi os.FileInfo) error {
	b, err := os.ReadFile(f.path)
	if err != nil {
		return fmt.Errorf("read token: %w", err)
	}
	var hashes [][sha256.Size]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		hashes = append(hashes, sha256.Sum256(line))
	}
	if len(hashes) == 0 {
		return fmt.Errorf("read token: %s holds no token (write one per line)", f.path)
	}
	f.hashes, f.mod, f.size, f.err = hashes, fi.ModTime(), fi.Size(), nil
	return nil
}
