package probetest

import "github.com/cloudpulse/cloudpulse/helpers/probe"

// probeHost is a host with a key but no user: the probe refuses it at once.
func probeHost(keys probe.KeyPair) probe.Host {
	return probe.Host{Address: "127.0.0.1", Port: 1, Signer: keys.Signer}
}
