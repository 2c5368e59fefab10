// Package apiclient is a Go client of the REST API of `cpulse serve`: start a
// check and get its handle, read one result or the history (cursor paging),
// cancel a run, take an upgrade snapshot, ask for health, and wait for a run
// to reach a final state.
//
// Every request carries the bearer token (when one is given) and its own
// timeout (Client.Timeout, within the caller's ctx). An answer other than 2xx
// is an *Error with the server's status and its one-line message.
package apiclient
