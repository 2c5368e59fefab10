package scenario

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"golang.org/x/crypto/ssh"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/probe"
)

// The block each VM writes to its volume before the upgrade: 64 KiB of random
// data at the start of the raw disk, read back after the page cache is dropped.
const (
	blockSize  = 4096
	blockCount = 16
)

// bootCmd prints the kernel's boot id (new at every boot: a reboot or rebuild
// changes it) and the uptime in seconds.
const bootCmd = "cat /proc/sys/kernel/random/boot_id; cut -d' ' -f1 /proc/uptime"

func readBoot(ctx context.Context, h probe.Host) (bootID string, uptime float64, err error) {
	out, err := probe.SSH(ctx, h, bootCmd)
	if err != nil {
		return "", 0, err
	}
	f := strings.Fields(out)
	if len(f) != 2 {
		return "", 0, fmt.Errorf("%s: %q printed %q, want a boot id and an uptime", h, bootCmd, out)
	}
	up, err := strconv.ParseFloat(f[1], 64)
	if err != nil {
		return "", 0, fmt.Errorf("%s: uptime %q: %w", h, f[1], err)
	}
	return f[0], up, nil
}

// observeGuest records s's boot id and uptime, writes a random block to its
// volume and records the block's checksum as read back from the disk.
func observeGuest(ctx context.Context, s upServer, obs *ServerObs) error {
	var err error
	if obs.BootID, obs.Uptime, err = readBoot(ctx, s.host); err != nil {
		return err
	}
	obs.ObservedAt = time.Now().UTC()
	dev, err := waitDisk(ctx, s.host, s.volumeID, true)
	if err != nil {
		return err
	}
	cmd := fmt.Sprintf("dd if=/dev/urandom of=/tmp/cp-block bs=%[2]d count=%[3]d 2>/dev/null && dd if=/tmp/cp-block of=%[1]s bs=%[2]d count=%[3]d conv=fsync 2>/dev/null && sync && echo 3 > /proc/sys/vm/drop_caches && sha256sum < /tmp/cp-block && dd if=%[1]s bs=%[2]d count=%[3]d 2>/dev/null | sha256sum", dev, blockSize, blockCount)
	out, err := probe.SSH(ctx, s.host, cmd)
	if err != nil {
		return fmt.Errorf("write a block to %s (%s): %w", dev, s.volumeID, err)
	}
	f := strings.Fields(out)
	if len(f) < 3 {
		return fmt.Errorf("write a block to %s: want two checksums, got %q", dev, out)
	}
	wrote, read := f[0], f[len(f)-2]
	if wrote != read {
		return fmt.Errorf("volume %s on %s: wrote a block with sha256 %s, read back %s", s.volumeID, dev, wrote, read)
	}
	obs.VolumeSHA256 = read
	return nil
}

// volumeChecksum reads the block back from s's volume.
func volumeChecksum(ctx context.Context, s upServer) (string, error) {
	dev, err := waitDisk(ctx, s.host, s.volumeID, true)
	if err != nil {
		return "", err
	}
	out, err := probe.SSH(ctx, s.host, fmt.Sprintf("echo 3 > /proc/sys/vm/drop_caches; dd if=%s bs=%d count=%d 2>/dev/null | sha256sum", dev, blockSize, blockCount))
	if err != nil {
		return "", fmt.Errorf("read the block of %s: %w", dev, err)
	}
	f := strings.Fields(out)
	if len(f) == 0 {
		return "", fmt.Errorf("read the block of %s: sha256sum printed nothing", dev)
	}
	return f[0], nil
}

func sshAuthorizedKey(k ssh.PublicKey) []byte { return ssh.MarshalAuthorizedKey(k) }

// serverHost is the compute host of a server (admin only: OS-EXT-SRV-ATTR:host).
func serverHost(ctx context.Context, c *cloud.Cloud, id string) (string, error) {
	cc, err := c.Compute()
	if err != nil {
		return "", err
	}
	var host string
	// a read: tried again while the API does not answer (an upgrade restarts it), for up to a minute
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	err = probe.WaitFor(rctx, 2*time.Second, func(ctx context.Context) (bool, error) {
		s, err := servers.Get(ctx, cc, id).Extract()
		if gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
			return false, probe.Permanent(fmt.Errorf("server %s is gone", id))
		}
		if err != nil {
			return false, fmt.Errorf("server %s: %w", id, err)
		}
		host = s.Host
		return true, nil
	})
	return host, err
}
