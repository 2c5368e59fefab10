package operator

import (
	"net/http"

	"github.com/cloudpulse/cloudpulse/helpers/check"
)

// Checks returns every operator check the service map configures, in a
// stable order: listening services, RabbitMQ, Galera, HAProxy, Pacemaker,
// then — when clients is not nil (an admin cloud) — nova services, neutron
// agents and cinder services. client is used for RabbitMQ and HAProxy's
// stats_url (nil: http.DefaultClient).
func Checks(m *ServiceMap, hosts Connector, clients Clients, client *http.Client) []check.Check {
	checks := Listening(m)
	if m.RabbitMQ != nil {
		checks = append(checks, RabbitMQ(*m.RabbitMQ, client))
	}
	if m.Galera != nil {
		checks = append(checks, Galera(*m.Galera, m, hosts)...)
	}
	if m.HAProxy != nil {
		checks = append(checks, HAProxy(*m.HAProxy, hosts, client))
	}
	if m.Pacemaker != nil {
		checks = append(checks, Pacemaker(*m.Pacemaker, hosts))
	}
	if clients != nil {
		allow := m.OpenStack.AllowDisabled
		checks = append(checks,
			NovaServices(clients, allow),
			NeutronAgents(clients, allow),
			CinderServices(clients, allow),
		)
	}
	return checks
}
