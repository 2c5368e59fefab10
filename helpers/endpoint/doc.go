// Package endpoint checks an OpenStack cloud's API endpoints the way a user
// meets them: one check.Check per service, each making a cheap read-only call
// (first page of a list) through gophercloud v2 and saying exactly which call
// failed, with method, URL and HTTP status.
//
// identity validates the client's token and its catalog without issuing a
// new one (a re-authentication would stall every concurrent check); token
// issue is exercised by connecting, so connect once per run.
//
// Calls that need admin rights are separate checks (identity/services,
// compute/hypervisors, network/agents, placement) that report check.Skip on
// HTTP 403 (or, for neutron's agents, on the empty list neutron gives a token
// without the admin role), so a member cloud gets "skipped: needs admin"
// rather than a failure, and a skip never hides a failure of the
// member-level calls.
//
// Horizon logs in to the dashboard through its real Django form and verifies
// that the project overview page is the logged-in page.
package endpoint
