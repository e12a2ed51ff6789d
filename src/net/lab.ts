/**
 * The lab: hosts with interfaces, addresses, routes, sysctls, listening services and their own
 * netfilter tables and conntrack, joined by segments (a veth pair or a switch). This is the
 * persisted world every command acts on.
 */
import type { Tables } from '../ruleset/tables.js';

export const LAB_FORMAT = 'iptables-sim-lab';
/**
 * 2: JSON Lines, each chain's rules on a line of their own; 3: line 1 lists chains in columns, and
 * long chains have their rules' frames on a line of their own (src/state/lab-file.ts)
 */
export const LAB_VERSION = 3;

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
  /** routing table: "main" or "local" */
  table?: 'main' | 'local';
  scope?: 'global' | 'link' | 'host';
  proto?: 'kernel' | 'static' | 'boot';
  /** `ip route add ... metric N` (the route's priority; 0 when absent) */
  metric?: number;
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
  /** status bits: SEEN_REPLY ASSURED SNAT DNAT */
  status: string[];
  mark: number;
  zone: number;
  /** lab-clock second the entry expires */
  expires: number;
  helper?: string;
}

export interface Host {
  interfaces: Interface[];
  routes: Route[];
  sysctls: Record<string, string>;
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
  /** per-rule extension state (statistic nth counters, limit buckets, recent lists), keyed by rule handle */
  extState: Record<string, unknown>;
}

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
