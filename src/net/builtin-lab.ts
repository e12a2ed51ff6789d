/**
 * The built-in lab: the seed post's home network, identical to ../shared/lab/kernel_lab.py.
 *
 *   internet  wan 50.60.70.1/24, lo 203.0.113.10/32 (no route to 192.168.1.0/24)
 *      |
 *   router    eth0 50.60.70.80/24, eth1 192.168.1.1/24, default via 50.60.70.1, ip_forward=1
 *      |  (one switch: router eth1, pc1, pc2)
 *   pc1 eth0 192.168.1.2/24, pc2 eth0 192.168.1.3/24, both default via 192.168.1.1
 *
 * Every host listens on tcp/80 and udp/80.
 */
import { LAB_FORMAT, LAB_VERSION, type Host, type Interface, type Lab } from './lab.js';
import { defaultSysctls } from './sysctl.js';

function iface(name: string, addrs: string[], mac: string): Interface {
  return { name, addrs, mac, up: true };
}

function host(interfaces: Interface[], routes: Host['routes'], forward = false, loAddrs: string[] = []): Host {
  const all = [iface('lo', ['127.0.0.1/8', ...loAddrs], '00:00:00:00:00:00'), ...interfaces];
  return {
    interfaces: all,
    routes,
    sysctls: defaultSysctls(all.map((i) => i.name), forward),
    services: [
      { proto: 'tcp', port: 80, addr: '0.0.0.0' },
      { proto: 'udp', port: 80, addr: '0.0.0.0' },
    ],
    tables: {},
    conntrack: [],
    extState: {},
  };
}

export function builtinLab(): Lab {
  return {
    format: LAB_FORMAT,
    version: LAB_VERSION,
    name: 'home network (seed post)',
    defaultHost: 'router',
    rng: { seed: 1, state: 1 },
    hosts: {
      internet: host([iface('wan', ['50.60.70.1/24'], '02:00:32:3c:46:01')], [], false, ['203.0.113.10/32']),
      router: host(
        [iface('eth0', ['50.60.70.80/24'], '02:00:32:3c:46:50'), iface('eth1', ['192.168.1.1/24'], '02:00:c0:a8:01:01')],
        [{ dst: 'default', via: '50.60.70.1', dev: 'eth0' }],
        true,
      ),
      pc1: host([iface('eth0', ['192.168.1.2/24'], '02:00:c0:a8:01:02')], [{ dst: 'default', via: '192.168.1.1', dev: 'eth0' }]),
      pc2: host([iface('eth0', ['192.168.1.3/24'], '02:00:c0:a8:01:03')], [{ dst: 'default', via: '192.168.1.1', dev: 'eth0' }]),
    },
    segments: [
      { name: 'wan', members: ['internet:wan', 'router:eth0'] },
      { name: 'lan', members: ['router:eth1', 'pc1:eth0', 'pc2:eth0'] },
    ],
  };
}
