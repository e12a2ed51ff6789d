/**
 * The NAT targets of libxt_NAT.c (iptables 1.8.9) for IPv4: SNAT, DNAT, MASQUERADE, REDIRECT, and
 * the kernel's xt_nat.c / xt_MASQUERADE.c / xt_REDIRECT.c behind them. ip6tables rules take IPv6
 * addresses ("[addr]:port" when a port follows), kept as text: the lab never runs them.
 *
 * Revisions iptables 1.8.9 picks against a current kernel: DNAT revision 2 (struct nf_nat_range2,
 * so shifted port ranges "a-b/c" are kept), SNAT, MASQUERADE and REDIRECT revision 0 (struct
 * nf_nat_ipv4_multi_range_compat, which has no room for the base port: a "/c" given to SNAT or
 * MASQUERADE is lost and prints as "/0"; REDIRECT refuses it in its final check).
 */
import { paramProblem } from '../../errors.js';
import { inetPton4, ipToString } from '../../net/ipv4.js';
import { formatIp6, parseIp6 } from '../../net/ipv6.js';
import { serviceToPort } from '../../net/netdb.js';
import { xtStrtoul } from '../../util/strtoul.js';
import type { NatRequest, PacketView, TargetResult } from '../../engine/ext-api.js';
import type { FinalCall, OptionEntry, ParseCall, TargetExtension } from '../types.js';

/** enum nf_nat_range flags (linux/netfilter/nf_nat.h) */
export const NF_NAT_RANGE_MAP_IPS = 1 << 0;
export const NF_NAT_RANGE_PROTO_SPECIFIED = 1 << 1;
export const NF_NAT_RANGE_PROTO_RANDOM = 1 << 2;
export const NF_NAT_RANGE_PERSISTENT = 1 << 3;
export const NF_NAT_RANGE_PROTO_RANDOM_FULLY = 1 << 4;
export const NF_NAT_RANGE_PROTO_OFFSET = 1 << 5;

/** The range the target carries (host-order addresses and ports). */
export interface NatData {
  flags: number;
  minIp: number;
  maxIp: number;
  minPort: number;
  maxPort: number;
  /** base of a shifted port range (DNAT revision 2 only) */
  basePort: number;
  /** an ip6tables rule's addresses, as inet_ntop() writes them (minIp and maxIp are IPv4's) */
  minIp6?: string;
  maxIp6?: string;
}

const O_TO_DEST = 0;
const O_TO_SRC = 1;
const O_TO_PORTS = 2;
const O_RANDOM = 3;
const O_RANDOM_FULLY = 4;
const O_PERSISTENT = 5;

const IPPROTO_ICMP = 1;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_DCCP = 33;
const IPPROTO_SCTP = 132;

const emptyRange = (): NatData => ({ flags: 0, minIp: 0, maxIp: 0, minPort: 0, maxPort: 0, basePort: 0 });

/** xtables_strtoui(s, &end, &v, min, max): the number and what follows it, or undefined */
function strtoui(s: string, min: number, max: number): { value: number; rest: string } | undefined {
  const r = xtStrtoul(s, min, max, true);
  return r.ok ? { value: Number(r.value), rest: s.slice(r.end) } : undefined;
}

/** xtables_service_to_port(name, NULL): getservbyname() of any protocol */
function serviceOrFail(s: string): number {
  const p = serviceToPort(s);
  if (p === undefined) throw paramProblem(`Port \`${s}' not valid`);
  return p;
}

