package main

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/scenario"
)

// snapshotExisting is `cpulse upgrade snapshot --create=false`: a tenant's
// existing resources, read only (fixtures/upgrade-existing has data sources
// only), kept as the snapshot.
func snapshotExisting(ctx context.Context, cfg *cloud.Config, u upgradeCommon, raw []byte, stdout, stderr io.Writer) error {
	if raw == nil {
		return usagef(`upgrade snapshot --create=false: say which resources with --resources FILE: {"project": "<name or id>", "vm": ["<name or id>", ...]}`)
	}
	sel, err := scenario.ParseExisting(raw)
	if err != nil {
		return usagef("upgrade snapshot: %v", err)
	}
	c, err := connectCloud(ctx, cfg)
	if err != nil {
		return err
	}
	var tofuLog bytes.Buffer
	po, err := phaseOptions(cfg, &tofuLog, stderr, "snapshot")
	if err != nil {
		return err
	}
	res, err := scenario.SnapshotExisting(ctx, c, u.state, sel, po)
	if err != nil {
		fmt.Fprintf(stderr, "tofu output (last 40 lines):\n%s\n", lastLines(tofuLog.String(), 40))
		return err
	}
	fmt.Fprintf(stderr, "upgrade: read-only snapshot %s of existing servers %v kept in %s\n", res.RunID, res.Snapshot.ExistingVars["server_ids"], u.state)
	return printResults(stdout, res.Checks, u.json)
}
