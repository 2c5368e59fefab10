package scenario

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOwnsOnlyTheRunsTagOrPrefix(t *testing.T) {
	id := "cp12021042-0a1b2c3d"
	tag := []string{"cloudpulse-run=" + id}
	for name, tc := range map[string]struct {
		tags []string
		name string
		want bool
	}{
		"tagged":                          {tag, "anything", true},
		"tagged, no name":                 {tag, "", true},
		"metadata as tag":                 {[]string{"other=1", "cloudpulse-run=" + id}, "", true},
		"server name":                     {nil, "cp-" + id + "-vm-1", true},
		"floating IP description":         {nil, "cp-" + id + "-vm-2-fip", true},
		"keypair":                         {nil, "cp-" + id + "-key", true},
		"contains the prefix":             {nil, "decoy-cp-" + id + "-vm-1", false},
		"contains the id":                 {nil, "web-" + id, false},
		"the id alone":                    {nil, id, false},
		"prefix of a longer id":           {nil, "cp-" + id + "0-vm-1", false},
		"project name without the dash":   {nil, "cp-" + id, false},
		"another run's tag":               {[]string{"cloudpulse-run=cp12021042-0a1b2c3e"}, "x", false},
		"tag containing the id":           {[]string{"cloudpulse-run=" + id + "x"}, "x", false},
		"tag key of another tool":         {[]string{"owner=" + id}, "x", false},
		"upper case":                      {nil, "CP-" + id + "-vm-1", false},
		"another run's name with this id": {nil, "cp-x" + id + "-vm-1", false},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, Owns(id, tc.tags, tc.name))
		})
	}
	// An id that is not of the generated form owns nothing, whatever the names.
	assert.False(t, Owns("web", []string{"cloudpulse-run=web"}, "cp-web-vm-1"))
	assert.False(t, Owns("", nil, "cp--vm-1"))
}

func TestRunOfFindsAnyRunOfTheGeneratedForm(t *testing.T) {
	id := "nightly12021042-0a1b2c3d"
	assert.Equal(t, id, RunOf([]string{"x=y", "cloudpulse-run=" + id}, "whatever"))
	assert.Equal(t, id, RunOf(nil, "cp-"+id+"-net"))
	assert.Equal(t, id, RunOf(nil, "cp-"+id+"-vm-1-fip"))
	for _, name := range []string{"decoy-cp-" + id + "-net", "cp-web-net", "cp-" + id, "cp-" + id + "x-net", "web", ""} {
		assert.Empty(t, RunOf(nil, name), name)
	}
	assert.Empty(t, RunOf([]string{"cloudpulse-run=web"}, "web"))
}

func TestRunStarted(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 30, 0, 0, time.UTC)
	got, ok := RunStarted("cp12021000-0a1b2c3d", now)
	require.True(t, ok)
	assert.Equal(t, time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC), got)
	got, ok = RunStarted("cp12021100-0a1b2c3d", now) // a clock a little ahead: not a year old
	require.True(t, ok)
	assert.Equal(t, time.Date(2026, 12, 2, 11, 0, 0, 0, time.UTC), got)
	got, ok = RunStarted("cp12312300-0a1b2c3d", time.Date(2027, 1, 1, 1, 0, 0, 0, time.UTC)) // over new year
	require.True(t, ok)
	assert.Equal(t, time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC), got)
	_, ok = RunStarted("web", now)
	assert.False(t, ok)
}

func TestNewRunIDIsValid(t *testing.T) {
	id := NewRunID()
	assert.Regexp(t, regexp.MustCompile(`^cp[0-9]{8}-[0-9a-f]{8}$`), id)
	assert.True(t, Owns(id, nil, NamePrefix(id)+"net"))
}

// The prefix cleanup trusts is the one the fixtures give: fixtures/functional and
// fixtures/comprehensive name everything "${local.prefix}-…" with
// local.prefix = "cp-${var.run_id}".
func TestNamePrefixIsTheFixtures(t *testing.T) {
	for _, fixture := range []string{"functional", "comprehensive"} {
		t.Run(fixture, func(t *testing.T) {
			main, err := os.ReadFile(filepath.Join("..", "..", "fixtures", fixture, "main.tf"))
			require.NoError(t, err)
			m := regexp.MustCompile(`(?m)^\s*prefix\s*=\s*"([^"]*)"`).FindSubmatch(main)
			require.NotNil(t, m, "local.prefix in fixtures/%s/main.tf", fixture)
			id := "cp12021042-0a1b2c3d"
			tfPrefix := regexp.MustCompile(`\$\{var\.run_id\}`).ReplaceAllString(string(m[1]), id)
			assert.Equal(t, ProjectName(id), tfPrefix)
			assert.Equal(t, NamePrefix(id), tfPrefix+"-")
			// every name in the fixture and the modules it calls starts with the prefix and a dash
			// (names = ["…"]: the instance module's explicit server names)
			names := regexp.MustCompile(`(?m)^\s*(name|name_prefix|names)\s*=\s*\[?\s*"\$\{local\.prefix\}(.?)`).FindAllSubmatch(main, -1)
			require.NotEmpty(t, names)
			for _, n := range names {
				assert.Equal(t, "-", string(n[2]), "a name in fixtures/%s/main.tf does not continue the prefix with a dash: %s", fixture, n[0])
			}
		})
	}
}
