package scenario

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/volumeattach"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/probe"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// environment is what the validations need from the fixture's outputs.
type environment struct {
	ids, names, floating, fixed []string
	volumeID, volumeServer      string
	user                        string
	hosts                       []probe.Host
	hostnames                   []string // filled by the ssh validation
	hostKeys                    *probe.HostKeys
}

// environment reads the fixture's outputs. The ssh probes accept only the host key each server printed on its
// console (read through c), or trust it on first use when it printed none; logf says which, once per server.
func (f *Functional) environment(out tf.Outputs, c *cloud.Cloud, logf func(string, ...any)) (*environment, error) {
	e := &environment{user: f.o.SSHUser}
	for key, dst := range map[string]*[]string{"server_ids": &e.ids, "server_names": &e.names, "floating_ips": &e.floating, "fixed_ips": &e.fixed} {
		if err := out.Decode(key, dst); err != nil {
			return nil, err
		}
	}
	if len(e.ids) < 2 || len(e.floating) != len(e.ids) || len(e.fixed) != len(e.ids) || len(e.names) != len(e.ids) {
		return nil, fmt.Errorf("fixture outputs: want 2 servers with a name, a floating and a fixed IP each, got ids=%v names=%v floating=%v fixed=%v", e.ids, e.names, e.floating, e.fixed)
	}
	var err error
	if e.volumeID, err = out.String("volume_id"); err != nil {
		return nil, err
	}
	if e.volumeServer, err = out.String("volume_server_id"); err != nil {
		return nil, err
	}
	byAddress := map[string][2]string{} // the address ssh dials (port 22) → server id and name
	for i, ip := range e.floating {
		byAddress[net.JoinHostPort(ip, "22")] = [2]string{e.ids[i], e.names[i]}
	}
	e.hostKeys = probe.NewVerifiedHostKeys(consoleHostKeys(c, byAddress), hostKeyConsoleWait, func(p probe.HostKeyPin) {
		logf("%s", p)
	})
	for _, ip := range e.floating {
		e.hosts = append(e.hosts, probe.Host{Address: ip, User: e.user, Signer: f.key.Signer, HostKeys: e.hostKeys})
	}
	e.hostnames = make([]string, len(e.ids))
	return e, nil
}

// Validations reads the fixture's outputs and returns the checks, in
// Tempest's order (the runner reaches each VM, logs in, the VMs reach each
// other, the web page answers, then the volume), one at a time: later ones
// build on earlier ones, so the first failure skips the rest.
func (f *Functional) Validations(_ context.Context, c *cloud.Cloud, out tf.Outputs, logf func(string, ...any)) (*Suite, error) {
	e, err := f.environment(out, c, logf)
	if err != nil {
		return nil, err
	}
	logf("run %s: servers %v, floating IPs %v, fixed IPs %v", f.o.RunID, e.names, e.floating, e.fixed)
	return &Suite{
		Stages:    []Stage{{Name: "functional", Checks: f.checks(c, e), Concurrency: 1, StopOnFailure: true}},
		ServerIDs: e.ids,
		HostKeys:  e.hostKeys,
	}, nil
}

// vmLabel is the stable part of a server's name: vm-1 of cp-<run id>-vm-1.
func vmLabel(runID, name string) string {
	return strings.TrimPrefix(name, NamePrefix(runID))
}

// checks are named stably (ping/vm-1, east-west/vm-1→vm-2); addresses, server
// names and the run id are in the details.
func (f *Functional) checks(c *cloud.Cloud, e *environment) []check.Check {
	var vs []check.Check
	label := make([]string, len(e.names))
	details := make([]map[string]string, len(e.names))
	for i, n := range e.names {
		label[i] = vmLabel(f.o.RunID, n)
		details[i] = map[string]string{"run_id": f.o.RunID, "server": n, "server_id": e.ids[i], "floating_ip": e.floating[i], "fixed_ip": e.fixed[i]}
	}
	for i := range e.floating {
		vs = append(vs, check.Check{Name: "ping/" + label[i], Details: details[i], Run: func(ctx context.Context) error {
			return probe.Ping(ctx, e.floating[i])
		}})
	}
	for i := range e.hosts {
		vs = append(vs, check.Check{Name: "ssh/" + label[i], Details: details[i], Run: func(ctx context.Context) error {
			out, err := probe.SSH(ctx, e.hosts[i], "hostname")
			if err != nil {
				return err
			}
			e.hostnames[i] = strings.TrimSpace(out)
			if e.hostnames[i] == "" {
				return fmt.Errorf("ssh %s: hostname printed nothing", e.hosts[i])
			}
			return nil
		}})
	}
	for _, p := range [][2]int{{0, 1}, {1, 0}} {
		from, to := p[0], p[1]
		vs = append(vs, check.Check{Name: fmt.Sprintf("east-west/%s→%s", label[from], label[to]),
			Details: map[string]string{"run_id": f.o.RunID, "from": e.names[from], "to": e.names[to], "to_fixed_ip": e.fixed[to]},
			Run: func(ctx context.Context) error {
				return guestPing(ctx, e.hosts[from], e.fixed[to])
			}})
	}
	for i := range e.floating {
		vs = append(vs, check.Check{Name: "http/" + label[i], Details: details[i], Run: func(ctx context.Context) error {
			return probe.HTTP(ctx, "http://"+e.floating[i]+"/", 200, e.hostnames[i])
		}})
	}
	vol := e.volumeHost()
	vd := map[string]string{"run_id": f.o.RunID, "volume_id": e.volumeID, "server_id": e.volumeServer}
	vs = append(vs,
		check.Check{Name: "volume/write-read", Details: vd, Run: func(ctx context.Context) error {
			dev, err := waitDisk(ctx, vol, e.volumeID, true)
			if err != nil {
				return err
			}
			check.SetDetail(ctx, "device", dev)
			return writeReadMarker(ctx, vol, dev, "cloudpulse-"+f.o.RunID)
		}},
		check.Check{Name: "volume/detach", Details: vd, Run: func(ctx context.Context) error {
			return detach(ctx, c, vol, e.volumeServer, e.volumeID)
		}},
	)
	return vs
}

