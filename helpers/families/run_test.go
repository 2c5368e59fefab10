package families_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/families"
)

// Bad input is refused by Prepare, before any connection: the cloud here does not exist.
func TestPrepareRefusesBadInputBeforeRunning(t *testing.T) {
	cfg := &cloud.Config{Name: "nowhere"}
	t.Setenv("CLOUDPULSE_SERVICE_MAP", "")
	for name, tc := range map[string]struct {
		req  families.Request
		want string
	}{
		"family":      {families.Request{Cloud: cfg, Family: "everything"}, `check what? want one of endpoint, operator, functional, comprehensive, all, got "everything"`},
		"no cloud":    {families.Request{Family: "endpoint"}, "no cloud to check"},
		"service map": {families.Request{Cloud: cfg, Family: "operator"}, "operator checks need a service map: --service-map FILE or CLOUDPULSE_SERVICE_MAP (example: fixtures/service-map/lab.yaml)"},
		"bad map":     {families.Request{Cloud: cfg, Family: "all", ServiceMap: "/nonexistent/map.yaml"}, "/nonexistent/map.yaml"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := families.Run(t.Context(), tc.req)
			require.Error(t, err)
			assert.True(t, families.IsInput(err), "%v", err)
			assert.Contains(t, err.Error(), tc.want)
			if name != "bad map" {
				assert.Equal(t, tc.want, err.Error())
			}
		})
	}
}

func TestPrepareScenarioOptions(t *testing.T) {
	t.Setenv("CLOUDPULSE_CREATE_PROJECT", "maybe")
	_, err := families.Prepare(families.Request{Cloud: &cloud.Config{Name: "x"}, Family: "functional"})
	require.Error(t, err)
	assert.True(t, families.IsInput(err))
	assert.Equal(t, `CLOUDPULSE_CREATE_PROJECT="maybe": use 1 or 0`, err.Error())
}

func TestIsScenario(t *testing.T) {
	for f, want := range map[string]bool{"endpoint": false, "operator": false, "functional": true, "comprehensive": true, "all": true} {
		assert.Equal(t, want, families.IsScenario(f), f)
	}
}
