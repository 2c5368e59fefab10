// Package tests holds cloudpulse's go test entry points against a real cloud:
// TestFunctional*, TestEndpoint*, TestOperator*, TestLabSmoke. They are thin:
// the scenarios and checks live in helpers/ and are shared with cpulse.
//
// Point them at a cloud with clouds.yaml + OS_CLOUD; with no OS_CLOUD they
// skip. make test runs them against the lab cloud (OS_CLOUD=lab-member).
package tests