func (e *environment) volumeHost() probe.Host {
	for i, id := range e.ids {
		if id == e.volumeServer {
			return e.hosts[i]
		}
	}
	return e.hosts[0]
}

// guestPing runs ping inside the guest (busybox ping) until a reply comes or ctx ends.
func guestPing(ctx context.Context, h probe.Host, target string) error {
	return probe.WaitFor(ctx, 2*time.Second, func(ctx context.Context) (bool, error) {
		out, err := probe.SSH(ctx, h, "ping -c 3 -W 2 "+target)
		if err != nil {
			return false, fmt.Errorf("%s: ping %s: %w (output: %s)", h.Address, target, err, strings.TrimSpace(out))
		}
		return true, nil
	})
}

// diskBySerial lists the guest's block devices and finds the one whose serial
// is the volume id's first 20 characters (what Nova gives virtio disks).
const listDisks = `for d in /sys/block/*; do [ -e "$d/device" ] || continue; echo "$(basename $d) $(cat $d/serial 2>/dev/null)"; done`

func waitDisk(ctx context.Context, h probe.Host, volumeID string, present bool) (string, error) {
	serial := volumeID
	if len(serial) > 20 {
		serial = serial[:20]
	}
	var dev, last string
	err := probe.WaitFor(ctx, 2*time.Second, func(ctx context.Context) (bool, error) {
		out, err := probe.SSH(ctx, h, listDisks)
		if err != nil {
			return false, err
		}
		last = strings.TrimSpace(out)
		dev = ""
		for _, line := range strings.Split(last, "\n") {
			if f := strings.Fields(line); len(f) == 2 && f[1] == serial {
				dev = "/dev/" + f[0]
			}
		}
		if (dev != "") == present {
			return true, nil
		}
		return false, fmt.Errorf("guest disks (name serial): %q", last)
	})
	if err != nil {
		state := "appear"
		if !present {
			state = "disappear"
		}
		return "", fmt.Errorf("disk with serial %s did not %s in %s: %w", serial, state, h.Address, err)
	}
	return dev, nil
}

func writeReadMarker(ctx context.Context, h probe.Host, dev, marker string) error {
	cmd := fmt.Sprintf("printf %%s %q > /tmp/marker && dd if=/tmp/marker of=%s bs=512 count=1 conv=sync,fsync 2>/dev/null && echo 3 > /proc/sys/vm/drop_caches; dd if=%s bs=%d count=1 2>/dev/null", marker, dev, dev, len(marker))
	out, err := probe.SSH(ctx, h, cmd)
	if err != nil {
		return fmt.Errorf("write marker to %s: %w", dev, err)
	}
	if got := strings.TrimRight(out, "\x00\n"); got != marker {
		return fmt.Errorf("read back %q from %s, wrote %q", got, dev, marker)
	}
	return nil
}

// detach removes the attachment through the compute API, then waits until the
// volume is available and the disk has left the guest.
func detach(ctx context.Context, c *cloud.Cloud, h probe.Host, serverID, volumeID string) error {
	compute, err := c.Compute()
	if err != nil {
		return err
	}
	bs, err := c.BlockStorage()
	if err != nil {
		return err
	}
	if err := volumeattach.Delete(ctx, compute, serverID, volumeID).ExtractErr(); err != nil {
		return fmt.Errorf("detach volume %s from server %s: %w", volumeID, serverID, err)
	}
	var status string
	err = probe.WaitFor(ctx, 2*time.Second, func(ctx context.Context) (bool, error) {
		v, err := volumes.Get(ctx, bs, volumeID).Extract()
		if err != nil {
			return false, err
		}
		status = v.Status
		if status == "error_detaching" || status == "error" {
			return false, probe.Permanent(fmt.Errorf("volume %s is %s", volumeID, status))
		}
		return status == "available", fmt.Errorf("volume %s is %s", volumeID, status)
	})
	if err != nil {
		return fmt.Errorf("wait for volume %s to be available: %w", volumeID, err)
	}
	_, err = waitDisk(ctx, h, volumeID, false)
	return err
}
