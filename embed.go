// Package cloudpulse holds what the cpulse binary carries with it so that it
// runs anywhere, without a checkout: the scenarios' fixtures and the modules
// they call (helpers/tf writes them into each run's workspace when no checkout
// is found).
package cloudpulse

import "embed"

// Sources are the fixtures' and modules' Terraform files and READMEs, and the
// example service maps, at their paths in the repository (fixtures/functional/main.tf,
// modules/network/main.tf, ...). Only named file patterns are embedded, so
// OpenTofu's working files (.terraform/, lock files, *.tfstate) never are,
// even when the binary is built in a checkout that ran tofu in place.
// The image fixture's build sources are left out: the guest is built by
// `make image`, not at run time.
//
//go:embed fixtures/*/*.tf fixtures/*/README.md fixtures/service-map/*.yaml modules/*/*.tf modules/*/README.md
var Sources embed.FS
