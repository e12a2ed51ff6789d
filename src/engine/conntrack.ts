/**
 * Connection tracking of one host (nf_conntrack): tuples, lookup by original or reply tuple,
 * new entries that become real (confirmed) only when their first packet leaves the stack, the
 * protocol state and timeouts conntrack -L shows, and NAT bindings stored as the changed reply
 * tuple plus SNAT/DNAT status bits (IPS_SRC_NAT/IPS_DST_NAT).
 */
import { ipToString, parseDotted } from '../net/ipv4.js';
import type { ConntrackEntry } from '../net/lab.js';
import type { ConntrackView, CtState, Tuple } from './ext-api.js';
import { PROTO_ICMP, PROTO_TCP, PROTO_UDP, TCP, type Packet } from './packet.js';
import { conntrackTimeout } from '../net/sysctl.js';

export interface Conn {
  proto: number;
  orig: Tuple;
  reply: Tuple;
  state?: string;
  /** status bits by name, in the order they were set, each once (an array: a batch makes an entry per packet) */
  status: string[];
  mark: number;
  zone: number;
  expires: number;
  helper?: string;
  confirmed: boolean;
  /** which NAT manipulations have been decided (null binding or not): NAT_DONE_SRC | NAT_DONE_DST */
  natDone: number;
  packets: [number, number];
  bytes: [number, number];
  /** deleted from the table by the packet just tracked (which still carries it through NAT) */
  killed?: string;
  /** the lab time the entry was made in this run; entries from earlier traces have none */
  born?: number;
  /** the last packet was a SYN in the original direction that tcp_packet() ignored (sIG) */
  ignoredSyn?: boolean;
}

export const NAT_DONE_SRC = 1;
export const NAT_DONE_DST = 2;

/** sets status bit `s` of `c` (a Set's add()) */
export function addStatus(c: Conn, s: string): void {
  if (!c.status.includes(s)) c.status.push(s);
}

/** ICMP queries and their answers (echo, timestamp, information, address mask: icmp_pkt_to_tuple's inverse map) */
const ICMP_QUERIES = new Set([8, 13, 15, 17]);
const ICMP_ANSWERS = new Set([0, 14, 16, 18]);

export function tupleOf(p: Pick<Packet, 'src' | 'dst' | 'proto' | 'sport' | 'dport'>): Tuple {
  if (p.proto === PROTO_ICMP) {
    // ICMP echo: the id plays the role of both ports
    return { src: p.src, dst: p.dst, proto: p.proto, sport: p.sport ?? 0, dport: p.sport ?? 0 };
  }
  return { src: p.src, dst: p.dst, proto: p.proto, sport: p.sport ?? 0, dport: p.dport ?? 0 };
}

export function invert(t: Tuple): Tuple {
  return { src: t.dst, dst: t.src, proto: t.proto, sport: t.dport, dport: t.sport };
}

export function sameTuple(a: Tuple, b: Tuple): boolean {
  return a.src === b.src && a.dst === b.dst && a.proto === b.proto && a.sport === b.sport && a.dport === b.dport;
}

export function tupleText(t: Tuple): string {
  const ports = t.proto === PROTO_TCP || t.proto === PROTO_UDP;
  return ports ? `${ipToString(t.src)}:${t.sport} -> ${ipToString(t.dst)}:${t.dport}` : `${ipToString(t.src)} -> ${ipToString(t.dst)}`;
}

/**
 * tcp_conntracks: states in which a SYN in the original direction is ignored (sIG: the entry may be
 * out of step with the endpoints, e.g. made by conntrack -I), and in which a SYN-ACK in the reply
 * direction is, unless it answers such an ignored SYN (then the entry picks the handshake up:
 * SYN_RECV)
 */
const SYN_IGNORED = new Set(['SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK']);
const SYNACK_IGNORED = new Set([...SYN_IGNORED, 'TIME_WAIT', 'CLOSE']);

/** nf_conntrack's timeouts, seconds: the host's net.netfilter.nf_conntrack_*timeout* sysctls */
export interface Timeouts {
  tcp: Record<string, number>;
  udp: number;
  udpStream: number;
  icmp: number;
  generic: number;
}

