// Package metrics turns cloudpulse's real results into Prometheus metrics: a
// Registry (never the global one) fed by the runs of `cpulse serve` and of
// `cpulse check --push`, served at /metrics (Handler) or pushed to a
// Pushgateway (Push, PushRun; PushCleanup and PushWatch for `cpulse cleanup
// --push` and `cpulse upgrade watch --push`) under a stable grouping key
// (job, cloud, family).
//
// Names follow blackbox_exporter (a 0/1 success and a duration per check),
// openstack-exporter (openstack_* for what the APIs did) and Prometheus'
// batch-job guidance (last run and last success as Unix timestamps). Labels are
// few and bounded: cloud (clouds.yaml name), family, check (stable per family;
// ids and addresses are masked, see CheckName), step, service, method, status
// class, path and kind. Never a run id, handle, server id or address.
package metrics