/** parse_ports(): "port", "port-port" or "port-port/base" (the upper end may not be a service name) */
function parsePorts(arg: string, portok: boolean, r: NatData): void {
  if (!portok) throw paramProblem('Need TCP, UDP, SCTP or DCCP with port specification');
  r.flags |= NF_NAT_RANGE_PROTO_SPECIFIED;

  let port: number;
  let end: string;
  const first = strtoui(arg, 0, 0xffff);
  if (first) {
    port = first.value;
    end = first.rest;
  } else {
    port = serviceOrFail(arg);
    end = '';
  }
  if (end === '') {
    r.minPort = r.maxPort = port;
    return;
  }
  if (end[0] === ':') throw paramProblem('Invalid port:port syntax - use dash');
  if (end[0] !== '-') throw paramProblem(`Garbage after port value: \`${end}'`);

  // a range: no service names for its upper end
  const hiArg = end.slice(1);
  const hi = strtoui(hiArg, 0, 0xffff);
  if (!hi) throw paramProblem(`Port \`${hiArg}' not valid`);
  if (hi.value < port) throw paramProblem(`Port range \`${hiArg}' funky`);
  r.minPort = port;
  r.maxPort = hi.value;
  if (hi.rest === '') return;
  if (hi.rest[0] !== '/') throw paramProblem(`Garbage after port range: \`${hi.rest}'`);

  // the base port is read with the end pointer passed: anything after its digits is ignored
  const baseArg = hi.rest.slice(1);
  const base = strtoui(baseArg, 1, 0xffff);
  r.basePort = base ? base.value : serviceOrFail(baseArg);
  r.flags |= NF_NAT_RANGE_PROTO_OFFSET;
}

/**
 * parse_to() for ip6tables: "[addr[-addr]]:port..." with brackets when a port follows; without
 * them one colon is a port separator and more belong to the address (measured: "10.0.0.1:80" is
 * 'Bad IP address "10.0.0.1"', "2001:db8::1:80" an address, "[]:80" no address)
 */
function parseTo6(arg: string, portok: boolean, r: NatData): void {
  const lb = arg.indexOf('[');
  let addr: string;
  let colon: number;
  if (lb < 0) {
    colon = arg.indexOf(':');
    if (colon >= 0 && arg.indexOf(':', colon + 1) >= 0) colon = -1;
    addr = colon >= 0 ? arg.slice(0, colon) : arg;
  } else {
    const rb = arg.indexOf(']', lb + 1);
    if (rb < 0) throw paramProblem('Invalid address format');
    colon = arg.indexOf(':', rb + 1);
    addr = arg.slice(lb + 1, rb);
  }
  if (colon >= 0) {
    parsePorts(arg.slice(colon + 1), portok, r);
    if (colon === 0 || colon === 2) return;
  }
  r.flags |= NF_NAT_RANGE_MAP_IPS;
  const dash = addr.indexOf('-');
  const lo = dash >= 0 ? addr.slice(0, dash) : addr;
  const min = parseIp6(lo);
  if (!min) throw paramProblem(`Bad IP address "${lo}"`);
  r.minIp6 = r.maxIp6 = formatIp6(min);
  if (dash >= 0) {
    const hiText = addr.slice(dash + 1);
    const max = parseIp6(hiText);
    if (!max) throw paramProblem(`Bad IP address "${hiText}"`);
    r.maxIp6 = formatIp6(max);
  }
}

/** parse_to(): "[ip[-ip]][:port[-port[/base]]]" */
function parseTo(orig: string, portok: boolean, r: NatData): void {
  // the bracketed form is for IPv6 only
  if (orig.includes('[')) throw paramProblem('Invalid address format');
  let arg = orig;
  // one colon is port information; more would be an IPv6 address
  let colon = arg.indexOf(':');
  if (colon >= 0 && arg.indexOf(':', colon + 1) >= 0) colon = -1;
  if (colon >= 0) {
    parsePorts(arg.slice(colon + 1), portok, r);
    // "starts with colon or [] colon": the C test is positional, so any two characters before
    // the colon (e.g. "12:80") also count as "no address"
    if (colon === 0 || colon === 2) return;
    arg = arg.slice(0, colon);
  }
  r.flags |= NF_NAT_RANGE_MAP_IPS;
  const dash = arg.indexOf('-');
  const lo = dash >= 0 ? arg.slice(0, dash) : arg;
  const min = inetPton4(lo);
  if (min === undefined) throw paramProblem(`Bad IP address "${lo}"`);
  r.minIp = min;
  if (dash >= 0) {
    const hiText = arg.slice(dash + 1);
    const max = inetPton4(hiText);
    if (max === undefined) throw paramProblem(`Bad IP address "${hiText}"`);
    r.maxIp = max;
  } else {
    r.maxIp = min;
  }
}

