package cloud

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
)

// Cloud is an authenticated connection to one cloud. Its service clients are
// made once and reused (gophercloud discovers versions with a request that no
// context can cancel, so making them per call would cost a request each time).
type Cloud struct {
	Name     string
	Region   string
	Provider *gophercloud.ProviderClient
	Endpoint gophercloud.EndpointOpts

	mu      sync.Mutex
	clients map[string]*gophercloud.ServiceClient
}

// Option changes how Connect builds its HTTP client.
type Option func(*connectOptions)

type connectOptions struct {
	transport http.RoundTripper
}

// WithTransport sends every request, authentication included, through rt
// (for instance a latency recorder). rt should wrap Config.BaseTransport, which
// carries the cloud's TLS settings.
func WithTransport(rt http.RoundTripper) Option {
	return func(o *connectOptions) { o.transport = rt }
}

// Connect authenticates. A refused password, an unreachable auth_url and a
// wrong project each give one line that names the cloud and the likely fix.
func (c *Config) Connect(ctx context.Context, opts ...Option) (*Cloud, error) {
	var o connectOptions
	for _, apply := range opts {
		apply(&o)
	}
	pc, err := openstack.NewClient(c.Auth.IdentityEndpoint)
	if err != nil {
		return nil, fmt.Errorf("%s: auth_url %q: %w", c.where(), c.Auth.IdentityEndpoint, err)
	}
	rt := o.transport
	if rt == nil {
		rt = c.BaseTransport()
	}
	pc.HTTPClient = http.Client{Transport: rt}
	auth := c.Auth
	auth.AllowReauth = true
	if err := openstack.Authenticate(ctx, pc, auth); err != nil {
		return nil, c.authError(err)
	}
	return &Cloud{Name: c.Name, Region: c.Endpoint.Region, Provider: pc, Endpoint: c.Endpoint}, nil
}

// BaseTransport is the HTTP transport for this cloud: Go's default, with the
// cloud's TLS settings (cacert, client cert, verify) when it has any.
func (c *Config) BaseTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if c.TLS != nil {
		t.TLSClientConfig = c.TLS
	}
	return t
}

func (c *Config) authError(err error) error {
	user := c.Auth.Username
	if user == "" {
		user = c.Auth.UserID
	}
	switch {
	case gophercloud.ResponseCodeIs(err, http.StatusUnauthorized):
		return fmt.Errorf("%s: keystone refused the credentials of user %q (401): check username, password and user_domain_name", c.where(), user)
	case gophercloud.ResponseCodeIs(err, http.StatusNotFound):
		return fmt.Errorf("%s: project or domain not found at %s (404): check project_name and project_domain_name: %w", c.where(), c.Auth.IdentityEndpoint, err)
	}
	return fmt.Errorf("%s: authenticate at %s: %w", c.where(), c.Auth.IdentityEndpoint, err)
}

// Identity is the Keystone v3 client.
func (c *Cloud) Identity() (*gophercloud.ServiceClient, error) {
	return c.service("identity", openstack.NewIdentityV3)
}

// Compute is the Nova v2.1 client.
func (c *Cloud) Compute() (*gophercloud.ServiceClient, error) {
	return c.service("compute", openstack.NewComputeV2)
}

// Image is the Glance v2 client.
func (c *Cloud) Image() (*gophercloud.ServiceClient, error) {
	return c.service("image", openstack.NewImageV2)
}

// Network is the Neutron v2 client.
func (c *Cloud) Network() (*gophercloud.ServiceClient, error) {
	return c.service("network", openstack.NewNetworkV2)
}

// BlockStorage is the Cinder v3 client.
func (c *Cloud) BlockStorage() (*gophercloud.ServiceClient, error) {
	return c.service("block-storage", openstack.NewBlockStorageV3)
}

// Placement is the Placement v1 client.
func (c *Cloud) Placement() (*gophercloud.ServiceClient, error) {
	return c.service("placement", openstack.NewPlacementV1)
}

func (c *Cloud) service(name string, mk func(*gophercloud.ProviderClient, gophercloud.EndpointOpts) (*gophercloud.ServiceClient, error)) (*gophercloud.ServiceClient, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if sc, ok := c.clients[name]; ok {
		return sc, nil
	}
	sc, err := mk(c.Provider, c.Endpoint)
	if err != nil {
		var nf *gophercloud.ErrEndpointNotFound
		if errors.As(err, &nf) {
			return nil, fmt.Errorf("cloud %q: no %s endpoint in the catalog (region %q, interface %s)", c.Name, name, c.Region, c.Endpoint.Availability)
		}
		return nil, fmt.Errorf("cloud %q: find or discover the %s endpoint: %w", c.Name, name, err)
	}
	if c.clients == nil {
		c.clients = map[string]*gophercloud.ServiceClient{}
	}
	c.clients[name] = sc
	return sc, nil
}

// Token is what Keystone said about the current token: the user, the project and the roles.
func (c *Cloud) Token(ctx context.Context) (*tokens.Token, *tokens.User, *tokens.Project, []tokens.Role, error) {
	id, err := c.Identity()
	if err != nil {
		return nil, nil, nil, nil, err
	}
	r := tokens.Get(ctx, id, c.Provider.Token())
	tok, err := ExtractToken(r)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("cloud %q: read token: %w", c.Name, err)
	}
	user, err := r.ExtractUser()
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("cloud %q: read token user: %w", c.Name, err)
	}
	proj, err := r.ExtractProject()
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("cloud %q: read token project: %w", c.Name, err)
	}
	roles, err := r.ExtractRoles()
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("cloud %q: read token roles: %w", c.Name, err)
	}
	return tok, user, proj, roles, nil
}

// IsAdmin reports whether the token carries the admin role.
func (c *Cloud) IsAdmin(ctx context.Context) (bool, error) {
	_, _, _, roles, err := c.Token(ctx)
	if err != nil {
		return false, err
	}
	for _, r := range roles {
		if r.Name == "admin" {
			return true, nil
		}
	}
	return false, nil
}
