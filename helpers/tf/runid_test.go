package tf_test

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

func TestNewRunIDHasTheOneForm(t *testing.T) {
	id, err := tf.NewRunID("cp")
	require.NoError(t, err)
	assert.Regexp(t, regexp.MustCompile(`^cp[0-9]{8}-[0-9a-f]{8}$`), id)
	require.NoError(t, tf.ValidRunID(id))
	other, err := tf.NewRunID("cp")
	require.NoError(t, err)
	assert.NotEqual(t, id, other)

	id, err = tf.NewRunID("nightly")
	require.NoError(t, err)
	assert.Regexp(t, regexp.MustCompile(`^nightly[0-9]{8}-[0-9a-f]{8}$`), id)

	for _, bad := range []string{"", "Cp", "c-p", "cp1", "toolongprefix"} {
		_, err := tf.NewRunID(bad)
		assert.EqualError(t, err, `run id prefix "`+bad+`": use 1-8 lower-case letters (a-z)`)
	}
}

func TestValidRunIDRejectsChosenIDs(t *testing.T) {
	for _, ok := range []string{"cp12021042-0a1b2c3d", "nightly01010000-ffffffff"} {
		assert.NoError(t, tf.ValidRunID(ok), ok)
	}
	for _, bad := range []string{"web", "cp", "x1", "cp11231042-a1b2", "cp12021042-0a1b2c3dd", "cp12021042-0A1B2C3D",
		"toolongprefix12021042-0a1b2c3d", "cp12021042-0a1b2c3d-", "-cp12021042-0a1b2c3d", "cp-12021042-0a1b2c3d"} {
		assert.EqualError(t, tf.ValidRunID(bad), `run id "`+bad+`" is not of the generated form <prefix><MMDDhhmm>-<8 hex digits>, e.g. cp12021042-0a1b2c3d: leave the run id unset (CLOUDPULSE_RUN_ID) and choose only its prefix (CLOUDPULSE_RUN_PREFIX)`, bad)
	}
}