const TCP_TIMEOUT_STATES = ['SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'TIME_WAIT', 'CLOSE'];

export function timeoutsOf(sysctls: Record<string, string>): Timeouts {
  return {
    tcp: Object.fromEntries(TCP_TIMEOUT_STATES.map((s) => [s, conntrackTimeout(sysctls, `tcp_timeout_${s.toLowerCase()}`)])),
    udp: conntrackTimeout(sysctls, 'udp_timeout'),
    udpStream: conntrackTimeout(sysctls, 'udp_timeout_stream'),
    icmp: conntrackTimeout(sysctls, 'icmp_timeout'),
    generic: conntrackTimeout(sysctls, 'generic_timeout'),
  };
}

export class ConntrackTable {
  readonly conns: Conn[];

  constructor(
    entries: ConntrackEntry[],
    private readonly now: number,
    private readonly timeouts: Timeouts,
  ) {
    this.conns = entries.filter((e) => e.expires > now).map(fromEntry);
  }

  /** no entries left */
  clear(): void {
    this.conns.length = 0;
  }

  /**
   * nf_conntrack_in's lookup: the entry this packet belongs to and its direction. An ICMP query's
   * tuple also holds its type, which the reply tuple inverts (echo request 8 -> echo reply 0): a
   * request only matches an original tuple, an answer only a reply tuple. It matters where both
   * ends are one address (a ping of 127.0.0.1), whose request and answer otherwise look alike.
   */
  find(t: Tuple, zone: number, icmpType?: number): { conn: Conn; reply: boolean } | undefined {
    const side = icmpType === undefined ? undefined : ICMP_ANSWERS.has(icmpType) ? 'reply' : ICMP_QUERIES.has(icmpType) ? 'orig' : undefined;
    for (const c of this.conns) {
      if (c.zone !== zone) continue;
      if (side !== 'reply' && sameTuple(c.orig, t)) return { conn: c, reply: false };
      if (side !== 'orig' && sameTuple(c.reply, t)) return { conn: c, reply: true };
    }
    return undefined;
  }

  /** A new, unconfirmed entry for the first packet of a connection. */
  create(p: Packet): Conn {
    const orig = tupleOf(p);
    const c: Conn = {
      proto: p.proto,
      orig,
      reply: invert(orig),
      status: [],
      mark: 0,
      zone: p.ctZone,
      expires: this.now,
      confirmed: false,
      natDone: 0,
      packets: [0, 0],
      bytes: [0, 0],
      born: this.now,
    };
    this.conns.push(c);
    return c;
  }

  /** `c` is the only entry: no tuple can be taken by another (a batch's table holds one packet's entry) */
  alone(c: Conn): boolean {
    return this.conns.length === 1 && this.conns[0] === c;
  }

  /** the reply tuple a proposed NAT change would produce is already taken (nf_nat_used_tuple) */
  replyTaken(reply: Tuple, except: Conn): boolean {
    // tuples are unique within a zone only
    return this.conns.some((c) => c !== except && c.zone === except.zone && (sameTuple(c.reply, reply) || sameTuple(c.orig, reply)));
  }

  /**
   * The connection's endpoints closed it after the exchange (FIN both ways, as the kernel
   * recordings' programs do): the entry lingers in TIME_WAIT, which a new SYN reopens.
   */
  closeTcp(c: Conn): void {
    if (c.state !== 'ESTABLISHED') return;
    c.state = 'TIME_WAIT';
    this.refresh(c, this.timeouts.tcp.TIME_WAIT!);
  }

  /** nf_ct_refresh_acct(): a new timeout, unless the entry's is fixed (IPS_FIXED_TIMEOUT, set by conntrack -u) */
  private refresh(c: Conn, seconds: number): void {
    if (!c.status.includes('FIXED_TIMEOUT')) c.expires = this.now + seconds;
  }

  /** tcp_packet(): a SYN in the original direction of a closed connection deletes the entry ("reopen") */
  reopens(c: Conn, p: Packet, reply: boolean): boolean {
    const f = p.tcpFlags ?? 0;
    if (p.proto !== PROTO_TCP || reply || !(f & TCP.SYN) || f & TCP.ACK) return false;
    if (c.state !== 'TIME_WAIT' && c.state !== 'CLOSE') return false;
    this.conns.splice(this.conns.indexOf(c), 1);
    return true;
  }

  discard(c: Conn): void {
    const i = this.conns.indexOf(c);
    if (i >= 0 && !c.confirmed) this.conns.splice(i, 1);
  }

  toEntries(): ConntrackEntry[] {
    return this.conns.filter((c) => c.confirmed).map(toEntry);
  }

  /**
   * Protocol tracking for one packet (tcp_packet/udp_packet/icmp_packet): state, status bits,
   * timeout. Returns false when the packet does not fit the connection (conntrack calls it INVALID).
   */
  track(c: Conn, p: Packet, reply: boolean): boolean {
    // tcp_conntracks[ORIGINAL] from SYN_SENT: an ACK, a FIN or data before any SYN-ACK is sIV
    // (the entry stays as it was; the packet goes on without a connection)
    if (p.proto === PROTO_TCP && c.state === 'SYN_SENT' && !reply && !((p.tcpFlags ?? 0) & (TCP.SYN | TCP.RST))) return false;
    const dir = reply ? 1 : 0;
    c.packets[dir] += 1;
    c.bytes[dir] += p.len;
    const sawReply = c.status.includes('SEEN_REPLY');
    if (reply && !sawReply) c.status.push('SEEN_REPLY');
    if (p.proto === PROTO_TCP) {
      const f = p.tcpFlags ?? 0;
      let s = c.state ?? 'NONE';
      const synOnly = (f & (TCP.SYN | TCP.ACK)) === TCP.SYN;
      const synAck = (f & (TCP.SYN | TCP.ACK)) === (TCP.SYN | TCP.ACK);
      if (!reply && synOnly && SYN_IGNORED.has(s)) {
        c.ignoredSyn = true;
        return true;
      }
      if (reply && synAck && SYNACK_IGNORED.has(s)) {
        if (!c.ignoredSyn) return true;
        // the SYN-ACK answers the SYN ignored before: the endpoints are in step, the entry follows
        s = 'SYN_SENT';
      }
      c.ignoredSyn = false;
      if (f & TCP.RST && !sawReply) {
        // tcp_packet(): "If only reply is a RST, we can consider ourselves not to have an
        // established connection ... delete the conntrack immediately" (nf_ct_kill_acct)
        this.conns.splice(this.conns.indexOf(c), 1);
        c.killed = 'a reset before any reply: conntrack deletes the entry at once';
        return true;
      }
      if (f & TCP.RST) s = 'CLOSE';
      else if (s === 'NONE' && f & TCP.SYN && !(f & TCP.ACK)) s = 'SYN_SENT';
      else if (s === 'SYN_SENT' && reply && f & TCP.SYN && f & TCP.ACK) s = 'SYN_RECV';
      else if (s === 'SYN_RECV' && !reply && f & TCP.ACK) {
        s = 'ESTABLISHED';
        addStatus(c, 'ASSURED');
      } else if (f & TCP.FIN) {
        s = s === 'ESTABLISHED' ? 'FIN_WAIT' : s === 'FIN_WAIT' || s === 'CLOSE_WAIT' ? 'LAST_ACK' : s;
      } else if (s === 'LAST_ACK' && f & TCP.ACK) s = 'TIME_WAIT';
      else if (s === 'NONE') s = 'ESTABLISHED'; // nf_conntrack_tcp_loose: picked up mid-stream
      c.state = s;
      this.refresh(c, this.timeouts.tcp[s] ?? this.timeouts.tcp.CLOSE!);
      return true;
    }
    if (p.proto === PROTO_UDP) {
      // udp_packet(): traffic both ways still going on two seconds after the first datagram is a
      // stream and becomes ASSURED; the packets of one trace come within that time, a later trace
      // reusing the flow (a later connection attempt) after it
      if (sawReply && c.born !== this.now) addStatus(c, 'ASSURED');
      this.refresh(c, c.status.includes('ASSURED') ? this.timeouts.udpStream : this.timeouts.udp);
      return true;
    }
    this.refresh(c, p.proto === PROTO_ICMP ? this.timeouts.icmp : this.timeouts.generic);
    return true;
  }
}

/** Can this packet start a connection? (tcp_new: a SYN without ACK, or any packet but RST/SYN-ACK when loose) */
export function canStart(p: Packet): boolean {
  // nf_conntrack_icmp_packet()'s valid_new[]: only a query starts an ICMP connection; an echo reply
  // that meets no entry (its request was not tracked) is INVALID and makes none (measured:
  // fixtures/kernel/343-random-frames-586, the request of a ping NOTRACKed in raw PREROUTING)
  if (p.proto === PROTO_ICMP) return ICMP_QUERIES.has(p.icmpType ?? -1);
  if (p.proto !== PROTO_TCP) return true;
  const f = p.tcpFlags ?? 0;
  if (f & TCP.RST) return false;
  if (f & TCP.SYN && f & TCP.ACK) return false;
  return true;
}

export function ctState(c: Conn, reply: boolean): CtState {
  if (reply || c.status.includes('SEEN_REPLY')) return 'ESTABLISHED';
  return 'NEW';
}

export function ctView(c: Conn, reply: boolean, now: number): ConntrackView {
  const status = c.status.slice();
  if (c.confirmed) status.push('CONFIRMED');
  return {
    state: ctState(c, reply),
    reply,
    status,
    mark: c.mark,
    zone: c.zone,
    helper: c.helper,
    orig: c.orig,
    replyTuple: c.reply,
    packets: c.packets,
    bytes: c.bytes,
    // an entry not yet confirmed has no timer: the kernel reports 0 seconds left
    expires: c.confirmed ? Math.max(0, c.expires - now) : 0,
  };
}

/** `v` made again by ctView() for the same packet: the same fields, in place */
export function updateCtView(v: ConntrackView, c: Conn, reply: boolean, now: number): void {
  v.state = ctState(c, reply);
  v.reply = reply;
  // (the array is written over, and cut only when it shrinks: setting length is a call of its own)
  const status = v.status;
  let n = 0;
  for (let i = 0; i < c.status.length; i++) status[n++] = c.status[i]!;
  if (c.confirmed) status[n++] = 'CONFIRMED';
  if (status.length !== n) status.length = n;
  v.mark = c.mark;
  v.zone = c.zone;
  v.helper = c.helper;
  v.orig = c.orig;
  v.replyTuple = c.reply;
  v.packets = c.packets;
  v.bytes = c.bytes;
  v.expires = c.confirmed ? Math.max(0, c.expires - now) : 0;
}

function fromEntry(e: ConntrackEntry): Conn {
  const t = (x: ConntrackEntry['orig']): Tuple => ({ src: parseDotted(x[0])!, dst: parseDotted(x[1])!, proto: e.proto, sport: x[2], dport: x[3] });
  return {
    proto: e.proto,
    orig: t(e.orig),
    reply: t(e.reply),
    state: e.state,
    status: [...new Set(e.status)],
    mark: e.mark,
    zone: e.zone,
    expires: e.expires,
    helper: e.helper,
    confirmed: true,
    natDone: e.natUnset ? 0 : NAT_DONE_SRC | NAT_DONE_DST,
    packets: [0, 0],
    bytes: [0, 0],
  };
}

function toEntry(c: Conn): ConntrackEntry {
  const t = (x: Tuple): ConntrackEntry['orig'] => [ipToString(x.src), ipToString(x.dst), x.sport, x.dport];
  const e: ConntrackEntry = { proto: c.proto, orig: t(c.orig), reply: t(c.reply), status: c.status.slice(), mark: c.mark, zone: c.zone, expires: c.expires };
  if (c.state) e.state = c.state;
  if (c.helper) e.helper = c.helper;
  if (c.natDone === 0) e.natUnset = true;
  return e;
}
