package cloud

import (
	"crypto/tls"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
	"gopkg.in/yaml.v3"
)

// EnvCloud is the Config.Name of credentials taken from OS_* variables.
const EnvCloud = "(OS_* environment)"

// Config is one cloud's credentials and endpoint selection, not yet used.
type Config struct {
	// Name is the cloud's name in clouds.yaml, or EnvCloud.
	Name string
	// File is the clouds.yaml the cloud was read from ("" for EnvCloud).
	File string
	// Auth are the credentials; never log them.
	Auth gophercloud.AuthOptions
	// Endpoint selects region and interface in the catalog.
	Endpoint gophercloud.EndpointOpts
	// TLS is the client TLS configuration from cacert/cert/key/verify, or nil.
	TLS *tls.Config

	env map[string]string // TerraformEnv of an EnvCloud
}

// Load reads the credentials of the named cloud. An empty name means $OS_CLOUD;
// when that is empty too, the OS_* variables (OS_AUTH_URL, OS_USERNAME, ...) are used.
// Every error says which file and which cloud it is about, and what to fix.
func Load(name string) (*Config, error) {
	if name == "" {
		name = os.Getenv("OS_CLOUD")
	}
	if name == "" {
		return loadEnv()
	}
	path, err := findCloudsYAML()
	if err != nil {
		return nil, fmt.Errorf("cloud %q: %w", name, err)
	}
	known, err := cloudNames(path)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(known, name) {
		return nil, fmt.Errorf("cloud %q not found in %s; known: %s", name, path, strings.Join(known, ", "))
	}
	auth, ep, tlsConf, err := clouds.Parse(clouds.WithLocations(path), clouds.WithCloudName(name))
	if err != nil {
		return nil, fmt.Errorf("cloud %q in %s: %w", name, path, err)
	}
	cfg := &Config{Name: name, File: path, Auth: auth, Endpoint: ep, TLS: tlsConf}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// where names the source of the credentials for error messages.
func (c *Config) where() string {
	if c.File == "" {
		return "the OS_* environment"
	}
	return fmt.Sprintf("cloud %q in %s", c.Name, c.File)
}

// validate lists everything missing at once, by the names the source uses.
func (c *Config) validate() error {
	name := func(yamlKey, envVar string) string {
		if c.File == "" {
			return envVar
		}
		return yamlKey
	}
	var missing []string
	a := c.Auth
	if a.IdentityEndpoint == "" {
		missing = append(missing, name("auth.auth_url", "OS_AUTH_URL"))
	}
	switch {
	case a.TokenID != "":
	case a.ApplicationCredentialID != "" || a.ApplicationCredentialName != "":
		if a.ApplicationCredentialSecret == "" {
			missing = append(missing, name("auth.application_credential_secret", "OS_APPLICATION_CREDENTIAL_SECRET"))
		}
		if a.ApplicationCredentialID == "" && a.Username == "" && a.UserID == "" {
			missing = append(missing, name("auth.username", "OS_USERNAME or OS_USER_ID (with OS_APPLICATION_CREDENTIAL_NAME)"))
		}
	default:
		if a.Username == "" && a.UserID == "" {
			missing = append(missing, name("auth.username", "OS_USERNAME or OS_USER_ID"))
		}
		if a.Password == "" {
			missing = append(missing, name("auth.password (in clouds.yaml or secure.yaml)", "OS_PASSWORD"))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s: missing %s", c.where(), strings.Join(missing, ", "))
	}
	return nil
}

// findCloudsYAML follows the openstack CLI's search order.
func findCloudsYAML() (string, error) {
	if p := os.Getenv("OS_CLIENT_CONFIG_FILE"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("OS_CLIENT_CONFIG_FILE=%s: %w", p, err)
		}
		return filepath.Abs(p)
	}
	var dirs []string
	if wd, err := os.Getwd(); err == nil {
		dirs = append(dirs, wd)
	}
	if x := os.Getenv("XDG_CONFIG_HOME"); x != "" {
		dirs = append(dirs, filepath.Join(x, "openstack"))
	} else if h, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(h, ".config", "openstack"))
	}
	dirs = append(dirs, "/etc/openstack")
	var tried []string
	for _, d := range dirs {
		p := filepath.Join(d, "clouds.yaml")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		tried = append(tried, p)
	}
	return "", fmt.Errorf("no clouds.yaml found (looked in %s); set OS_CLIENT_CONFIG_FILE or create one", strings.Join(tried, ", "))
}

// cloudNames parses the file (reporting YAML errors with the file name) and lists its clouds.
func cloudNames(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var doc struct {
		Clouds map[string]yaml.Node `yaml:"clouds"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	if len(doc.Clouds) == 0 {
		return nil, fmt.Errorf("%s has no \"clouds:\" section", path)
	}
	names := make([]string, 0, len(doc.Clouds))
	for n := range doc.Clouds {
		names = append(names, n)
	}
	slices.Sort(names)
	return names, nil
}

// TerraformEnv is the environment that makes the OpenStack provider use the same
// cloud: OS_CLOUD and OS_CLIENT_CONFIG_FILE for a clouds.yaml cloud; for
// EnvCloud, the OS_* variables as Load resolved them (aliases such as
// OS_TENANT_NAME and OS_DOMAIN_NAME cleared). The map is the caller's to change.
func (c *Config) TerraformEnv() map[string]string {
	if c.File == "" {
		env := maps.Clone(c.env)
		if env == nil {
			env = map[string]string{}
		}
		return env
	}
	return map[string]string{"OS_CLOUD": c.Name, "OS_CLIENT_CONFIG_FILE": c.File}
}
