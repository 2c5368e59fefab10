package cloud

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
	"gopkg.in/yaml.v3"
)

// envCloudName is the name the openstack CLI gives the cloud made of OS_* variables.
const envCloudName = "envvars"

// Auth types of OS_AUTH_TYPE that Load accepts (keystoneauth's plugin names).
const (
	authPassword = "password"
	authToken    = "token"
	authAppCred  = "v3applicationcredential"
)

var authTypes = map[string]string{
	"": "", "password": authPassword, "v3password": authPassword,
	"token": authToken, "v3token": authToken,
	"v3applicationcredential": authAppCred, "applicationcredential": authAppCred, "application_credential": authAppCred,
}

// envVars are the OS_* variables Load reads when no cloud is named, as the
// openstack CLI (keystoneauth, openstacksdk) reads them. TerraformEnv sets or
// clears every one of them, so OpenTofu sees exactly what the Go side resolved.
var envVars = []string{
	"OS_AUTH_URL", "OS_AUTH_TYPE",
	"OS_USERNAME", "OS_USER_ID", "OS_USERID", "OS_PASSWORD", "OS_TOKEN", "OS_AUTH_TOKEN",
	"OS_APPLICATION_CREDENTIAL_ID", "OS_APPLICATION_CREDENTIAL_NAME", "OS_APPLICATION_CREDENTIAL_SECRET",
	"OS_PROJECT_ID", "OS_PROJECT_NAME", "OS_TENANT_ID", "OS_TENANT_NAME",
	"OS_USER_DOMAIN_ID", "OS_USER_DOMAIN_NAME", "OS_PROJECT_DOMAIN_ID", "OS_PROJECT_DOMAIN_NAME",
	"OS_DOMAIN_ID", "OS_DOMAIN_NAME", "OS_DEFAULT_DOMAIN", "OS_SYSTEM_SCOPE",
	"OS_REGION_NAME", "OS_INTERFACE", "OS_ENDPOINT_TYPE",
	"OS_CACERT", "OS_CERT", "OS_KEY", "OS_INSECURE",
}

// fromEnv turns the OS_* variables into one clouds.yaml entry with the openstack
// CLI's rules:
//   - OS_TENANT_ID/OS_TENANT_NAME are the old names of OS_PROJECT_ID/OS_PROJECT_NAME;
//   - with a project, OS_DOMAIN_ID/OS_DOMAIN_NAME stand for the user's and the
//     project's domain; without one they scope the token to that domain;
//   - a user or project named without a domain is in OS_DEFAULT_DOMAIN (an id,
//     default "default"), as python-openstackclient does;
//   - OS_AUTH_TYPE picks password, token or v3applicationcredential; unset, it
//     is inferred from which secret is set (OS_PASSWORD first).
func fromEnv(getenv func(string) string) (clouds.Cloud, error) {
	first := func(names ...string) string {
		for _, n := range names {
			if v := strings.TrimSpace(getenv(n)); v != "" {
				return v
			}
		}
		return ""
	}
	var errs []error
	authType, ok := authTypes[strings.ToLower(first("OS_AUTH_TYPE"))]
	if !ok {
		errs = append(errs, fmt.Errorf("OS_AUTH_TYPE=%q is not supported: use password, token or v3applicationcredential", getenv("OS_AUTH_TYPE")))
	}
	a := &clouds.AuthInfo{AuthURL: first("OS_AUTH_URL")}
	password := first("OS_PASSWORD")
	token := first("OS_TOKEN", "OS_AUTH_TOKEN")
	acID, acName := first("OS_APPLICATION_CREDENTIAL_ID"), first("OS_APPLICATION_CREDENTIAL_NAME")
	if authType == "" {
		switch {
		case password != "":
			authType = authPassword
		case acID != "" || acName != "":
			authType = authAppCred
		case token != "":
			authType = authToken
		default:
			authType = authPassword // validate names what is missing
		}
	}
	userID, username := first("OS_USER_ID", "OS_USERID"), first("OS_USERNAME")
	userDomainID, userDomainName := first("OS_USER_DOMAIN_ID"), first("OS_USER_DOMAIN_NAME")
	projectID, projectName := first("OS_PROJECT_ID", "OS_TENANT_ID"), first("OS_PROJECT_NAME", "OS_TENANT_NAME")
	projectDomainID, projectDomainName := first("OS_PROJECT_DOMAIN_ID"), first("OS_PROJECT_DOMAIN_NAME")
	domainID, domainName := first("OS_DOMAIN_ID"), first("OS_DOMAIN_NAME")
	defaultDomain := first("OS_DEFAULT_DOMAIN")
	if defaultDomain == "" {
		defaultDomain = "default"
	}
	project := projectID != "" || projectName != ""
	if project { // openstacksdk: one domain for both
		if userDomainID == "" && userDomainName == "" {
			userDomainID, userDomainName = domainID, domainName
		}
		if projectDomainID == "" && projectDomainName == "" {
			projectDomainID, projectDomainName = domainID, domainName
		}
		domainID, domainName = "", ""
	}
	if userDomainID == "" && userDomainName == "" {
		userDomainID = defaultDomain
	}
	if projectDomainID == "" && projectDomainName == "" {
		projectDomainID = defaultDomain
	}
	scope := func() {
		switch {
		case projectID != "":
			a.ProjectID = projectID
		case projectName != "":
			a.ProjectName, a.ProjectDomainID, a.ProjectDomainName = projectName, projectDomainID, projectDomainName
		case domainID != "" || domainName != "":
			a.DomainID, a.DomainName = domainID, domainName
		}
		a.SystemScope = first("OS_SYSTEM_SCOPE")
	}
	user := func() {
		if userID != "" {
			a.UserID = userID // an id needs no domain (and keystone refuses one with it)
			return
		}
		a.Username, a.UserDomainID, a.UserDomainName = username, userDomainID, userDomainName
	}
	switch authType {
	case authPassword:
		user()
		a.Password = password
		scope()
	case authToken:
		a.Token = token
		scope()
	case authAppCred: // the credential carries its project: no scope
		a.ApplicationCredentialID, a.ApplicationCredentialName = acID, acName
		a.ApplicationCredentialSecret = first("OS_APPLICATION_CREDENTIAL_SECRET")
		if acID == "" {
			user()
		}
	}
	c := clouds.Cloud{
		AuthInfo:       a,
		AuthType:       clouds.AuthType(authType),
		RegionName:     first("OS_REGION_NAME"),
		Interface:      first("OS_INTERFACE", "OS_ENDPOINT_TYPE"),
		CACertFile:     first("OS_CACERT"),
		ClientCertFile: first("OS_CERT"),
		ClientKeyFile:  first("OS_KEY"),
	}
	if v := first("OS_INSECURE"); v != "" {
		insecure, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("OS_INSECURE=%q: use true or false", v))
		}
		verify := !insecure
		c.Verify = &verify
	}
	if c.Interface != "" && !slices.Contains([]string{"public", "publicURL", "internal", "internalURL", "admin", "adminURL"}, c.Interface) {
		errs = append(errs, fmt.Errorf("OS_INTERFACE=%q: use public, internal or admin", c.Interface))
	}
	return c, errors.Join(errs...)
}

