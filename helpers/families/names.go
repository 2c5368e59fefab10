package families

import (
	"slices"

	"github.com/cloudpulse/cloudpulse/helpers/scenario"
)

// Names are the families: the API and operator check sets, every registered
// scenario by name, and all of them.
func Names() []string {
	return append(append([]string{"endpoint", "operator"}, scenario.Names()...), "all")
}

// IsScenario reports whether family builds resources (a scenario or all):
// the service runs at most one of those per cloud at a time.
func IsScenario(family string) bool {
	return family == "all" || slices.Contains(scenario.Names(), family)
}