/** __NAT_parse(): ports are allowed when -p names a protocol with ports (or ICMP ids), given so far */
function natParseInto(call: ParseCall<NatData>, r: NatData): void {
  const proto = call.frame.proto;
  // entry->ip.proto is read without its inversion flag, so "! -p tcp" passes too
  const portok = [IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP, IPPROTO_DCCP, IPPROTO_ICMP].includes(proto);
  switch (call.entry.id) {
    case O_TO_DEST:
    case O_TO_SRC:
      (call.frame.family === 6 ? parseTo6 : parseTo)(call.arg!, portok, r);
      break;
    case O_TO_PORTS:
      parsePorts(call.arg!, portok, r);
      break;
    case O_PERSISTENT:
      r.flags |= NF_NAT_RANGE_PERSISTENT;
      break;
    case O_RANDOM:
      r.flags |= NF_NAT_RANGE_PROTO_RANDOM;
      break;
    case O_RANDOM_FULLY:
      r.flags |= NF_NAT_RANGE_PROTO_RANDOM_FULLY;
      break;
  }
}

/**
 * NAT_parse() for the revision-0 targets: each option is parsed into a fresh nf_nat_range2 and
 * copied into the compat struct, which has no base port.
 */
function parseCompat(call: ParseCall<NatData>): void {
  const r = emptyRange();
  natParseInto(call, r);
  const d = call.data;
  const id = call.entry.id;
  // the C switch falls through: addresses, then ports, then flags
  if (id === O_TO_DEST || id === O_TO_SRC) {
    d.minIp = r.minIp;
    d.maxIp = r.maxIp;
    if (r.minIp6 !== undefined) {
      d.minIp6 = r.minIp6;
      d.maxIp6 = r.maxIp6;
    }
  }
  if (id === O_TO_DEST || id === O_TO_SRC || id === O_TO_PORTS) {
    d.minPort = r.minPort;
    d.maxPort = r.maxPort;
  }
  d.flags |= r.flags;
}

/** DNAT_parse_v2(): straight into the target's nf_nat_range2 */
function parseV2(call: ParseCall<NatData>): void {
  natParseInto(call, call.data);
}

/** DNAT_fcheck(), used by REDIRECT revision 0 */
function refuseShifted({ data }: FinalCall<NatData>): void {
  if (data.flags & NF_NAT_RANGE_PROTO_OFFSET) {
    throw paramProblem('Shifted portmap ranges not supported with this kernel');
  }
}

/** sprint_range(): an IPv6 range goes in brackets when ports follow */
function rangeText(r: NatData): string {
  let s = '';
  if (r.flags & NF_NAT_RANGE_MAP_IPS && r.minIp6 !== undefined) {
    const brackets = (r.flags & NF_NAT_RANGE_PROTO_SPECIFIED) !== 0;
    s += `${brackets ? '[' : ''}${r.minIp6}${r.minIp6 !== r.maxIp6 ? `-${r.maxIp6}` : ''}${brackets ? ']' : ''}`;
  } else if (r.flags & NF_NAT_RANGE_MAP_IPS) {
    s += ipToString(r.minIp);
    if (r.minIp !== r.maxIp) s += `-${ipToString(r.maxIp)}`;
  }
  if (r.flags & NF_NAT_RANGE_PROTO_SPECIFIED) {
    s += `:${r.minPort}`;
    if (r.maxPort !== r.minPort) s += `-${r.maxPort}`;
    if (r.flags & NF_NAT_RANGE_PROTO_OFFSET) s += `/${r.basePort}`;
  }
  return s;
}

/** __NAT_print(): `-L` uses a label and bare flag names, `-S` the option names */
function natText(r: NatData, rangeopt: string, flagPfx: string, skipColon: boolean): string {
  let range = rangeText(r);
  let s = '';
  if (range.length) {
    if (range[0] === ':' && skipColon) range = range.slice(1);
    s += ` ${rangeopt}${range}`;
  }
  if (r.flags & NF_NAT_RANGE_PROTO_RANDOM) s += ` ${flagPfx}random`;
  if (r.flags & NF_NAT_RANGE_PROTO_RANDOM_FULLY) s += ` ${flagPfx}random-fully`;
  if (r.flags & NF_NAT_RANGE_PERSISTENT) s += ` ${flagPfx}persistent`;
  return s;
}

