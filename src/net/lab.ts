/**
 * The lab: hosts with interfaces, addresses, routes, sysctls, listening services and their own
 * netfilter tables and conntrack, joined by segments (a veth pair or a switch). This is the
 * persisted world every command acts on.
 */
import type { AnySet } from './ipset.js';
import type { Tables } from '../ruleset/tables.js';
import type { NfacctObject } from './nfacct.js';

export const LAB_FORMAT = 'iptables-sim-lab';
/**
 * 2: JSON Lines, each chain's rules on a line of their own; 3: line 1 lists chains in columns, and
 * long chains have their rules' frames on a line of their own; 4: as 3, and a change may be appended
 * as a record that ends with a new header (src/state/lab-file.ts)
 */
export const LAB_VERSION = 4;

export interface Interface {
  name: string;
  /** "a.b.c.d/len" in the order `ip addr add` gave them (the first is the primary address) */
  addrs: string[];
  mac: string;
  up: boolean;
  /** `ip link add NAME type dummy`; absent for the lab's ethernet ports */
  kind?: 'dummy';
  /** the ifindex `ip link` shows; absent: the interface's position (lo is 1) */
  index?: number;
  /** broadcast address of an address, when `ip addr add ... broadcast` gave one */
  brd?: Record<string, string>;
  /** labels of addresses (`ip addr add ... label eth0:1`) other than the device's name */
  labels?: Record<string, string>;
  /** `ip link set DEV mtu N`; absent: the kernel's default (1500, lo 65536) */
  mtu?: number;
}

export interface Route {
  /** "a.b.c.d/len" or "default" */
  dst: string;
  via?: string;
  dev: string;
  /** preferred source address */
  src?: string;
  /** "unicast" (default), "local", "broadcast", "blackhole", "unreachable", "prohibit" */
  type?: string;
  /** routing table: "main" (when absent), "local", or the number of another table (`ip route ... table N`) */
  table?: 'main' | 'local' | number;
  scope?: 'global' | 'link' | 'host';
  /** `ip route add ... proto P`: a name of /etc/iproute2/rt_protos or a number (boot when absent) */
  proto?: string;
  /** `ip route add ... metric N` (the route's priority; 0 when absent) */
  metric?: number;
  /** `onlink`: the gateway is taken to be on the device's link, whatever its subnet */
  onlink?: boolean;
  /** `mtu [lock] N`: the route's MTU metric (1 to 65520; absent: the device's) */
  mtu?: number;
  /** `mtu lock`: the MTU is not to be lowered by path MTU discovery */
  mtuLock?: boolean;
  /** `advmss [lock] N`: the MSS a host's own SYNs and SYN-ACKs by this route advertise (1 to 65495) */
  advmss?: number;
  advmssLock?: boolean;
}

/** one routing policy rule (`ip rule`), as the kernel's fib_rule keeps it */
export interface PolicyRule {
  /** the priority */
  pref: number;
  /** `not`: the selector is inverted (FIB_RULE_INVERT) */
  not?: boolean;
  /** "a.b.c.d/len" as given (the kernel keeps host bits); absent: from all */
  from?: string;
  to?: string;
  tos?: number;
  fwmark?: number;
  /** 0xffffffff when `fwmark N` gave no mask */
  fwmask?: number;
  iif?: string;
  oif?: string;
  /** the table looked up (local 255, main 254, default 253); 0 with an action that looks up none */
  table: number;
  /** the IP protocol (ipproto), source and destination port ranges, uid range (uidrange) */
  ipproto?: number;
  sport?: [number, number];
  dport?: [number, number];
  uid?: [number, number];
  /**
   * one of the three the kernel makes (protocol kernel): never the same as one added by `ip rule
   * add`, which has another protocol (rule_exists() compares it)
   */
  kernel?: boolean;
  /** absent: lookup (FR_ACT_TO_TBL); goto: on to the first rule of priority `goto` */
  action?: 'blackhole' | 'unreachable' | 'prohibit' | 'goto' | 'nop';
  goto?: number;
  /** suppress_prefixlength: a route found with a prefix this long or shorter does not count (absent: -1, none) */
  suppress?: number;
}

export interface Service {
  proto: 'tcp' | 'udp';
  port: number;
  /** bound address, "0.0.0.0" for any */
  addr: string;
}

export interface ConntrackEntry {
  proto: number;
  /** original and reply tuples: [src, dst, sport, dport] (ports 0 when the protocol has none) */
  orig: [string, string, number, number];
  reply: [string, string, number, number];
  /** protocol state as conntrack -L shows it (TCP: SYN_SENT, ESTABLISHED, ...) */
  state?: string;
  /** status bits: SEEN_REPLY ASSURED SNAT DNAT, and SRC_NAT_DONE DST_NAT_DONE where NAT hooks ran (IPS_*) */
  status: string[];
  mark: number;
  zone: number;
  /** lab-clock second the entry expires */
  expires: number;
  helper?: string;
  /**
   * made by `conntrack -I` without --src-nat or --dst-nat: no NAT manipulation was ever decided,
   * so the nat table still sees the connection's new packets, and can bind nothing (the entry is
   * confirmed). Absent: both were decided, as for every connection a packet made.
   */
  natUnset?: true;
}

