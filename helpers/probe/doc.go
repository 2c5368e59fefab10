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
// Host keys: the servers under test are created by the run, so there is nothing to check their keys against.
// SSH accepts the key a host shows first and, when Host.HostKeys is shared between calls, pins it for the rest
// of the run: a later call that meets another key for the same address fails (a floating IP that moved to
// another server, or a man in the middle). See HostKeys.
//
// Ping sends raw ICMP and so needs root or CAP_NET_RAW.
package probe