/**
 * The port part of the binding: fixed ranges as given, shifted ranges resolved for this packet.
 * `manip` is the port nf_nat rewrites: the source port for SNAT, the destination port for DNAT.
 */
function portsOf(d: NatData, pkt: PacketView, req: NatRequest, manip: 'sport' | 'dport'): void {
  if (!(d.flags & NF_NAT_RANGE_PROTO_SPECIFIED)) return;
  req.minPort = d.minPort;
  req.maxPort = d.maxPort;
  const port = pkt[manip];
  if (d.flags & NF_NAT_RANGE_PROTO_OFFSET && port !== undefined) {
    // nf_nat_l4proto_unique_tuple(): off = (u16)(port - base); new port = min + off % size.
    // SNAT revision 0 reaches the kernel with base 0 (xt_nat_convert_range zeroes it). The
    // kernel would step to the next port of the range if that tuple were taken; NatRequest has
    // no base port, so the first choice is handed on as a one-port range. (ICMP ids are not in
    // PacketView, so an ICMP binding keeps the plain range.)
    const size = d.maxPort - d.minPort + 1;
    const off = (port - d.basePort) & 0xffff;
    req.minPort = req.maxPort = d.minPort + (off % size);
  }
}

function flagsOf(d: NatData, req: NatRequest): NatRequest {
  if (d.flags & NF_NAT_RANGE_PROTO_RANDOM) req.random = true;
  if (d.flags & NF_NAT_RANGE_PROTO_RANDOM_FULLY) req.randomFully = true;
  if (d.flags & NF_NAT_RANGE_PERSISTENT) req.persistent = true;
  return req;
}

/** xt_snat_target / xt_dnat_target: nf_nat_setup_info() with the range; NF_ACCEPT */
function applyRange(kind: 'SNAT' | 'DNAT', d: NatData, pkt: PacketView): TargetResult {
  const req: NatRequest = { kind };
  if (d.flags & NF_NAT_RANGE_MAP_IPS) {
    req.minIp = d.minIp;
    req.maxIp = d.maxIp;
  }
  portsOf(d, pkt, req, kind === 'SNAT' ? 'sport' : 'dport');
  return { verdict: 'ACCEPT', nat: flagsOf(d, req) };
}

const SNAT_opts: OptionEntry[] = [
  { name: 'to-source', id: O_TO_SRC, type: 'string', mandatory: true },
  { name: 'random', id: O_RANDOM, type: 'none' },
  { name: 'random-fully', id: O_RANDOM_FULLY, type: 'none' },
  { name: 'persistent', id: O_PERSISTENT, type: 'none' },
];

const MASQUERADE_opts: OptionEntry[] = [
  { name: 'to-ports', id: O_TO_PORTS, type: 'string' },
  { name: 'random', id: O_RANDOM, type: 'none' },
  { name: 'random-fully', id: O_RANDOM_FULLY, type: 'none' },
];

const DNAT_opts: OptionEntry[] = [
  { name: 'to-destination', id: O_TO_DEST, type: 'string', mandatory: true },
  { name: 'random', id: O_RANDOM, type: 'none' },
  { name: 'persistent', id: O_PERSISTENT, type: 'none' },
];

const REDIRECT_opts: OptionEntry[] = [
  { name: 'to-ports', id: O_TO_PORTS, type: 'string' },
  { name: 'random', id: O_RANDOM, type: 'none' },
];

export const SNAT: TargetExtension<NatData> = {
  kind: 'target',
  name: 'SNAT',
  revision: 0,
  // SNAT_help() of libxt_NAT.c, byte for byte as iptables 1.8.9 prints it
  help:
    'SNAT target options:\n' +
    ' --to-source [<ipaddr>[-<ipaddr>]][:port[-port]]\n' +
    '\t\t\t\tAddress to map source to.\n' +
    '[--random] [--random-fully] [--persistent]\n',
  options: SNAT_opts,
  init: emptyRange,
  parse: parseCompat,
  print: (d) => natText(d, 'to:', '', false),
  save: (d) => natText(d, '--to-source ', '--', false),
  // xt_nat.c: .table = "nat", .hooks = POST_ROUTING | LOCAL_IN
  tables: ['nat'],
  hooks: ['POSTROUTING', 'INPUT'],
  apply: (d, pkt) => applyRange('SNAT', d, pkt),
};

