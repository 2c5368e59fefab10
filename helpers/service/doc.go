// Package service is `cpulse serve`: the checks as a web service. A REST API
// (POST /cpulse/check → a handle at once; GET /cpulse/result, /cpulse/results;
// DELETE /cpulse/check/{handle}), a scheduler that runs each enabled family on
// its interval per cloud, and a history store (package store).
//
// At most one scenario run (functional, comprehensive, all) per cloud runs at
// a time; the others wait as "queued". A request for a type and cloud that is
// already queued or running joins that run and gets its handle.
//
//	svc := service.New(opts, st, service.FamilyRunner{Clouds: clouds}.Run)
//	svc.Start(ctx)                       // interrupted runs cleaned up, scheduler, retention
//	err := svc.Serve(ctx, ln, "", "")    // until ctx ends; then running scenarios are cancelled and destroyed
package service
