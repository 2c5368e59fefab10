package scenario

import (
	"crypto/rand"
	"encoding/hex"
	"time"
)

// NewRunID is a short unique id for every name and tag of one run:
// "cp" + UTC time (MMDDhhmm) + 4 random hex digits, e.g. cp11231042-a1b2.
func NewRunID() string {
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	return "cp" + time.Now().UTC().Format("01021504") + "-" + hex.EncodeToString(b)
}

// RunTag is the tag (and metadata key=value) every resource of a run carries.
func RunTag(runID string) string { return "cloudpulse-run=" + runID }