export interface Host {
  interfaces: Interface[];
  routes: Route[];
  sysctls: Record<string, string>;
  /** `ip rule`'s list in priority order; absent: the kernel's three defaults (0 local, 32766 main, 32767 default) */
  rules?: PolicyRule[];
  /**
   * the routing tables other than main and local the kernel has created (by `ip route add ... table
   * N`), oldest first; a table stays when its routes go. Absent: none.
   */
  fibTables?: number[];
  /**
   * The addresses whose routes were added since the lab was made ("eth0 10.0.0.1/24"), oldest
   * first: by `ip addr add`, and again by `ip link set up` of their device. The kernel appends an
   * address's routes after the routes of the same prefix that are there (fib_add_ifaddr()), so the
   * oldest of a subnet on two devices is the one listed and used first. Addresses not listed are
   * older than all listed ones, in the lab's order. Absent: none.
   */
  addrRoutes?: string[];
  /**
   * The kernel's routes of addresses (kernelRouteKey(): "main unicast 192.168.1.0/24 eth1") that
   * `ip route del` or `flush` deleted; fib_add_ifaddr() adds them again when their address is
   * added or their device set up again. Absent: none.
   */
  removedRoutes?: string[];
  /**
   * device keys written explicitly ("net.ipv4.conf.eth0.rp_filter"): the kernel's devconf state
   * bits, after which a write to `default` no longer reaches that device's value;
   * "net.ipv4.conf.eth0.*" once an address was added to the device (all of its bits)
   */
  sysctlsSet?: string[];
  services: Service[];
  tables: Tables;
  /**
   * ip6tables' tables (nf_tables family ip6), once an ip6tables command made one. The lab routes
   * IPv4 only: these rules are kept, listed and saved, never run.
   */
  tables6?: Tables;
  conntrack: ConntrackEntry[];
  /**
   * the host's neighbour (ARP) entries, learned by connection traces: which host's interface
   * answered for an address asked on one of its devices, or asked it for one of its own; absent:
   * none. Kept as long as the lab: the kernel's go stale after half a minute and are checked
   * again, which the lab, where no time passes between commands, does not model.
   */
  neighbours?: Neighbour[];
  /** extended accounting objects (`nfacct add`), in the order they were made; absent: none */
  nfacct?: NfacctObject[];
  /** per-rule extension state (statistic nth counters, limit buckets, recent lists), keyed by rule handle */
  extState: Record<string, unknown>;
  /**
   * the kernel's IP sets (`ipset`) by slot (ip_set_list: a set goes into the first free slot,
   * which list and save follow); null: the slot of a destroyed set; absent: none
   */
  ipsets?: (AnySet | null)[];
}

/** a neighbour entry: `addr` on the host's `dev` is `host`'s `iface` */
/**
 * A neighbour (ARP) entry: the host and interface that answered for `addr` on `dev`; or, `failed`,
 * an address the host asked for and got no answer (NUD_FAILED), which a request the host later
 * overhears from that address fills in (arp_process()'s neigh_update(): measured,
 * fixtures/kernel/474-random-mtu-703)
 */
export type Neighbour = { dev: string; addr: string } & ({ host: string; iface: string; failed?: undefined } | { failed: true; host?: undefined; iface?: undefined });

export interface Segment {
  name: string;
  /** "host:iface" endpoints sharing this layer-2 segment */
  members: string[];
}

export interface Lab {
  format: typeof LAB_FORMAT;
  version: number;
  name: string;
  defaultHost: string;
  /** the seeded generator behind statistic --mode random and ephemeral ports */
  rng: { seed: number; state: number };
  /** the lab clock in seconds (conntrack timeouts, limit, recent) */
  clock?: number;
  hosts: Record<string, Host>;
  segments: Segment[];
}

/**
 * The host called `name`, undefined when the lab has none. (Not `lab.hosts[name]`: a name such as
 * `constructor` or `toString` would find a member of every object's prototype.)
 */
export function findHost(lab: Lab, name: string): Host | undefined {
  return Object.prototype.hasOwnProperty.call(lab.hosts, name) ? lab.hosts[name] : undefined;
}

/** what to say when the lab has no host called `name` */
export function noHostMessage(lab: Lab, name: string): string {
  return `no host \`${name}' in the lab (hosts: ${Object.keys(lab.hosts).join(', ')})`;
}
