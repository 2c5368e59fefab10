package operator

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/cloudpulse/cloudpulse/helpers/check"
)

// Listening returns one check per host and expected service,
// "listen/<host>/<service>", which connects over TCP (from this machine) to
// every port the service's roles list for that host and fails naming each
// port that does not accept the connection.
func Listening(m *ServiceMap) []check.Check {
	var checks []check.Check
	for _, h := range m.Hosts {
		ports := map[string][]int{} // service -> ports, merged over the host's roles
		for _, role := range h.Roles {
			for svc, ps := range m.Roles[role].Services {
				for _, p := range ps {
					if !slices.Contains(ports[svc], p) {
						ports[svc] = append(ports[svc], p)
					}
				}
			}
		}
		for _, svc := range slices.Sorted(maps.Keys(ports)) {
			checks = append(checks, ListeningService(h, svc, ports[svc]))
		}
	}
	return checks
}

// ListeningService checks that service accepts TCP connections on each of
// ports at host's address.
func ListeningService(h Host, service string, ports []int) check.Check {
	slices.Sort(ports)
	return check.Check{Name: "listen/" + h.Name + "/" + service, Run: func(ctx context.Context) error {
		errs := make([]error, len(ports))
		var wg sync.WaitGroup
		for i, port := range ports {
			wg.Go(func() {
				var d net.Dialer
				conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(h.Address, strconv.Itoa(port)))
				if err != nil {
					errs[i] = fmt.Errorf("port %d: %s", port, dialReason(err))
					return
				}
				conn.Close()
			})
		}
		wg.Wait()
		var failed []string
		for _, err := range errs {
			if err != nil {
				failed = append(failed, err.Error())
			}
		}
		if len(failed) > 0 {
			return fmt.Errorf("%s (%s): %s not listening: %s", h.Name, h.Address, service, strings.Join(failed, "; "))
		}
		return nil
	}}
}

// dialReason is the cause of a failed TCP connect without the repeated
// "dial tcp host:port" prefix.
func dialReason(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	return err.Error()
}
