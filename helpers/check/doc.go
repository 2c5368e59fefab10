// Package check is cloudpulse's model of a health check: a name and a function
// of the context that returns nil (passed), an error saying what was being done
// (failed) or Skip(reason) (could not run here, e.g. an admin-only check with
// member credentials).
//
// Checks are built by constructors in other packages (helpers/endpoint,
// helpers/operator, ...). A Runner runs them: it owns the per-check deadline,
// the timing, panic recovery and the Result, and runs many checks concurrently
// under a bound while keeping results in input order. WriteTable and WriteJSON
// render results for `cpulse check` and for test logs.
package check
