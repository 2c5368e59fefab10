// Package tests holds cloudpulse's go test entry points against a real cloud:
// TestFunctional*, TestEndpoint*, TestOperator*, TestLabSmoke. They are thin:
// the scenarios and checks live in helpers/ and are shared with cpulse.
//
// Point them at a cloud with clouds.yaml + OS_CLOUD (or an openrc's OS_*
// variables); with neither they fail, so that a pipeline whose cloud secret
// did not arrive does not pass. `go test -short` skips them on purpose. Tests
// that need what the cloud does not give (an admin cloud, a service map, the
// lab) skip and say why. make test runs them against the lab cloud
// (OS_CLOUD=lab-member).
package tests
