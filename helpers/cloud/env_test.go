package cloud

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clearEnv empties every variable Load reads, so that the machine's own
// OS_* (or OS_CLOUD) cannot leak into a test.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, v := range append([]string{"OS_CLOUD", "OS_CLIENT_CONFIG_FILE", "OS_IDENTITY_API_VERSION", "OS_AUTH_PLUGIN"}, envVars...) {
		t.Setenv(v, "")
	}
}

// tokenKeystone answers version discovery on / and issues a token on
// /v3/auth/tokens; it keeps the "auth" object of each token request.
type tokenKeystone struct {
	*httptest.Server
	mu       sync.Mutex
	requests []map[string]any
}

func newTokenKeystone(t *testing.T, tlsServer bool) *tokenKeystone {
	t.Helper()
	k := &tokenKeystone{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodGet && (r.URL.Path == "/" || r.URL.Path == ""):
			_, _ = io.WriteString(w, `{"versions":{"values":[{"id":"v3.14","status":"stable","links":[{"rel":"self","href":"`+k.URL+`/v3/"}]}]}}`)
		case r.Method == http.MethodPost && r.URL.Path == "/v3/auth/tokens":
			var body struct {
				Auth map[string]any `json:"auth"`
			}
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			k.mu.Lock()
			k.requests = append(k.requests, body.Auth)
			k.mu.Unlock()
			w.Header().Set("X-Subject-Token", "tok")
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"token":{"methods":["password"],"expires_at":"2099-01-01T00:00:00.000000Z","catalog":[]}}`)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	})
	if tlsServer {
		k.Server = httptest.NewTLSServer(h)
	} else {
		k.Server = httptest.NewServer(h)
	}
	t.Cleanup(k.Close)
	return k
}

func (k *tokenKeystone) last(t *testing.T) string {
	t.Helper()
	k.mu.Lock()
	defer k.mu.Unlock()
	require.NotEmpty(t, k.requests, "no token request reached keystone")
	b, err := json.Marshal(k.requests[len(k.requests)-1])
	require.NoError(t, err)
	return string(b)
}

// Each variable set the openstack CLI accepts, and the token request keystone
// gets for it (Connect against a fake keystone: what goes on the wire).
func TestLoadFromEnvVariableSets(t *testing.T) {
	cases := []struct {
		name     string
		env      map[string]string
		auth     string // the "auth" object of POST /v3/auth/tokens
		region   string
		avail    gophercloud.Availability
		tfEnvSub map[string]string // part of TerraformEnv
	}{{
		// kolla-ansible's admin-openrc.sh (auth_url without /v3: version discovery)
		name: "kolla openrc",
		env: map[string]string{"OS_PROJECT_DOMAIN_NAME": "Default", "OS_USER_DOMAIN_NAME": "Default",
			"OS_PROJECT_NAME": "admin", "OS_TENANT_NAME": "admin", "OS_USERNAME": "admin", "OS_PASSWORD": "pw",
			"OS_AUTH_URL": "{url}", "OS_INTERFACE": "internal", "OS_ENDPOINT_TYPE": "internalURL",
			"OS_IDENTITY_API_VERSION": "3", "OS_REGION_NAME": "RegionOne", "OS_AUTH_PLUGIN": "password"},
		auth:   `{"identity":{"methods":["password"],"password":{"user":{"domain":{"name":"Default"},"name":"admin","password":"pw"}}},"scope":{"project":{"domain":{"name":"Default"},"name":"admin"}}}`,
		region: "RegionOne", avail: gophercloud.AvailabilityInternal,
		tfEnvSub: map[string]string{"OS_CLOUD": "", "OS_AUTH_URL": "{url}", "OS_USERNAME": "admin", "OS_PASSWORD": "pw",
			"OS_PROJECT_NAME": "admin", "OS_TENANT_NAME": "", "OS_PROJECT_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_ID": "",
			"OS_USER_DOMAIN_NAME": "Default", "OS_USER_DOMAIN_ID": "", "OS_INTERFACE": "internal", "OS_ENDPOINT_TYPE": "",
			"OS_REGION_NAME": "RegionOne"},
	}, {
		name: "project and user domain by id",
		env: map[string]string{"OS_AUTH_URL": "{url}/v3", "OS_USERNAME": "u", "OS_PASSWORD": "pw",
			"OS_PROJECT_NAME": "p", "OS_PROJECT_DOMAIN_ID": "pd", "OS_USER_DOMAIN_ID": "ud"},
		auth:     `{"identity":{"methods":["password"],"password":{"user":{"domain":{"id":"ud"},"name":"u","password":"pw"}}},"scope":{"project":{"domain":{"id":"pd"},"name":"p"}}}`,
		avail:    gophercloud.AvailabilityPublic,
		tfEnvSub: map[string]string{"OS_PROJECT_DOMAIN_ID": "pd", "OS_USER_DOMAIN_ID": "ud"},
	}, {
		name: "project id, no domains",
		env:  map[string]string{"OS_AUTH_URL": "{url}/v3", "OS_USERNAME": "u", "OS_PASSWORD": "pw", "OS_PROJECT_ID": "p1"},
		auth: `{"identity":{"methods":["password"],"password":{"user":{"domain":{"id":"default"},"name":"u","password":"pw"}}},"scope":{"project":{"id":"p1"}}}`,
	}, {
		name: "OS_TENANT_NAME and the default domain",
		env:  map[string]string{"OS_AUTH_URL": "{url}/v3", "OS_USERNAME": "u", "OS_PASSWORD": "pw", "OS_TENANT_NAME": "t"},
		auth: `{"identity":{"methods":["password"],"password":{"user":{"domain":{"id":"default"},"name":"u","password":"pw"}}},"scope":{"project":{"domain":{"id":"default"},"name":"t"}}}`,
		tfEnvSub: map[string]string{"OS_PROJECT_NAME": "t", "OS_TENANT_NAME": "", "OS_PROJECT_DOMAIN_ID": "default",
			"OS_USER_DOMAIN_ID": "default", "OS_DEFAULT_DOMAIN": ""},
	}, {
		name: "OS_TENANT_ID",
		env:  map[string]string{"OS_AUTH_URL": "{url}/v3", "OS_USERNAME": "u", "OS_PASSWORD": "pw", "OS_TENANT_ID": "t1"},
		auth: `{"identity":{"methods":["password"],"password":{"user":{"domain":{"id":"default"},"name":"u","password":"pw"}}},"scope":{"project":{"id":"t1"}}}`,
	}, {
		name: "OS_DEFAULT_DOMAIN",
		env: map[string]string{"OS_AUTH_URL": "{url}/v3", "OS_USERNAME": "u", "OS_PASSWORD": "pw", "OS_PROJECT_NAME": "p",
			"OS_DEFAULT_DOMAIN": "d9"},
		auth: `{"identity":{"methods":["password"],"password":{"user":{"domain":{"id":"d9"},"name":"u","password":"pw"}}},"scope":{"project":{"domain":{"id":"d9"},"name":"p"}}}`,
	}, {
		name: "OS_DOMAIN_NAME with a project: the user's and the project's domain",
		env: map[string]string{"OS_AUTH_URL": "{url}/v3", "OS_USERNAME": "u", "OS_PASSWORD": "pw", "OS_PROJECT_NAME": "p",
			"OS_DOMAIN_NAME": "dom"},
		auth:     `{"identity":{"methods":["password"],"password":{"user":{"domain":{"name":"dom"},"name":"u","password":"pw"}}},"scope":{"project":{"domain":{"name":"dom"},"name":"p"}}}`,
		tfEnvSub: map[string]string{"OS_DOMAIN_NAME": "", "OS_USER_DOMAIN_NAME": "dom", "OS_PROJECT_DOMAIN_NAME": "dom"},
	}, {
		name: "OS_DOMAIN_ID without a project: domain scope",
		env:  map[string]string{"OS_AUTH_URL": "{url}/v3", "OS_USERNAME": "u", "OS_PASSWORD": "pw", "OS_DOMAIN_ID": "d1"},
		auth: `{"identity":{"methods":["password"],"password":{"user":{"domain":{"id":"default"},"name":"u","password":"pw"}}},"scope":{"domain":{"id":"d1"}}}`,
	}, {
		name: "OS_SYSTEM_SCOPE",
		env: map[string]string{"OS_AUTH_URL": "{url}/v3", "OS_USERNAME": "u", "OS_PASSWORD": "pw", "OS_USER_DOMAIN_NAME": "Default",
			"OS_SYSTEM_SCOPE": "all"},
		auth: `{"identity":{"methods":["password"],"password":{"user":{"domain":{"name":"Default"},"name":"u","password":"pw"}}},"scope":{"system":{"all":true}}}`,
	}, {
		name: "OS_USER_ID: no domain for the user",
		env:  map[string]string{"OS_AUTH_URL": "{url}/v3", "OS_USER_ID": "uid", "OS_PASSWORD": "pw", "OS_PROJECT_ID": "p1"},
		auth: `{"identity":{"methods":["password"],"password":{"user":{"id":"uid","password":"pw"}}},"scope":{"project":{"id":"p1"}}}`,
	}, {
		name: "application credential by id (project variables of an admin openrc left set)",
		env: map[string]string{"OS_AUTH_URL": "{url}/v3", "OS_AUTH_TYPE": "v3applicationcredential",
			"OS_APPLICATION_CREDENTIAL_ID": "ac1", "OS_APPLICATION_CREDENTIAL_SECRET": "sec",
			"OS_PROJECT_NAME": "p", "OS_USER_DOMAIN_NAME": "Default", "OS_REGION_NAME": "R2"},
		auth:   `{"identity":{"application_credential":{"id":"ac1","secret":"sec"},"methods":["application_credential"]}}`,
		region: "R2",
		tfEnvSub: map[string]string{"OS_APPLICATION_CREDENTIAL_ID": "ac1", "OS_APPLICATION_CREDENTIAL_SECRET": "sec",
			"OS_PROJECT_NAME": "", "OS_USER_DOMAIN_NAME": "", "OS_PASSWORD": "", "OS_AUTH_TYPE": ""},
	}, {
		name: "application credential by name and user",
		env: map[string]string{"OS_AUTH_URL": "{url}/v3", "OS_AUTH_TYPE": "v3applicationcredential",
			"OS_APPLICATION_CREDENTIAL_NAME": "ci", "OS_APPLICATION_CREDENTIAL_SECRET": "sec",
			"OS_USERNAME": "u", "OS_USER_DOMAIN_NAME": "Default"},
		auth: `{"identity":{"application_credential":{"name":"ci","secret":"sec","user":{"domain":{"name":"Default"},"name":"u"}},"methods":["application_credential"]}}`,
	}, {
		name: "application credential without OS_AUTH_TYPE",
		env: map[string]string{"OS_AUTH_URL": "{url}/v3", "OS_APPLICATION_CREDENTIAL_ID": "ac1",
			"OS_APPLICATION_CREDENTIAL_SECRET": "sec"},
		auth: `{"identity":{"application_credential":{"id":"ac1","secret":"sec"},"methods":["application_credential"]}}`,
	}, {
		name: "password wins over a stray application credential when OS_AUTH_TYPE=password",
		env: map[string]string{"OS_AUTH_URL": "{url}/v3", "OS_AUTH_TYPE": "password", "OS_USERNAME": "u", "OS_PASSWORD": "pw",
			"OS_PROJECT_ID": "p1", "OS_APPLICATION_CREDENTIAL_ID": "ac1", "OS_APPLICATION_CREDENTIAL_SECRET": "sec"},
		auth:     `{"identity":{"methods":["password"],"password":{"user":{"domain":{"id":"default"},"name":"u","password":"pw"}}},"scope":{"project":{"id":"p1"}}}`,
		tfEnvSub: map[string]string{"OS_APPLICATION_CREDENTIAL_ID": "", "OS_APPLICATION_CREDENTIAL_SECRET": ""},
	}, {
		name: "token",
		env: map[string]string{"OS_AUTH_URL": "{url}/v3", "OS_AUTH_TYPE": "v3token", "OS_TOKEN": "t0k",
			"OS_PROJECT_NAME": "p", "OS_PROJECT_DOMAIN_NAME": "Default"},
		auth:     `{"identity":{"methods":["token"],"token":{"id":"t0k"}},"scope":{"project":{"domain":{"name":"Default"},"name":"p"}}}`,
		tfEnvSub: map[string]string{"OS_TOKEN": "t0k", "OS_USER_DOMAIN_ID": ""},
	}, {
		name:  "OS_ENDPOINT_TYPE alone",
		env:   map[string]string{"OS_AUTH_URL": "{url}/v3", "OS_USERNAME": "u", "OS_PASSWORD": "pw", "OS_PROJECT_ID": "p1", "OS_ENDPOINT_TYPE": "adminURL"},
		auth:  `{"identity":{"methods":["password"],"password":{"user":{"domain":{"id":"default"},"name":"u","password":"pw"}}},"scope":{"project":{"id":"p1"}}}`,
		avail: gophercloud.AvailabilityAdmin, tfEnvSub: map[string]string{"OS_INTERFACE": "adminURL", "OS_ENDPOINT_TYPE": ""},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ks := newTokenKeystone(t, false)
			clearEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, strings.ReplaceAll(v, "{url}", ks.URL))
			}
			cfg, err := Load("")
			require.NoError(t, err)
			assert.Equal(t, EnvCloud, cfg.Name)
			assert.Equal(t, tc.region, cfg.Endpoint.Region)
			avail := tc.avail
			if avail == "" {
				avail = gophercloud.AvailabilityPublic
			}
			assert.Equal(t, avail, cfg.Endpoint.Availability)
			env := cfg.TerraformEnv()
			for k, v := range tc.tfEnvSub {
				got, ok := env[k]
				assert.True(t, ok, "TerraformEnv sets %s", k)
				assert.Equal(t, strings.ReplaceAll(v, "{url}", ks.URL), got, "TerraformEnv %s", k)
			}
			for _, v := range envVars {
				_, ok := env[v]
				assert.True(t, ok, "TerraformEnv sets or clears %s", v)
			}
			_, err = cfg.Connect(context.Background())
			require.NoError(t, err)
			assert.JSONEq(t, tc.auth, ks.last(t))
		})
	}
}

func TestLoadFromEnvRefuses(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		err  string
	}{{
		name: "no password",
		env:  map[string]string{"OS_USERNAME": "u", "OS_PROJECT_NAME": "p"},
		err:  "the OS_* environment: missing OS_PASSWORD",
	}, {
		name: "no user",
		env:  map[string]string{"OS_PASSWORD": "pw"},
		err:  "the OS_* environment: missing OS_USERNAME or OS_USER_ID",
	}, {
		name: "application credential without secret",
		env:  map[string]string{"OS_AUTH_TYPE": "v3applicationcredential", "OS_APPLICATION_CREDENTIAL_ID": "ac1"},
		err:  "the OS_* environment: missing OS_APPLICATION_CREDENTIAL_SECRET",
	}, {
		name: "application credential by name without user",
		env:  map[string]string{"OS_APPLICATION_CREDENTIAL_NAME": "ci", "OS_APPLICATION_CREDENTIAL_SECRET": "s"},
		err:  "the OS_* environment: missing OS_USERNAME or OS_USER_ID (with OS_APPLICATION_CREDENTIAL_NAME)",
	}, {
		name: "unknown auth type",
		env:  map[string]string{"OS_AUTH_TYPE": "v3oidcpassword", "OS_USERNAME": "u", "OS_PASSWORD": "pw"},
		err:  `the OS_* environment: OS_AUTH_TYPE="v3oidcpassword" is not supported: use password, token or v3applicationcredential`,
	}, {
		name: "bad OS_INSECURE and OS_INTERFACE, both named",
		env:  map[string]string{"OS_USERNAME": "u", "OS_PASSWORD": "pw", "OS_INSECURE": "maybe", "OS_INTERFACE": "private"},
		err:  "the OS_* environment: OS_INSECURE=\"maybe\": use true or false\nOS_INTERFACE=\"private\": use public, internal or admin",
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			t.Setenv("OS_AUTH_URL", "http://127.0.0.1:1/v3")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			_, err := Load("")
			require.Error(t, err)
			assert.Equal(t, tc.err, err.Error())
		})
	}
}
