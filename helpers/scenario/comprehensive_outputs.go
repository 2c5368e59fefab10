package scenario

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"github.com/cloudpulse/cloudpulse/helpers/probe"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// compServer is one server of the fixture's servers output.
type compServer struct {
	Name               string `json:"name"`
	ID                 string `json:"id"`
	PortID             string `json:"port_id"`
	FixedIP            string `json:"fixed_ip"`
	FloatingIP         string `json:"floating_ip"`
	Role               string `json:"role"` // host or target
	RequestedHost      string `json:"requested_host"`
	AvailabilityZone   string `json:"availability_zone"`
	HypervisorHostname string `json:"hypervisor_hostname"`

	label string     // compute-1 when pinned, vm-N otherwise; target
	host  probe.Host // ssh to its floating IP
}

// layout is what the comprehensive validations need from the fixture's outputs.
type layout struct {
	runID          string
	networkMTU     int
	gateway        string // the tenant subnet's gateway (the router)
	externalTarget string // what "outside" means: external_probe_address, else external_gateway_ip
	hosts          []*compServer
	target         *compServer
	hostKeys       *probe.HostKeys
}

// readLayout decodes the fixture's outputs and labels the servers: a host VM
// by the compute host it was pinned to (compute-1), else vm-N in order; the
// target is "target".
func readLayout(out tf.Outputs) (*layout, error) {
	l := &layout{}
	var err error
	for key, dst := range map[string]*string{"run_id": &l.runID, "gateway_ip": &l.gateway} {
		if *dst, err = out.String(key); err != nil {
			return nil, err
		}
	}
	if err := out.Decode("network_mtu", &l.networkMTU); err != nil {
		return nil, err
	}
	var probeAddr, extGW string
	if err := out.Decode("external_probe_address", &probeAddr); err != nil {
		return nil, err
	}
	if err := out.Decode("external_gateway_ip", &extGW); err != nil {
		return nil, err
	}
	l.externalTarget = probeAddr
	if l.externalTarget == "" {
		l.externalTarget = extGW
	}
	var servers []*compServer
	if err := out.Decode("servers", &servers); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, s := range servers {
		if s.FloatingIP == "" || s.FixedIP == "" || s.ID == "" {
			return nil, fmt.Errorf("fixture outputs: server %q needs an id, a fixed and a floating IP: %+v", s.Name, *s)
		}
		switch s.Role {
		case "target":
			if l.target != nil {
				return nil, fmt.Errorf("fixture outputs: two target servers, %s and %s", l.target.Name, s.Name)
			}
			s.label = "target"
			l.target = s
		case "host":
			s.label = s.RequestedHost
			if s.label == "" {
				s.label = "vm-" + strconv.Itoa(len(l.hosts)+1)
			}
			if seen[s.label] {
				return nil, fmt.Errorf("fixture outputs: two host VMs labelled %s", s.label)
			}
			seen[s.label] = true
			l.hosts = append(l.hosts, s)
		default:
			return nil, fmt.Errorf("fixture outputs: server %s has role %q, want host or target", s.Name, s.Role)
		}
	}
	if len(l.hosts) == 0 || l.target == nil {
		return nil, fmt.Errorf("fixture outputs: want host VMs and one target, got %d host VMs and target %v", len(l.hosts), l.target != nil)
	}
	return l, nil
}

func (l *layout) all() []*compServer { return append(append([]*compServer(nil), l.hosts...), l.target) }

// pairs are the east-west pairs of n VMs (indexes): around the ring (each VM
// to the next, the last to the first), or every ordered pair with mesh.
func pairs(n int, mesh bool) [][2]int {
	var out [][2]int
	if n < 2 {
		return nil
	}
	if mesh {
		for a := range n {
			for b := range n {
				if a != b {
					out = append(out, [2]int{a, b})
				}
			}
		}
		return out
	}
	if n == 2 {
		return [][2]int{{0, 1}, {1, 0}}
	}
	for a := range n {
		out = append(out, [2]int{a, (a + 1) % n})
	}
	return out
}

// outcome is a check's result that later checks wait for or look at: an ssh
// login (and the hostname it read), a positive control.
type outcome struct {
	name string
	once sync.Once
	done chan struct{}
	val  string
	err  error
}

func newOutcome(name string) *outcome { return &outcome{name: name, done: make(chan struct{})} }

func (o *outcome) set(val string, err error) {
	o.once.Do(func() {
		o.val, o.err = val, err
		close(o.done)
	})
}

// wait returns the outcome once it is known, or ctx's error.
func (o *outcome) wait(ctx context.Context) (string, error, bool) {
	select {
	case <-o.done:
		return o.val, o.err, true
	case <-ctx.Done():
		return "", ctx.Err(), false
	}
}

// failed says, without waiting, whether the check ended without passing.
func (o *outcome) failed() (error, bool) {
	select {
	case <-o.done:
		return o.err, o.err != nil
	default:
		return nil, false
	}
}

// passed returns the value of an outcome that ended without error.
func (o *outcome) passed() (string, bool) {
	select {
	case <-o.done:
		return o.val, o.err == nil
	default:
		return "", false
	}
}

// recorded runs fn and keeps its result in o.
func recorded(o *outcome, fn func(ctx context.Context) (string, error)) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		v, err := fn(ctx)
		o.set(v, err)
		return err
	}
}
