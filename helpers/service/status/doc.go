// Package status is the service's status page: server-rendered HTML
// (html/template, templates and CSS embedded, no JavaScript) read from the
// run history.
//
//   - / shows, per cloud and family, the last run (state as text and colour),
//     when it ran (relative and absolute), how long it took, a strip of the
//     last runs (each a link to its detail), the failing checks of the last
//     finished run with their messages, and the downtime per path of the
//     last upgrade run that recorded one (an inline SVG bar per path);
//   - /runs/{handle} shows one run: state, times, every check with its
//     status, seconds and error, and the scenario's step timings.
//
// Every value from the history is escaped by html/template: a check message
// holding markup is shown as text. The handler does no authentication; the
// service passes its own middleware in Options.Auth.
//
// Upgrade downtime is read from a run's checks named "downtime/<path>"
// (Seconds: the path's total downtime; Status FAIL when over its threshold;
// Error: the summary line). DowntimeChecks turns a probe.WatchReport into
// such checks.
package status