func loadEnv() (*Config, error) {
	if os.Getenv("OS_AUTH_URL") == "" {
		return nil, errors.New("no cloud selected: set OS_CLOUD to a cloud in clouds.yaml (or OS_AUTH_URL and the other OS_* variables)")
	}
	c, err := fromEnv(os.Getenv)
	if err != nil {
		return nil, fmt.Errorf("the OS_* environment: %w", err)
	}
	// Through clouds.Parse, so that an openrc means what the same values in
	// clouds.yaml mean (scope, TLS).
	var doc bytes.Buffer
	if err := yaml.NewEncoder(&doc).Encode(clouds.Clouds{Clouds: map[string]clouds.Cloud{envCloudName: c}}); err != nil {
		return nil, fmt.Errorf("the OS_* environment: %w", err)
	}
	auth, ep, tlsConf, err := clouds.Parse(clouds.WithCloudsYAML(&doc), clouds.WithCloudName(envCloudName))
	if err != nil {
		return nil, fmt.Errorf("the OS_* environment: %w", err)
	}
	if auth.UserID != "" || auth.TokenID != "" {
		// clouds.Parse puts a domain here for a user name; keystone refuses
		// one next to a user id or a token (the scope keeps its own).
		auth.DomainID, auth.DomainName = "", ""
	}
	cfg := &Config{Name: EnvCloud, Auth: auth, Endpoint: ep, TLS: tlsConf, env: terraformEnv(c)}
	return cfg, cfg.validate()
}

// terraformEnv is the OS_* environment that gives the OpenStack provider the
// same credentials and endpoint selection: every variable the provider or the
// CLI might read is set to the resolved value or cleared, so that no alias
// (OS_TENANT_NAME, OS_DOMAIN_NAME, OS_CLOUD) can mean something else to it.
func terraformEnv(c clouds.Cloud) map[string]string {
	env := map[string]string{"OS_CLOUD": "", "OS_CLIENT_CONFIG_FILE": ""}
	for _, v := range envVars {
		env[v] = ""
	}
	a := c.AuthInfo
	set := map[string]string{
		"OS_AUTH_URL": a.AuthURL, "OS_USERNAME": a.Username, "OS_USER_ID": a.UserID, "OS_PASSWORD": a.Password,
		"OS_TOKEN":                     a.Token,
		"OS_APPLICATION_CREDENTIAL_ID": a.ApplicationCredentialID, "OS_APPLICATION_CREDENTIAL_NAME": a.ApplicationCredentialName,
		"OS_APPLICATION_CREDENTIAL_SECRET": a.ApplicationCredentialSecret,
		"OS_PROJECT_ID":                    a.ProjectID, "OS_PROJECT_NAME": a.ProjectName,
		"OS_PROJECT_DOMAIN_ID": a.ProjectDomainID, "OS_PROJECT_DOMAIN_NAME": a.ProjectDomainName,
		"OS_USER_DOMAIN_ID": a.UserDomainID, "OS_USER_DOMAIN_NAME": a.UserDomainName,
		"OS_DOMAIN_ID": a.DomainID, "OS_DOMAIN_NAME": a.DomainName, "OS_SYSTEM_SCOPE": a.SystemScope,
		"OS_REGION_NAME": c.RegionName, "OS_INTERFACE": c.Interface,
		"OS_CACERT": c.CACertFile, "OS_CERT": c.ClientCertFile, "OS_KEY": c.ClientKeyFile,
	}
	for k, v := range set {
		env[k] = v
	}
	if c.Verify != nil {
		env["OS_INSECURE"] = strconv.FormatBool(!*c.Verify)
	}
	return env
}
