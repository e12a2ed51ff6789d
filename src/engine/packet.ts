/**
 * A packet inside the engine: what the rules see (PacketView) plus the sk_buff state the path
 * needs (conntrack attachment, trace flag, routing result).
 */
import type { PacketView } from './ext-api.js';
import type { PacketSummary } from './events.js';
import type { Conn } from './conntrack.js';
import { ipToString } from '../net/ipv4.js';

export const PROTO_ICMP = 1;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;

export const TCP = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20 } as const;

export interface Packet extends PacketView {
  /** identifies the packet in a trace (the kernel uses a hash of the skb) */
  id: number;
  /** set by -j TRACE: nf_tables reports this packet's path */
  nftrace: boolean;
  /** CT --notrack / NOTRACK seen: conntrack leaves the packet alone */
  notrack: boolean;
  /** conntrack zone from a CT --zone template */
  ctZone: number;
  /**
   * the entry this packet belongs to and its direction (nf_conntrack_in's result, or attached
   * by the stack to a reset/ICMP error it generates: `related`)
   */
  conn?: { entry: Conn; reply: boolean; related?: boolean };
  /** the route chosen for it */
  /** the route out: its device, gateway, whether it is local, and its MTU (routeMtu()) */
  route?: { dev: string; gateway?: number; local: boolean; mtu: number };
  /** the source address the sending socket got from routing (NAT later may change `src`) */
  socketSrc?: number;
  /** a local sender chose the TTL (IP_TTL); otherwise it leaves with the host's net.ipv4.ip_default_ttl */
  ttlSet?: boolean;
  /** an ICMP error's quoted header: the offending packet as its sender saw it (RFC 792) */
  inner?: QuotedHeader;
}

/** The IP and transport header an ICMP error quotes (for an echo, `sport` is its id). */
export interface QuotedHeader {
  src: number;
  dst: number;
  proto: number;
  sport?: number;
  dport?: number;
  /** an ICMP packet's type (an error about an echo request is not one about its reply) */
  icmpType?: number;
}

/** ICMP types that report an error about another packet (icmp_is_err() in the kernel) */
export function isIcmpError(type: number | undefined): boolean {
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

/**
 * The sockets of the lab's programs (clients, the listening services, a traced local process)
 * belong to root, as in the kernel recordings: the owner match sees uid 0 and gid 0 on what they
 * send. The kernel's own answers (RST for a closed port, ICMP errors and echo replies, REJECT)
 * have no owner.
 */
export function processOwner(): { uid: number; gid: number } {
  return { uid: 0, gid: 0 };
}

/**
 * A SYN or SYN-ACK leaves its sender with the MSS option Linux puts there (with SACK-permitted,
 * timestamps and window scale: the 20 option bytes of the 60-byte SYN the lab sends, see the tcp
 * match's --tcp-option): `mss`, the advertised MSS of the route it goes out by (routeAdvmss()),
 * or, for a packet the trace makes arrive on a device, of that link (its sender's end is taken to
 * have the same MTU). A packet that already carries one (set by its sender or by TCPMSS on the
 * way) keeps it.
 */
export function setSynMss(pkt: Packet, mss: number): void {
  if (pkt.proto === PROTO_TCP && pkt.tcpMss === undefined && (pkt.tcpFlags ?? 0) & TCP.SYN) pkt.tcpMss = mss;
}

let nextId = 1;

export function nextPacketId(): number {
  return nextId++;
}

export function newPacket(p: Omit<Packet, 'id' | 'nftrace' | 'notrack' | 'ctZone' | 'mark' | 'priority' | 'ttl' | 'tos' | 'fragment' | 'len'> & Partial<Packet>): Packet {
  const len = p.len ?? (p.proto === PROTO_TCP ? 60 : p.proto === PROTO_UDP ? 32 : 84);
  // (the length last: a `len: undefined` given does not wipe it out)
  return { id: nextId++, nftrace: false, notrack: false, ctZone: 0, mark: 0, priority: 0, ttl: 64, tos: 0, fragment: false, ...p, len };
}

export function tcpFlagNames(flags: number | undefined): string[] {
  if (flags === undefined) return [];
  // the order xtables-monitor prints them in
  const out: string[] = [];
  if (flags & TCP.SYN) out.push('SYN');
  if (flags & TCP.ACK) out.push('ACK');
  if (flags & TCP.FIN) out.push('FIN');
  if (flags & TCP.RST) out.push('RST');
  if (flags & TCP.PSH) out.push('PSH');
  if (flags & TCP.URG) out.push('URG');
  return out;
}

export function summarize(p: Packet): PacketSummary {
  return {
    id: p.id,
    src: ipToString(p.src),
    dst: ipToString(p.dst),
    proto: p.proto,
    sport: p.sport,
    dport: p.dport,
    flags: p.proto === PROTO_TCP ? tcpFlagNames(p.tcpFlags) : undefined,
    icmpType: p.icmpType,
    icmpCode: p.icmpCode,
    ttl: p.ttl,
    len: p.len,
    mark: p.mark,
    in: p.inIface,
    out: p.outIface,
  };
}

/** "50.60.70.1:40001" (or the address alone for protocols without ports) */
export function endpoint(addr: number, port: number | undefined): string {
  return port === undefined ? ipToString(addr) : `${ipToString(addr)}:${port}`;
}

export function describePacket(p: Packet): string {
  const name = p.proto === PROTO_TCP ? 'tcp' : p.proto === PROTO_UDP ? 'udp' : p.proto === PROTO_ICMP ? 'icmp' : `proto ${p.proto}`;
  let s = `${name} ${endpoint(p.src, p.sport)} -> ${endpoint(p.dst, p.dport)}`;
  if (p.proto === PROTO_TCP) s += ` [${tcpFlagNames(p.tcpFlags).join(',')}]`;
  if (p.proto === PROTO_ICMP) s += ` type ${p.icmpType} code ${p.icmpCode}`;
  return s;
}
