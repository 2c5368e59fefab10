package scenario

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
)

// Definition registers a scenario by name: cpulse check <name>, the service
// and go test find it here.
type Definition struct {
	Name    string
	Summary string // one line for usage texts
	// New makes one run on cfg from the CLOUDPULSE_* variables (no cloud call;
	// bad values are reported at once, in one error that names the fix).
	New func(cfg *cloud.Config) (Scenario, error)
}

var (
	registryMu sync.Mutex
	registry   = map[string]Definition{}
)

// Register adds d; a second registration of a name panics (a programming error).
func Register(d Definition) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if d.Name == "" || d.New == nil {
		panic("scenario.Register: a definition needs a Name and New")
	}
	if _, dup := registry[d.Name]; dup {
		panic("scenario.Register: " + d.Name + " registered twice")
	}
	registry[d.Name] = d
}

// Lookup finds a registered scenario.
func Lookup(name string) (Definition, error) {
	registryMu.Lock()
	defer registryMu.Unlock()
	d, ok := registry[name]
	if !ok {
		names := make([]string, 0, len(registry))
		for n := range registry {
			names = append(names, n)
		}
		sort.Strings(names)
		return Definition{}, fmt.Errorf("no scenario %q: use one of %s", name, strings.Join(names, ", "))
	}
	return d, nil
}

// Names are the registered scenarios, functional first, then by name.
func Names() []string {
	registryMu.Lock()
	defer registryMu.Unlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == "functional":
			return -1
		case b == "functional":
			return 1
		}
		return strings.Compare(a, b)
	})
	return names
}

func init() {
	Register(Definition{
		Name:    "functional",
		Summary: "a tenant's small system: image, network, router, two VMs, floating IPs, a volume; ping, ssh, http",
		New: func(cfg *cloud.Config) (Scenario, error) {
			o, err := FromEnv()
			if err != nil {
				return nil, err
			}
			o.Cloud = cfg
			return NewFunctional(o)
		},
	})
}
