package operator_test

import (
	"fmt"
	"strings"

	"github.com/cloudpulse/cloudpulse/helpers/operator"
)

func Example() {
	m, err := operator.Parse(strings.NewReader(`
hosts:
  - {name: controller-1, address: 10.0.0.11, roles: [api]}
roles:
  api: {services: {keystone: [5000], nova-api: [8774, 8775]}}
pacemaker: {host: controller-1}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	hosts := operator.NewHosts(m) // dials ssh only when a check needs a remote host
	defer hosts.Close()
	for _, c := range operator.Checks(m, hosts, nil, nil) {
		fmt.Println(c.Name)
	}

	_, err = operator.Parse(strings.NewReader(`
hosts: [{name: controller-1}]
pacemaker: {host: controller-9}
`))
	fmt.Println(err)
	// Output:
	// listen/controller-1/keystone
	// listen/controller-1/nova-api
	// pacemaker
	// service map has 2 problems:
	//   hosts[0].address: required (IP address or DNS name)
	//   pacemaker.host: "controller-9" is not one of hosts (controller-1)
}

func ExampleParseCrmMon() {
	c, err := operator.ParseCrmMon([]byte(`<pacemaker-result api-version="2.25" request="crm_mon --output-as=xml">
  <summary><current_dc present="true" name="controller-1" with_quorum="true"/></summary>
  <nodes>
    <node name="controller-1" id="1" online="true" standby="false" maintenance="false" pending="false" unclean="false" type="member"/>
    <node name="controller-2" id="2" online="false" standby="false" maintenance="false" pending="false" unclean="false" type="member"/>
  </nodes>
  <resources>
    <resource id="vip" resource_agent="ocf:heartbeat:IPaddr2" role="Started" active="true" failed="false" blocked="false" nodes_running_on="1">
      <node name="controller-1" id="1" cached="true"/>
    </resource>
  </resources>
  <failures>
    <failure op_key="vip_monitor_10000" node="controller-2" exitstatus="not running" exitreason="" exitcode="7" call="12" status="complete" last-rc-change="2025-11-24 09:58:31 +00:00" queued="0" exec="0" interval="10000" task="monitor"/>
  </failures>
  <status code="0" message="OK"/>
</pacemaker-result>`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("DC %s, %d of %d nodes online\n", c.DC, c.NodesOnline, c.Nodes)
	for _, p := range c.Problems {
		fmt.Println(p)
	}
	// Output:
	// DC controller-1, 1 of 2 nodes online
	// node controller-2 is OFFLINE
	// failed action vip_monitor_10000 on controller-2: not running at 2025-11-24 09:58:31 +00:00
}