export const DNAT: TargetExtension<NatData> = {
  kind: 'target',
  name: 'DNAT',
  revision: 2,
  // DNAT_help_v2() of libxt_NAT.c, byte for byte as iptables 1.8.9 prints it
  help:
    'DNAT target options:\n' +
    ' --to-destination [<ipaddr>[-<ipaddr>]][:port[-port[/port]]]\n' +
    '\t\t\t\tAddress to map destination to.\n' +
    '[--random] [--persistent]\n',
  options: DNAT_opts,
  init: emptyRange,
  parse: parseV2,
  print: (d) => natText(d, 'to:', '', false),
  save: (d) => natText(d, '--to-destination ', '--', false),
  // xt_nat.c: .table = "nat", .hooks = PRE_ROUTING | LOCAL_OUT
  tables: ['nat'],
  hooks: ['PREROUTING', 'OUTPUT'],
  apply: (d, pkt) => applyRange('DNAT', d, pkt),
};

export const MASQUERADE: TargetExtension<NatData> = {
  kind: 'target',
  name: 'MASQUERADE',
  revision: 0,
  // MASQUERADE_help() of libxt_NAT.c, byte for byte as iptables 1.8.9 prints it
  help:
    'MASQUERADE target options:\n' +
    ' --to-ports <port>[-<port>]\n' +
    '\t\t\t\tPort (range) to map to.\n' +
    ' --random\n' +
    '\t\t\t\tRandomize source port.\n' +
    ' --random-fully\n' +
    '\t\t\t\tFully randomize source port.\n',
  options: MASQUERADE_opts,
  init: emptyRange,
  parse: parseCompat,
  print: (d) => natText(d, 'masq ports: ', '', true),
  save: (d) => natText(d, '--to-ports ', '--', true),
  // xt_MASQUERADE.c: .table = "nat", .hooks = POST_ROUTING
  tables: ['nat'],
  hooks: ['POSTROUTING'],
  // masquerade_tg(): the source becomes the out interface's address (inet_select_addr), chosen by
  // the engine, which also drops the packet when the interface has none
  apply(d, pkt) {
    if (d.flags & NF_NAT_RANGE_PROTO_OFFSET) {
      // masquerade_tg() copies flags and min/max ports into an nf_nat_range2 on the stack and
      // leaves its base port uninitialised: the shifted port it picks is not predictable
      throw new Error('MASQUERADE with a shifted port range ("--to-ports a-b/c") uses an uninitialised base port in the kernel; iptables-sim cannot trace it');
    }
    const req: NatRequest = { kind: 'MASQUERADE' };
    portsOf(d, pkt, req, 'sport');
    return { verdict: 'ACCEPT', nat: flagsOf(d, req) };
  },
};

export const REDIRECT: TargetExtension<NatData> = {
  kind: 'target',
  name: 'REDIRECT',
  revision: 0,
  // REDIRECT_help() of libxt_NAT.c, byte for byte as iptables 1.8.9 prints it
  help:
    'REDIRECT target options:\n' +
    ' --to-ports <port>[-<port>]\n' +
    '\t\t\t\tPort (range) to map to.\n' +
    ' [--random]\n',
  options: REDIRECT_opts,
  init: emptyRange,
  parse: parseCompat,
  finalCheck: refuseShifted,
  print: (d) => natText(d, 'redir ports ', '', true),
  save: (d) => natText(d, '--to-ports ', '--', true),
  // xt_REDIRECT.c: .table = "nat", .hooks = PRE_ROUTING | LOCAL_OUT
  tables: ['nat'],
  hooks: ['PREROUTING', 'OUTPUT'],
  // nf_nat_redirect_ipv4(): the destination becomes 127.0.0.1 for locally generated packets or
  // the primary address of the input interface (drop when it has none), chosen by the engine
  apply(d, pkt) {
    const req: NatRequest = { kind: 'REDIRECT' };
    portsOf(d, pkt, req, 'dport');
    return { verdict: 'ACCEPT', nat: flagsOf(d, req) };
  },
};
