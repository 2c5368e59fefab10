// Package families runs a check family — the endpoint and operator check sets,
// a registered scenario, or all of them — on one cloud. `cpulse check` and the
// service (`cpulse serve`) both run checks through Run, so a check behaves the
// same in either.
//
//	out, err := families.Run(ctx, families.Request{Cloud: cfg, Family: "endpoint"})
//	if err != nil { // bad input (families.IsInput) or the cloud could not be reached
//		return err
//	}
//	ok := check.Summarize(out.Results).OK()
package families
