// Package operator checks a cloud's control plane the way its operator sees
// it, from a service map (YAML, see ServiceMap and testdata/valid-lab.yaml):
//
//   - listen/<host>/<service>: every expected TCP port accepts a connection;
//   - rabbitmq: the management API's nodes are all running, without
//     partitions or resource alarms;
//   - galera/<host>: each node is ready, connected, Primary, Synced and sees
//     the expected cluster size (mysql client on the host);
//   - haproxy: every backend server is UP (admin socket or CSV stats page);
//   - pacemaker: crm_mon shows every node online, every resource running and
//     no failed action;
//   - nova-services, neutron-agents, cinder-services (admin credentials):
//     every service up and enabled, every agent alive.
//
// Commands run through a Runner: Local for this machine, SSH (public key,
// known_hosts) for the others. Hosts dials each remote host on first use, so
// a host that cannot be reached fails only the checks that need it.
//
// Each failure names what is wrong: host, service, port, node, backend/server
// or binary.
package operator
