package cleanup

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestDestroyedReadsTofusLastCount(t *testing.T) {
	assert.Equal(t, "7 resources destroyed", destroyed("Destroy complete! Resources: 2 destroyed.\n…\nDestroy complete! Resources: 7 destroyed.\n"))
	assert.Equal(t, "destroyed count unknown", destroyed("Error: state locked\n"))
}
