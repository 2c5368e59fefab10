// Package probe checks from the outside that a server works the way a user sees it: it answers ping, accepts an
// ssh login (directly or through a jump host) and runs a command, and serves HTTP.
//
// Every probe takes the context first and returns an error. The context's deadline is the only timeout: a
// probe keeps trying (refused connections, timeouts, a guest still booting) until it succeeds or the context
// ends, and then its error says what was tried, how often, and the last failure. There are no timeout
// parameters, and nothing here imports "testing"; tests use the wrappers in probe/probetest.
//
//	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
//	defer cancel()
//	keys, _ := probe.NewKeyPair("cloudpulse-" + runID)  // keys.AuthorizedKey goes into the fixture
//	if err := probe.Ping(ctx, floatingIP); err != nil { ... }
//	out, err := probe.SSH(ctx, probe.Host{Address: floatingIP, User: "root", Signer: keys.Signer}, "hostname")
//	err = probe.HTTP(ctx, "http://"+floatingIP+"/", 200, out)
//
// Host keys: a server the run created printed its ssh host keys on its serial console (cloud-init, CirrOS and
// the cloudpulse test guest do; see ParseConsoleHostKeys). With Host.HostKeys made by NewVerifiedHostKeys and a
// source that reads the console through the cloud's API (nova's console log), SSH accepts only a key the server
// printed, and pins it for the rest of the run: a man in the middle, a rebuilt server or a floating IP that moved
// fails with a HostKeyMismatchError. A server that prints no keys is trusted on first use after a wait, and the
// pin says so (HostKeyPin); NewHostKeys trusts on first use without a source. A later different key always fails.
//
// Downtime: StartWatch probes data-plane paths (PingPath, TCPPath, HTTPPath, SessionPath for VM↔VM and metadata
// from inside a VM) every 200 ms in the background; Stop returns per path the outages, total downtime and longest
// gap, calibrated to within one probe interval (see Watcher), as JSON or an SVG timeline (WatchReport.WriteSVG).
//
// Ping sends raw ICMP and so needs root or CAP_NET_RAW.
package probe
