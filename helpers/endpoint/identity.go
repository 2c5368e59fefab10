package endpoint

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/services"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/cloud"
)

// Identity checks Keystone: it validates the client's token (GET
// /v3/auth/tokens) and requires it unexpired with a non-empty catalog.
//
// It does not have a new token issued: gophercloud makes every concurrent
// request wait while a client re-authenticates, which would add Keystone's
// password hashing to the time of every other check in the run. Token issue
// is exercised (and timed) by connecting: connect once per run.
func Identity(c Clients) check.Check {
	return check.Check{Name: "identity", Run: func(ctx context.Context) error {
		id, err := c.Identity()
		if err != nil {
			return clientError("identity", err)
		}
		token := id.ProviderClient.Token()
		if token == "" {
			return errors.New("identity: the client holds no token: connect (authenticate) before running checks")
		}
		r := tokens.Get(ctx, id, token)
		tok, err := cloud.ExtractToken(r) // an application credential's token may lack a time zone
		if err != nil {
			return fmt.Errorf("identity: validate token: %w", describe(err))
		}
		if !tok.ExpiresAt.IsZero() && !tok.ExpiresAt.After(time.Now()) {
			return fmt.Errorf("identity: token already expired at %s (is this machine's clock right?)", tok.ExpiresAt.Format(time.RFC3339))
		}
		cat, err := r.ExtractServiceCatalog()
		if err != nil {
			return fmt.Errorf("identity: read the token's catalog: %w", err)
		}
		if len(cat.Entries) == 0 {
			return errors.New("identity: the token's service catalog is empty: scope the credentials to a project (project_name in clouds.yaml)")
		}
		return nil
	}}
}

// IdentityServices lists Keystone's registered services (admin only: skips on
// HTTP 403) and requires at least one.
func IdentityServices(c Clients) check.Check {
	return check.Check{Name: "identity/services", Run: func(ctx context.Context) error {
		id, err := c.Identity()
		if err != nil {
			return clientError("identity", err)
		}
		list, err := firstPage(ctx, services.List(id, services.ListOpts{}), services.ExtractServices)
		if err != nil {
			return failOrSkip("identity: list services", err)
		}
		if len(list) == 0 {
			return errors.New("identity: list services: keystone has no services registered")
		}
		return nil
	}}
}
