package probe

import (
	"regexp"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"
)

// PrintedHostKeys are the ssh host keys a server printed on its serial console, the way cloud-init, CirrOS and
// the cloudpulse test guest print them:
//
//	-----BEGIN SSH HOST KEY FINGERPRINTS-----
//	256 SHA256:W8i0h0K3Bj0k0k7Wy3qk3rQnJtq4sT9hZ9+zq3w9x1E root@vm (ED25519)
//	-----END SSH HOST KEY FINGERPRINTS-----
//	-----BEGIN SSH HOST KEY KEYS-----
//	ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI... root@vm
//	-----END SSH HOST KEY KEYS-----
//
// Lines may carry a prefix (cloud-init logs them through logger: "<14>Jul  6 07:30:24 ec2: ...").
type PrintedHostKeys struct {
	Keys         []ssh.PublicKey // from a KEYS block
	Fingerprints []string        // from a FINGERPRINTS block: "SHA256:<base64>" or "MD5:<hex:hex:...>"
}

// Empty reports whether nothing was printed.
func (p PrintedHostKeys) Empty() bool { return len(p.Keys) == 0 && len(p.Fingerprints) == 0 }

// Match reports whether key is one of the printed keys, or has one of the printed fingerprints.
func (p PrintedHostKeys) Match(key ssh.PublicKey) bool {
	for _, k := range p.Keys {
		if k.Type() == key.Type() && string(k.Marshal()) == string(key.Marshal()) {
			return true
		}
	}
	return slices.Contains(p.Fingerprints, ssh.FingerprintSHA256(key)) ||
		slices.Contains(p.Fingerprints, "MD5:"+ssh.FingerprintLegacyMD5(key))
}

// String lists the printed keys as SHA256 fingerprints (and the printed fingerprints), comma-separated.
func (p PrintedHostKeys) String() string {
	var out []string
	for _, k := range p.Keys {
		out = append(out, ssh.FingerprintSHA256(k))
	}
	for _, f := range p.Fingerprints {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return strings.Join(out, ", ")
}

const (
	fingerprintsBlock = "SSH HOST KEY FINGERPRINTS"
	keysBlock         = "SSH HOST KEY KEYS"
)

var (
	sha256Fingerprint = regexp.MustCompile(`SHA256:[A-Za-z0-9+/]{43}`)
	md5Fingerprint    = regexp.MustCompile(`(?:MD5:)?\b([0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){15})\b`)
	authorizedKey     = regexp.MustCompile(`\b(ssh-ed25519|ssh-rsa|ssh-dss|ecdsa-sha2-nistp(?:256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com)\s+(AAAA[A-Za-z0-9+/]+={0,2})`)
)

// ParseConsoleHostKeys finds the host keys in a console log: the last complete KEYS block and the last complete
// FINGERPRINTS block (a server that booted again printed newer ones). A block whose END line is not there yet
// (the server is still printing it) does not count.
func ParseConsoleHostKeys(console string) PrintedHostKeys {
	var p PrintedHostKeys
	for _, line := range lastBlock(console, keysBlock) {
		m := authorizedKey.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		// a line the console garbled is not a key; the others still pin the server
		if k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(m[1] + " " + m[2])); err == nil {
			p.Keys = append(p.Keys, k)
		}
	}
	for _, line := range lastBlock(console, fingerprintsBlock) {
		if f := sha256Fingerprint.FindString(line); f != "" {
			p.Fingerprints = append(p.Fingerprints, f)
		} else if m := md5Fingerprint.FindStringSubmatch(line); m != nil {
			p.Fingerprints = append(p.Fingerprints, "MD5:"+strings.ToLower(m[1]))
		}
	}
	return p
}

// lastBlock returns the lines between the last "-----BEGIN <name>-----" that has its "-----END <name>-----".
func lastBlock(console, name string) []string {
	begin, end := "-----BEGIN "+name+"-----", "-----END "+name+"-----"
	var last, cur []string
	in := false
	for line := range strings.Lines(console) {
		line = strings.TrimRight(line, "\r\n")
		switch {
		case strings.Contains(line, begin):
			in, cur = true, nil
		case strings.Contains(line, end):
			if in {
				last = cur
			}
			in = false
		case in:
			cur = append(cur, line)
		}
	}
	return last
}
