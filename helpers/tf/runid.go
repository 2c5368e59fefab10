package tf

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"time"
)

// A run id has one form, the one NewRunID makes: a prefix of 1-8 lower-case
// letters chosen by the user ("cp" by default), the UTC start time MMDDhhmm,
// a dash and 8 random hex digits — e.g. cp12021042-0a1b2c3d. Cleanup finds a
// run's resources by the id (in tags and name prefixes), so an id must never
// be a word that other resources could carry: the random part is not chosen.
const RunIDForm = "<prefix><MMDDhhmm>-<8 hex digits>, e.g. cp12021042-0a1b2c3d"

// RunIDExpr is the run id's form as a regular expression, without anchors.
const RunIDExpr = `[a-z]{1,8}[0-9]{8}-[0-9a-f]{8}`

var (
	runIDPattern     = regexp.MustCompile(`^` + RunIDExpr + `$`)
	runPrefixPattern = regexp.MustCompile(`^[a-z]{1,8}$`)
)

// NewRunID makes a run id: prefix + UTC time (MMDDhhmm) + "-" + 8 random hex digits.
func NewRunID(prefix string) (string, error) {
	if !runPrefixPattern.MatchString(prefix) {
		return "", fmt.Errorf("run id prefix %q: use 1-8 lower-case letters (a-z)", prefix)
	}
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("run id: %w", err)
	}
	return prefix + time.Now().UTC().Format("01021504") + "-" + hex.EncodeToString(b), nil
}

// ValidRunID accepts only ids of the form NewRunID makes.
func ValidRunID(id string) error {
	if !runIDPattern.MatchString(id) {
		return fmt.Errorf("run id %q is not of the generated form %s: leave the run id unset (CLOUDPULSE_RUN_ID) and choose only its prefix (CLOUDPULSE_RUN_PREFIX)", id, RunIDForm)
	}
	return nil
}
