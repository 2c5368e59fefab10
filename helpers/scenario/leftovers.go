package scenario

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// Resource is one cloud resource that cloudpulse made (by its tag or name prefix).
type Resource struct {
	Kind      string // server, keypair, volume, image, floating-ip, port, router, subnet, network, security-group, server-group
	Name      string // floating IPs: the address
	ID        string // keypairs: the name
	RunID     string // the run it belongs to (RunOf)
	Created   time.Time
	ProjectID string        // where it was listed
	UserID    string        // keypairs of another user than the caller's: their owner
	Took      time.Duration // Delete: when it was gone, from the start of the deletion

	tags  []string // tags, and metadata as key=value
	match string   // the text whose prefix tells the run: the name, a floating IP's description
}

func (r Resource) String() string { return fmt.Sprintf("%s %s (%s)", r.Kind, r.Name, r.ID) }

// Scope is one project a run's resources live in, and the user whose keypairs
// it made there. Listings never leave their scopes: no listing of every project.
type Scope struct {
	ProjectID string
	UserID    string
	own       bool // the caller's token scope: Nova and Cinder need no admin filter for it
}

// Leftovers lists, as "kind name (id)", what Find finds of the run. An empty
// list after destroy proves the run cleaned up.
func Leftovers(ctx context.Context, c *cloud.Cloud, runID string, known ...Scope) ([]string, error) {
	found, err := Find(ctx, c, runID, known...)
	out := make([]string, 0, len(found))
	for _, r := range found {
		out = append(out, r.String())
	}
	return out, err
}

// Find lists the run's resources (Owns: the run's tag, or a name starting with
// NamePrefix) in the run's scopes (RunScopes). Resources found before a
// listing failed are returned with the error.
func Find(ctx context.Context, c *cloud.Cloud, runID string, known ...Scope) ([]Resource, error) {
	scopes, err := RunScopes(ctx, c, runID, known...)
	if err != nil {
		return nil, err
	}
	var found []Resource
	var errs []error
	for _, s := range scopes {
		all, err := listScope(ctx, c, s)
		errs = append(errs, err)
		for _, r := range all {
			if Owns(runID, r.tags, r.match) {
				found = append(found, r)
			}
		}
	}
	return found, errors.Join(errs...)
}

// Stale lists cloudpulse's resources of any run (RunOf) in the caller's own
// project that were created before the cutoff, leaving out the runs skip
// names (runs still alive). It is the sweep for state lost with its runner.
func Stale(ctx context.Context, c *cloud.Cloud, cutoff time.Time, skip func(runID string) bool) ([]Resource, error) {
	own, err := ownScope(ctx, c)
	if err != nil {
		return nil, err
	}
	all, err := listScope(ctx, c, own)
	var stale []Resource
	for _, r := range all {
		if r.RunID == "" || (skip != nil && skip(r.RunID)) || r.Created.IsZero() || !r.Created.Before(cutoff) {
			continue
		}
		stale = append(stale, r)
	}
	return stale, err
}

// RunScopes are where a run's resources live: the caller's own project; the
// scopes the caller knows (a Functional run's outputs: the project it built
// in); and, for an admin, the project named ProjectName(runID) carrying the
// run's tag (operator mode) with its user of the same name.
func RunScopes(ctx context.Context, c *cloud.Cloud, runID string, known ...Scope) ([]Scope, error) {
	own, admin, err := caller(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("find the run's projects: %w", err)
	}
	scopes := []Scope{own}
	add := func(s Scope) {
		for i := range scopes {
			if scopes[i].ProjectID == s.ProjectID {
				if scopes[i].UserID == "" {
					scopes[i].UserID = s.UserID
				}
				return
			}
		}
		scopes = append(scopes, s)
	}
	for _, s := range known {
		if s.ProjectID == "" {
			continue
		}
		if !admin && s.ProjectID != own.ProjectID {
			return nil, fmt.Errorf("run %s built in project %s, not the caller's %s: looking there needs the admin role", runID, s.ProjectID, own.ProjectID)
		}
		add(Scope{ProjectID: s.ProjectID, UserID: s.UserID})
	}
	if !admin {
		return scopes, nil
	}
	id, err := c.Identity()
	if err != nil {
		return nil, err
	}
	pages, err := projects.List(id, projects.ListOpts{Name: ProjectName(runID), Tags: RunTag(runID)}).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("find project %s: %w", ProjectName(runID), err)
	}
	ps, err := projects.ExtractProjects(pages)
	if err != nil {
		return nil, fmt.Errorf("find project %s: %w", ProjectName(runID), err)
	}
	for _, p := range ps {
		if p.Name != ProjectName(runID) || !slices.Contains(p.Tags, RunTag(runID)) {
			continue // keystone filtered; the check costs nothing
		}
		s := Scope{ProjectID: p.ID}
		upages, err := users.List(id, users.ListOpts{Name: ProjectName(runID), DomainID: p.DomainID}).AllPages(ctx)
		if err == nil {
			var us []users.User
			if us, err = users.ExtractUsers(upages); err == nil {
				for _, u := range us {
					if u.Name == ProjectName(runID) && u.DefaultProjectID == p.ID {
						s.UserID = u.ID
					}
				}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("find user %s: %w", ProjectName(runID), err)
		}
		add(s)
	}
	return scopes, nil
}

// ownScope is the caller's token project and user.
func ownScope(ctx context.Context, c *cloud.Cloud) (Scope, error) {
	s, _, err := caller(ctx, c)
	return s, err
}

// caller is the caller's token project and user, and whether it has the admin
// role (as cloud.IsAdmin says), from one read of the token.
func caller(ctx context.Context, c *cloud.Cloud) (Scope, bool, error) {
	_, user, proj, roles, err := c.Token(ctx)
	if err != nil {
		return Scope{}, false, err
	}
	if proj == nil || proj.ID == "" {
		return Scope{}, false, fmt.Errorf("cloud %q: the token is not scoped to a project: set project_name or project_id", c.Name)
	}
	admin := false
	for _, r := range roles {
		admin = admin || r.Name == "admin"
	}
	return Scope{ProjectID: proj.ID, UserID: user.ID, own: true}, admin, nil
}

// outputScope is the project (and user) a Functional run built in, from its
// outputs; nil when they are not there.
func outputScope(out tf.Outputs) []Scope {
	p, _ := out.String("project_id")
	if p == "" {
		return nil
	}
	u, _ := out.String("user_id")
	return []Scope{{ProjectID: p, UserID: u}}
}
