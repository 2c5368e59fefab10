package scenario

import (
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// DefaultRunPrefix starts every run id unless the user chooses another prefix
// (CLOUDPULSE_RUN_PREFIX): the rest of the id is generated (tf.RunIDForm).
const DefaultRunPrefix = "cp"

// NewRunID is a fresh run id with the default prefix, e.g. cp12021042-0a1b2c3d:
// every name and tag of one run carries it.
func NewRunID() string {
	id, err := tf.NewRunID(DefaultRunPrefix)
	if err != nil {
		panic(err) // the default prefix is valid; only the system's random source can fail
	}
	return id
}

// RunTag is the tag (and metadata key=value) every resource of a run carries.
func RunTag(runID string) string { return "cloudpulse-run=" + runID }

// NamePrefix is how the name of every resource a run creates begins — for
// floating IPs, which have no name, their description: "cp-<run id>-". It is
// fixtures/functional's local.prefix ("cp-${var.run_id}") plus the dash that
// every module puts after it (-net, -subnet, -router, -sg, -key, -vm-1,
// -vm-1-port, -vm-1-fip, -vm-group, -vol-data, -image). Cleanup takes a
// resource that carries no tag for the run's only when its name starts with
// this, never when the name merely contains the run id.
func NamePrefix(runID string) string { return "cp-" + runID + "-" }

// ProjectName is the name of the project (and of its user) a run creates in
// operator mode: fixtures/functional's local.prefix.
func ProjectName(runID string) string { return "cp-" + runID }

var (
	anyRunName = regexp.MustCompile(`^cp-(` + tf.RunIDExpr + `)-`)
	anyRunTag  = regexp.MustCompile(`^cloudpulse-run=(` + tf.RunIDExpr + `)$`)
)

// Owns says whether a resource with these tags (metadata as "key=value") and
// this name (floating IPs: description) belongs to the run: it carries the
// run's tag, or its name starts with NamePrefix.
func Owns(runID string, tags []string, name string) bool {
	if tf.ValidRunID(runID) != nil {
		return false // an id of another form could be a word that anything contains
	}
	return slices.Contains(tags, RunTag(runID)) || strings.HasPrefix(name, NamePrefix(runID))
}

// RunOf is the run a resource belongs to by its tag or, without one, by its
// name's prefix — "" when it is not cloudpulse's.
func RunOf(tags []string, name string) string {
	for _, t := range tags {
		if m := anyRunTag.FindStringSubmatch(t); m != nil {
			return m[1]
		}
	}
	if m := anyRunName.FindStringSubmatch(name); m != nil {
		return m[1]
	}
	return ""
}

// RunStarted is when a run started by its id's MMDDhhmm (UTC), in the year that
// puts it at most a day after now (a clock a little ahead is no reason to call
// a run a year old); ok is false when the id is not of the generated form.
func RunStarted(runID string, now time.Time) (time.Time, bool) {
	if tf.ValidRunID(runID) != nil {
		return time.Time{}, false
	}
	i := strings.IndexAny(runID, "0123456789")
	now = now.UTC()
	t, err := time.Parse("2006-01021504", now.Format("2006")+"-"+runID[i:i+8])
	if err != nil {
		return time.Time{}, false
	}
	if t.After(now.Add(24 * time.Hour)) {
		t = t.AddDate(-1, 0, 0)
	}
	return t, true
}
