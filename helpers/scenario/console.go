package scenario

import (
	"context"
	"fmt"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/probe"
)

// consoleLogs fetches the last lines of each server's console (for failures).
func consoleLogs(ctx context.Context, c *cloud.Cloud, ids []string) map[string]string {
	logs := map[string]string{}
	compute, err := c.Compute()
	if err != nil {
		return map[string]string{"*": err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for _, id := range ids {
		out, err := servers.ShowConsoleOutput(ctx, compute, id, servers.ShowConsoleOutputOpts{Length: 60}).Extract()
		if err != nil {
			out = fmt.Sprintf("(console log unavailable: %v)", err)
		}
		logs[id] = out
	}
	return logs
}

// serverFaults describes every server of the run that is not ACTIVE, with
// Nova's fault message: what OpenTofu's "unexpected state 'ERROR'" leaves out.
func serverFaults(ctx context.Context, c *cloud.Cloud, runID string) []string {
	compute, err := c.Compute()
	if err != nil {
		return []string{err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	pages, err := servers.List(compute, servers.ListOpts{Name: runID}).AllPages(ctx)
	if err != nil {
		return []string{fmt.Sprintf("list servers: %v", err)}
	}
	all, err := servers.ExtractServers(pages)
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	for _, s := range all {
		if s.Status == "ACTIVE" {
			continue
		}
		msg := fmt.Sprintf("server %s (%s) is %s", s.Name, s.ID, s.Status)
		if s.Fault.Message != "" {
			msg += fmt.Sprintf(": fault %d %s", s.Fault.Code, s.Fault.Message)
		}
		out = append(out, msg)
	}
	return out
}

// hostKeyConsoleWait is how long the ssh probes wait, from the first handshake with a server, for its host keys
// to appear on its console before they trust its key on first use. cloud-init prints them at the end of boot,
// some time after sshd answers; the test guest prints them as dropbear starts.
const hostKeyConsoleWait = time.Minute

// consoleHostKeys reads the host keys each server printed on its serial console through the compute API (nova's
// console log), for probe.NewVerifiedHostKeys. servers maps "ip:22" to the server's id and name.
func consoleHostKeys(c *cloud.Cloud, byAddress map[string][2]string) probe.HostKeySource {
	return func(ctx context.Context, address string) (probe.PrintedHostKeys, string, error) {
		s, ok := byAddress[address]
		if !ok {
			return probe.PrintedHostKeys{}, "", fmt.Errorf("no server of the run has address %s", address)
		}
		id, name := s[0], s[1]
		compute, err := c.Compute()
		if err != nil {
			return probe.PrintedHostKeys{}, name, err
		}
		out, err := servers.ShowConsoleOutput(ctx, compute, id, servers.ShowConsoleOutputOpts{}).Extract()
		if err != nil {
			return probe.PrintedHostKeys{}, name, fmt.Errorf("console log of server %s: %w", id, err)
		}
		return probe.ParseConsoleHostKeys(out), name, nil
	}
}
