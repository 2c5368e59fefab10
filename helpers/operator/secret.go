package operator

import (
	"fmt"
	"os"
	"strings"
)

// readSecret returns the password named by env (an environment variable) or
// file (its first line), or "" when neither is set. Errors name the section
// and what to fix, never the value.
func readSecret(section, env, file string) (string, error) {
	switch {
	case env != "":
		v := os.Getenv(env)
		if v == "" {
			return "", fmt.Errorf("%s.password_env: $%s is unset or empty: export it before running cloudpulse", section, env)
		}
		return v, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("%s.password_file: %w", section, err)
		}
		v, _, _ := strings.Cut(string(b), "\n")
		v = strings.TrimRight(v, "\r")
		if v == "" {
			return "", fmt.Errorf("%s.password_file: %s is empty", section, file)
		}
		return v, nil
	}
	return "", nil
}
