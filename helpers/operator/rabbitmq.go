package operator

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/cloudpulse/cloudpulse/helpers/check"
)

// RabbitMQNode is the part of a node in GET /api/nodes that the check reads.
type RabbitMQNode struct {
	Name          string   `json:"name"`
	Running       bool     `json:"running"`
	Partitions    []string `json:"partitions"`
	MemAlarm      bool     `json:"mem_alarm"`
	DiskFreeAlarm bool     `json:"disk_free_alarm"`
}

// RabbitMQ asks the management API for the cluster's nodes (GET /api/nodes)
// and its resource alarms (GET /api/health/checks/alarms) and fails naming
// every expected node that is missing or not running, every partition and
// every alarm.
func RabbitMQ(cfg RabbitMQConfig, client *http.Client) check.Check {
	if client == nil {
		client = http.DefaultClient
	}
	return check.Check{Name: "rabbitmq", Run: func(ctx context.Context) error {
		password, err := readSecret("rabbitmq", cfg.PasswordEnv, cfg.PasswordFile)
		if err != nil {
			return fmt.Errorf("rabbitmq: %w", err)
		}
		api := rabbitAPI{client: client, base: strings.TrimRight(cfg.URL, "/"), user: cfg.User, password: password}

		var nodes []RabbitMQNode
		if _, err := api.get(ctx, "/api/nodes", &nodes, http.StatusOK); err != nil {
			return fmt.Errorf("rabbitmq: %w", err)
		}
		problems := RabbitMQProblems(nodes, cfg.ExpectedNodes)

		var health struct {
			Status string `json:"status"`
			Reason string `json:"reason"`
			Alarms []struct {
				Node     string `json:"node"`
				Resource string `json:"resource"`
			} `json:"alarms"`
		}
		// 503 carries the alarms; 404 is a RabbitMQ older than 3.8.10,
		// whose node alarms /api/nodes already reported.
		status, err := api.get(ctx, "/api/health/checks/alarms", &health, http.StatusOK, http.StatusServiceUnavailable, http.StatusNotFound)
		if err != nil {
			return fmt.Errorf("rabbitmq: %w", err)
		}
		if status == http.StatusServiceUnavailable {
			for _, a := range health.Alarms {
				p := fmt.Sprintf("%s has a %s alarm", a.Node, a.Resource)
				if !slices.Contains(problems, p) {
					problems = append(problems, p)
				}
			}
			if len(health.Alarms) == 0 {
				problems = append(problems, "health check alarms: "+health.Reason)
			}
		}
		if len(problems) > 0 {
			return fmt.Errorf("rabbitmq %s: %s", cfg.URL, strings.Join(problems, "; "))
		}
		return nil
	}}
}

// RabbitMQProblems names what is wrong in /api/nodes: no node at all,
// expected nodes missing or not running (every listed node must run when
// expected is empty), partitions, and memory or disk alarms.
func RabbitMQProblems(nodes []RabbitMQNode, expected []string) []string {
	if len(nodes) == 0 { // a cluster without nodes is no broker, whatever was expected
		return []string{"the management API lists no node"}
	}
	var p []string
	byName := map[string]RabbitMQNode{}
	for _, n := range nodes {
		byName[n.Name] = n
	}
	want := expected
	if len(want) == 0 {
		for _, n := range nodes {
			want = append(want, n.Name)
		}
	}
	for _, name := range want {
		n, ok := byName[name]
		switch {
		case !ok:
			var names []string
			for _, n := range nodes {
				names = append(names, n.Name)
			}
			p = append(p, fmt.Sprintf("%s is not in the cluster (members: %s)", name, list(names)))
		case !n.Running:
			p = append(p, fmt.Sprintf("%s is not running", name))
		}
	}
	for _, n := range nodes {
		if len(n.Partitions) > 0 {
			p = append(p, fmt.Sprintf("%s sees a network partition from %s", n.Name, strings.Join(n.Partitions, ", ")))
		}
		if n.MemAlarm {
			p = append(p, fmt.Sprintf("%s has a memory alarm", n.Name))
		}
		if n.DiskFreeAlarm {
			p = append(p, fmt.Sprintf("%s has a disk alarm", n.Name))
		}
	}
	return p
}

type rabbitAPI struct {
	client         *http.Client
	base           string
	user, password string
}

// get fetches path into v and returns the status, which must be one of ok.
func (a rabbitAPI) get(ctx context.Context, path string, v any, ok ...int) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+path, nil)
	if err != nil {
		return 0, err
	}
	req.SetBasicAuth(a.user, a.password)
	resp, err := a.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return 0, fmt.Errorf("GET %s: read: %w", req.URL, err)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return 0, fmt.Errorf("GET %s: got HTTP 401: the management API refused user %q: check rabbitmq.user and its password", req.URL, a.user)
	case !slices.Contains(ok, resp.StatusCode):
		return 0, fmt.Errorf("GET %s: got HTTP %d: %s", req.URL, resp.StatusCode, snippet(body))
	case resp.StatusCode == http.StatusNotFound:
		return resp.StatusCode, nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return 0, fmt.Errorf("GET %s: not the management API's JSON: %w", req.URL, err)
	}
	return resp.StatusCode, nil
}

func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
