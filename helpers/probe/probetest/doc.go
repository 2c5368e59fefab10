// Package probetest wraps the probes for tests, terratest style: each wrapper takes a testing.TB, logs what it
// checked, and stops the test on failure, so a test reads as a list of steps.
//
//	keys := probetest.KeyPair(t, "cp-"+runID)
//	probetest.Ping(t, ctx, ip)
//	out := probetest.SSH(t, ctx, probe.Host{Address: ip, User: "root", Signer: keys.Signer}, "hostname")
//	probetest.HTTP(t, ctx, "http://"+ip+"/", 200, strings.TrimSpace(out))
//
// Only tests import this package; code that runs in the service uses package probe directly.
package probetest
