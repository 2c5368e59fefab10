package operator

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/cloudpulse/cloudpulse/helpers/check"
)

// HAProxyServer is one backend server row of HAProxy's statistics.
type HAProxyServer struct {
	Backend, Server string
	Status          string // UP, DOWN, MAINT, DRAIN, NOLB, "UP 1/3", "no check", ...
	Check           string // last health check, e.g. "L4CON: Connection refused"
}

// Up reports whether the server takes traffic: UP (also while going down,
// "UP 1/3"), or "no check" (HAProxy does not health-check it).
func (s HAProxyServer) Up() bool {
	return s.Status == "UP" || strings.HasPrefix(s.Status, "UP ") || s.Status == "no check"
}

// HAProxy reads `show stat` from HAProxy's admin socket on the configured host
// (through ssh when the host is remote) or the CSV stats page, and fails
// naming every backend server that is not UP.
func HAProxy(cfg HAProxyConfig, hosts Connector, client *http.Client) check.Check {
	if client == nil {
		client = http.DefaultClient
	}
	return check.Check{Name: "haproxy", Run: func(ctx context.Context) error {
		var csvText []byte
		var err error
		where := cfg.StatsURL
		if cfg.StatsSocket != "" {
			where = cfg.Host + ":" + cfg.StatsSocket
			csvText, err = haproxyStatsFromSocket(ctx, hosts, cfg)
		} else {
			csvText, err = haproxyStatsFromURL(ctx, client, cfg)
		}
		if err != nil {
			return fmt.Errorf("haproxy: %w", err)
		}
		servers, err := ParseHAProxyStats(csvText)
		if err != nil {
			return fmt.Errorf("haproxy %s: %w", where, err)
		}
		if len(servers) == 0 {
			return fmt.Errorf("haproxy %s: no backend server in the statistics: is this the cloud's load balancer?", where)
		}
		var down []string
		for _, s := range servers {
			if !s.Up() {
				d := fmt.Sprintf("%s/%s %s", s.Backend, s.Server, s.Status)
				if s.Check != "" {
					d += " (" + s.Check + ")"
				}
				down = append(down, d)
			}
		}
		if len(down) > 0 {
			return fmt.Errorf("haproxy %s: %d of %d backend servers not UP: %s", where, len(down), len(servers), strings.Join(down, "; "))
		}
		return nil
	}}
}

func haproxyStatsFromSocket(ctx context.Context, hosts Connector, cfg HAProxyConfig) ([]byte, error) {
	r, err := hosts.Runner(ctx, cfg.Host)
	if err != nil {
		return nil, err
	}
	conn, err := r.DialContext(ctx, "unix", cfg.StatsSocket)
	if err != nil {
		return nil, fmt.Errorf("stats socket %s on %s: %w", cfg.StatsSocket, cfg.Host, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if _, err := io.WriteString(conn, "show stat\n"); err != nil {
		return nil, fmt.Errorf("stats socket %s on %s: send show stat: %w", cfg.StatsSocket, cfg.Host, err)
	}
	out, err := io.ReadAll(io.LimitReader(conn, 16<<20))
	if err != nil && ctx.Err() == nil {
		return nil, fmt.Errorf("stats socket %s on %s: read: %w", cfg.StatsSocket, cfg.Host, err)
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("stats socket %s on %s: %w", cfg.StatsSocket, cfg.Host, ctx.Err())
	}
	return out, nil
}

func haproxyStatsFromURL(ctx context.Context, client *http.Client, cfg HAProxyConfig) ([]byte, error) {
	u := cfg.StatsURL
	if !strings.Contains(u, "csv") {
		u += ";csv"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("stats_url: %w", err)
	}
	if cfg.User != "" {
		password, err := readSecret("haproxy", cfg.PasswordEnv, cfg.PasswordFile)
		if err != nil {
			return nil, err
		}
		req.SetBasicAuth(cfg.User, password)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("GET %s: read: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		hint := ""
		if resp.StatusCode == http.StatusUnauthorized {
			hint = ": check haproxy.user and its password"
		}
		return nil, fmt.Errorf("GET %s: got HTTP %d%s", u, resp.StatusCode, hint)
	}
	return body, nil
}

// ParseHAProxyStats reads HAProxy's CSV statistics ("show stat") and returns
// its backend servers (rows other than FRONTEND and BACKEND), in order.
func ParseHAProxyStats(b []byte) ([]HAProxyServer, error) {
	text := strings.TrimSpace(string(b))
	if !strings.HasPrefix(text, "# ") {
		first, _, _ := strings.Cut(text, "\n")
		return nil, fmt.Errorf("not HAProxy CSV statistics (first line %q): the socket needs admin or operator level, the URL a stats page", first)
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(text, "# ")))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("parse HAProxy CSV statistics: %w", err)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	for _, need := range []string{"pxname", "svname", "status"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("parse HAProxy CSV statistics: no %q column", need)
		}
	}
	get := func(row []string, name string) string {
		if i, ok := col[name]; ok && i < len(row) {
			return row[i]
		}
		return ""
	}
	var servers []HAProxyServer
	for _, row := range rows[1:] {
		sv := get(row, "svname")
		if sv == "FRONTEND" || sv == "BACKEND" || (get(row, "type") != "" && get(row, "type") != "2") {
			continue
		}
		s := HAProxyServer{Backend: get(row, "pxname"), Server: sv, Status: get(row, "status")}
		if cs := get(row, "check_status"); cs != "" && !s.Up() {
			s.Check = cs
			if d := get(row, "last_chk"); d != "" {
				s.Check += ": " + d
			}
		}
		servers = append(servers, s)
	}
	return servers, nil
}
