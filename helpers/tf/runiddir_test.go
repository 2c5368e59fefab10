package tf

import "testing"

func TestRunIDFromDir(t *testing.T) {
	for dir, want := range map[string]string{
		"/s/functional-cp12021042-0a1b2c3d":         "cp12021042-0a1b2c3d",
		"/s/upgrade-existing-cpup12021713-0a1b2c3d": "cpup12021713-0a1b2c3d",
		"/s/comprehensive-cp12021042-0a1b2c3d":      "cp12021042-0a1b2c3d",
		"/s/selftest-notarunid":                     "notarunid",
	} {
		if got := runIDFromDir(dir); got != want {
			t.Errorf("runIDFromDir(%q) = %q, want %q", dir, got, want)
		}
	}
}
