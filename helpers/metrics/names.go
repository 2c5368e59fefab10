package metrics

import "regexp"

// Kinds are the resource kinds cleanup counts (scenario.Resource.Kind); any
// other kind is counted as "other", so the kind label stays bounded.
var Kinds = []string{"server", "keypair", "volume", "image", "floating-ip", "port", "router", "subnet",
	"network", "security-group", "server-group"}

var (
	uuidRE = regexp.MustCompile(`(?i)[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}`)
	ipv4RE = regexp.MustCompile(`\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b`)
	ipv6RE = regexp.MustCompile(`(?i)\b[0-9a-f]{1,4}(:[0-9a-f]{0,4}){2,7}\b`)
	// run ids and handles: a run of 8 or more hex digits holding at least one digit and one letter
	hexRE    = regexp.MustCompile(`(?i)\b[0-9a-f]{8,}\b`)
	digitRE  = regexp.MustCompile(`[0-9]`)
	letterRE = regexp.MustCompile(`(?i)[a-f]`)
)

// CheckName is name with what would make a label grow without bound masked:
// UUIDs become "<id>", IP addresses "<ip>", and runs of 8 or more hex digits
// (run ids, handles) "<id>". Check names are meant to be stable already
// ("ping/compute-1"); this guards the labels against one that is not.
func CheckName(name string) string {
	name = uuidRE.ReplaceAllString(name, "<id>")
	name = ipv4RE.ReplaceAllString(name, "<ip>")
	name = ipv6RE.ReplaceAllString(name, "<ip>")
	return hexRE.ReplaceAllStringFunc(name, func(s string) string {
		if digitRE.MatchString(s) && letterRE.MatchString(s) {
			return "<id>"
		}
		return s
	})
}
