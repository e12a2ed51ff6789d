/**
 * The seed post's scenarios as lab commands and traces, for the pictures: each is set up on a
 * fresh built-in lab, then every trace is drawn (sequence SVG, HTML page, and the router's hooks).
 */
export interface PictureScenario {
  name: string;
  /** what the seed post says about it, as the page's caption */
  about: string;
  /** lab commands (iptables-sim arguments as one shell line) */
  setup: string[];
  /** `trace` argument lines; each gets --diagram added */
  traces: string[];
  /** host whose hooks get their own SVG */
  hooks?: string;
}

const DNAT_8080 = 'iptables -t nat -A PREROUTING -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.168.1.2:80';

export const SCENARIOS: PictureScenario[] = [
  {
    name: 'snat',
    about: 'SNAT: pc1 reaches the internet; the router rewrites the source to its public address and undoes it on the reply',
    setup: ['iptables -t nat -A POSTROUTING -o eth0 -s 192.168.1.0/24 -j SNAT --to-source 50.60.70.80'],
    traces: ['--from pc1 -p tcp -d 50.60.70.1 --dport 80'],
    hooks: 'router',
  },
  {
    name: 'dnat',
    about: 'DNAT (port forwarding): the internet reaches pc1:80 through the router:8080',
    setup: [DNAT_8080],
    traces: ['--from internet -p tcp -d 50.60.70.80 --dport 8080'],
    hooks: 'router',
  },
  {
    name: 'router-access-broken',
    about: 'router access: DNAT in OUTPUT, but 127.0.0.1:8080 fails at the reroute check (route_localnet=0)',
    setup: ['iptables -t nat -A OUTPUT -p tcp --dport 8080 -j DNAT --to-destination 192.168.1.2:80'],
    traces: ['--from router -p tcp -d 127.0.0.1 --dport 8080', '--from router -p tcp -d 192.168.1.1 --dport 8080'],
    hooks: 'router',
  },
  {
    name: 'router-access-fixed',
    about: 'router access fixed: MASQUERADE of local sources out of eth1 and route_localnet=1',
    setup: [
      'iptables -t nat -A OUTPUT -p tcp --dport 8080 -j DNAT --to-destination 192.168.1.2:80',
      'iptables -t nat -A POSTROUTING -m addrtype --src-type LOCAL -o eth1 -j MASQUERADE',
      'sysctl -w net.ipv4.conf.eth1.route_localnet=1',
    ],
    traces: ['--from router -p tcp -d 127.0.0.1 --dport 8080'],
    hooks: 'router',
  },
  {
    name: 'load-balancing',
    about: 'load balancing: statistic --mode random sends half the connections to pc1, the rest to pc2',
    setup: [
      'iptables -t nat -A PREROUTING -p tcp --dport 8080 -m statistic --mode random --probability 0.5 -j DNAT --to-destination 192.168.1.2:80',
      'iptables -t nat -A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 192.168.1.3:80',
    ],
    traces: ['--from internet -p tcp -d 50.60.70.80 --dport 8080 --seed 7', '--from internet -p tcp -d 50.60.70.80 --dport 8080', '--from internet -p tcp -d 50.60.70.80 --dport 8080'],
    hooks: 'router',
  },
  {
    name: 'hairpin-broken',
    about: 'hairpin NAT broken: pc2 asks 50.60.70.80:8080, pc1 answers straight back over the switch and pc2 rejects the answer',
    setup: [DNAT_8080],
    traces: ['--from pc2 -p tcp -d 50.60.70.80 --dport 8080'],
    hooks: 'router',
  },
  {
    name: 'hairpin-fixed',
    about: 'hairpin NAT fixed: MASQUERADE makes the answer come back through the router',
    setup: [DNAT_8080, 'iptables -t nat -A POSTROUTING -s 192.168.1.0/24 -o eth1 -p tcp --dport 80 -j MASQUERADE'],
    traces: ['--from pc2 -p tcp -d 50.60.70.80 --dport 8080', '--from pc1 -p tcp -d 50.60.70.80 --dport 8080'],
    hooks: 'router',
  },
  {
    name: 'forward-reject',
    about: 'a REJECT in FORWARD after DNAT: the request dies in red and an ICMP error travels back',
    setup: [DNAT_8080, 'iptables -A FORWARD -j REJECT'],
    traces: ['--from internet -p tcp -d 50.60.70.80 --dport 8080'],
    hooks: 'router',
  },
  {
    name: 'one-packet',
    about: "one packet through the router's hooks (the seed post's first figure), from the wire and from a local process",
    setup: [DNAT_8080, 'iptables -t nat -A OUTPUT -p tcp --dport 8080 -j DNAT --to-destination 127.0.0.1:80'],
    traces: ['-i eth0 -p tcp -s 50.60.70.1 --sport 40000 -d 50.60.70.80 --dport 8080', '-p tcp -d 50.60.70.80 --dport 8080'],
  },
];
