package operator

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/cloudpulse/cloudpulse/helpers/check"
)

const wsrepQuery = "SHOW GLOBAL STATUS LIKE 'wsrep_%'"

// Galera returns one check per Galera host, "galera/<host>". Each runs the
// mysql client on its host (see GaleraConfig) and requires wsrep_ready ON,
// wsrep_connected ON, wsrep_cluster_status Primary, wsrep_local_state_comment
// Synced and wsrep_cluster_size equal to ExpectedSize, naming every mismatch.
//
// Why the mysql client over ssh rather than a Go MySQL driver: no new
// dependency; it works with the unix-socket root login that Debian, Ubuntu
// and kolla set up (no database password in the service map); it asks each
// node itself (a load-balanced TCP port would hide which node is out of
// sync); and it uses the same ssh access as the Pacemaker check.
func Galera(cfg GaleraConfig, m *ServiceMap, hosts Connector) []check.Check {
	var checks []check.Check
	for _, name := range cfg.Hosts {
		host, _ := m.Host(name)
		checks = append(checks, check.Check{Name: "galera/" + name, Run: func(ctx context.Context) error {
			password, err := readSecret("galera", cfg.PasswordEnv, cfg.PasswordFile)
			if err != nil {
				return fmt.Errorf("galera %s: %w", name, err)
			}
			r, err := hosts.Runner(ctx, name)
			if err != nil {
				return fmt.Errorf("galera %s: %w", name, err)
			}
			cmd, stdin := galeraCommand(cfg, host, password)
			out, err := r.Run(ctx, cmd, stdin)
			if IsCommandNotFound(err) {
				return fmt.Errorf("galera %s: %s not found on %s: install the client (mariadb-client) there or set galera.mysql_command", name, cfg.MySQLCommand, name)
			}
			if err != nil {
				return fmt.Errorf("galera %s: query wsrep status: %w", name, err)
			}
			status := ParseWsrepStatus(out)
			if problems := GaleraProblems(status, cfg.ExpectedSize); len(problems) > 0 {
				return fmt.Errorf("galera %s: %s", name, strings.Join(problems, "; "))
			}
			return nil
		}})
	}
	return checks
}

// galeraCommand builds the shell command and its standard input. The password
// travels on stdin into MYSQL_PWD, so it shows in no process list.
func galeraCommand(cfg GaleraConfig, host Host, password string) (string, io.Reader) {
	args := []string{shellQuote(cfg.MySQLCommand), "--batch", "--skip-column-names"}
	if cfg.User != "" {
		args = append(args, "--user="+shellQuote(cfg.User))
	}
	switch cfg.Connect {
	case "tcp":
		args = append(args, "--protocol=TCP", "--host="+shellQuote(host.Address), "--port="+strconv.Itoa(cfg.Port))
	default:
		if cfg.Socket != "" {
			args = append(args, "--protocol=SOCKET", "--socket="+shellQuote(cfg.Socket))
		}
	}
	args = append(args, "--execute="+shellQuote(wsrepQuery))
	cmd := strings.Join(args, " ")
	if password == "" {
		return cmd, nil
	}
	return `MYSQL_PWD="$(cat)" exec ` + cmd, strings.NewReader(password)
}

// ParseWsrepStatus reads "name<TAB>value" lines (mysql --batch
// --skip-column-names) into a map.
func ParseWsrepStatus(out []byte) map[string]string {
	status := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), "\t")
		if ok && strings.HasPrefix(name, "wsrep_") {
			status[name] = strings.TrimSpace(value)
		}
	}
	return status
}

// GaleraProblems names what is wrong in one node's wsrep status.
func GaleraProblems(status map[string]string, expectedSize int) []string {
	if len(status) == 0 {
		return []string{"no wsrep_* status variables: this server is not a Galera node (no wsrep provider)"}
	}
	var p []string
	if v := status["wsrep_ready"]; v != "ON" {
		p = append(p, fmt.Sprintf("wsrep_ready is %s, want ON (the node refuses queries)", orNone(v)))
	}
	if v := status["wsrep_connected"]; v != "ON" {
		p = append(p, fmt.Sprintf("wsrep_connected is %s, want ON", orNone(v)))
	}
	if v := status["wsrep_cluster_status"]; v != "Primary" {
		p = append(p, fmt.Sprintf("wsrep_cluster_status is %s, want Primary (partitioned or quorum lost)", orNone(v)))
	}
	if v := status["wsrep_local_state_comment"]; v != "Synced" {
		p = append(p, fmt.Sprintf("wsrep_local_state_comment is %s, want Synced", orNone(v)))
	}
	if v := status["wsrep_cluster_size"]; v != strconv.Itoa(expectedSize) {
		p = append(p, fmt.Sprintf("wsrep_cluster_size is %s, want %d", orNone(v), expectedSize))
	}
	if status["wsrep_provider_name"] == "" && status["wsrep_cluster_status"] == "Disconnected" {
		p = append(p, "no Galera provider is loaded (wsrep_on=OFF or wsrep_provider=none): is this a Galera node?")
	}
	return p
}

func orNone(v string) string {
	if v == "" {
		return "missing"
	}
	return v
}

// shellQuote quotes s for sh.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:@,+", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
