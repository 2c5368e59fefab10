package scenario

import (
	"context"
	"fmt"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
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
