/**
 * A trace's events read as a story for the pictures: which hosts take part (in the order they
 * appear), and each transmission of the exchange (the SYN, the SYN-ACK, a reset, an ICMP error)
 * as the steps a person would draw: the wire crossings with the header as it was on the wire, the
 * NAT rewrites where they happened, and how the packet ended (a socket took it, a host dropped it,
 * the client would not have it). Also splits each transmission into host visits for the hook
 * diagrams. Pure: events in, plain data out.
 */
import type { PacketSummary, TraceEvent } from '../engine/events.js';

export type Direction = 'original' | 'reply';

/** the IP header fields the pictures print */
export interface Header {
  proto: number;
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
  flags?: string[];
  icmpType?: number;
  icmpCode?: number;
}

export type Step =
  /** the frame goes over a link (a veth pair or a switch) from one host to another */
  | { kind: 'cross'; from: string; to: string; iface: string; peerIface: string; header: Header }
  /** a locally destined packet goes round through the host's loopback device */
  | { kind: 'loopback'; host: string; header: Header }
  /**
   * a NAT rewrite (the conntrack binding applied to this packet); `rule` is the rule that chose
   * the binding, on the connection's first packet ("rule 2: -p tcp ... -j DNAT ...")
   */
  | { kind: 'rewrite'; host: string; table: string; chain: string; target: string; field: 'source' | 'destination'; before: string; after: string; rule?: string }
  | { kind: 'drop'; host: string; reason: string }
  /** a socket took the packet */
  | { kind: 'deliver'; host: string; socket: string }
  /** the packet reached the client, which has no socket expecting it */
  | { kind: 'reject'; host: string; text: string }
  /** what a host's stack does about what it got (a reset, an ICMP error) */
  | { kind: 'note'; host: string; text: string };

/** One host's share of a transmission: from arriving (or being sent) to leaving (or ending). */
export interface Visit {
  host: string;
  /** the interface it arrived on; undefined when a local process of the host sent it */
  arrivedOn?: string;
  /** the interface it left by to the next host, when it did */
  leftBy?: string;
  events: TraceEvent[];
}

export interface Transmission {
  /** 0 = the client's first packet */
  n: number;
  dir: Direction;
  /** the host whose stack sent it */
  sender: string;
  /** what the packet is, as a person says it: SYN, SYN-ACK, data, RST, echo request, ICMP port unreachable */
  what: string;
  steps: Step[];
  visits: Visit[];
  /** how it ended */
  end: 'delivered' | 'dropped' | 'rejected' | 'lost';
}

export interface ConnectionStory {
  /** every host that takes part, in the order it first appears in the trace */
  hosts: string[];
  transmissions: Transmission[];
}

export function headerOf(p: PacketSummary): Header {
  const h: Header = { proto: p.proto, src: p.src, dst: p.dst };
  if (p.sport !== undefined) h.sport = p.sport;
  if (p.dport !== undefined) h.dport = p.dport;
  if (p.flags) h.flags = [...p.flags];
  if (p.icmpType !== undefined) h.icmpType = p.icmpType;
  if (p.icmpCode !== undefined) h.icmpCode = p.icmpCode;
  return h;
}

const PORTED = new Set([6, 17, 132]);

function ported(h: Header): boolean {
  return PORTED.has(h.proto) && h.sport !== undefined;
}

export function endpointText(addr: string, port: number | undefined): string {
  return port === undefined ? addr : `${addr}:${port}`;
}

/** "192.168.1.3:40801 → 50.60.70.80:8080" */
export function addressesText(h: Header): string {
  const p = ported(h);
  return `${endpointText(h.src, p ? h.sport : undefined)} → ${endpointText(h.dst, p ? h.dport : undefined)}`;
}

const ICMP_UNREACH: Record<number, string> = {
  0: 'net unreachable',
  1: 'host unreachable',
  2: 'protocol unreachable',
  3: 'port unreachable',
  9: 'net prohibited',
  10: 'host prohibited',
  13: 'admin prohibited',
};

/** What the packet is, by its flags or ICMP type. */
export function packetName(h: Header): string {
  if (h.proto === 6) {
    const f = new Set(h.flags ?? []);
    if (f.has('RST')) return 'RST';
    if (f.has('SYN')) return f.has('ACK') ? 'SYN-ACK' : 'SYN';
    if (f.has('FIN')) return 'FIN';
    if (f.has('PSH')) return 'data';
    return f.has('ACK') ? 'ACK' : 'TCP';
  }
  if (h.proto === 17) return 'UDP';
  if (h.proto === 1) {
    if (h.icmpType === 8) return 'echo request';
    if (h.icmpType === 0) return 'echo reply';
    if (h.icmpType === 3) return `ICMP ${ICMP_UNREACH[h.icmpCode ?? 0] ?? `unreachable code ${h.icmpCode}`}`;
    if (h.icmpType === 11) return 'ICMP time exceeded';
    return `ICMP type ${h.icmpType}`;
  }
  return `proto ${h.proto}`;
}

/** "a.b.c.d:port" or "a.b.c.d" as the engine prints an endpoint */
function parseEndpoint(s: string): { addr: string; port?: number } {
  const m = /^(\d+\.\d+\.\d+\.\d+)(?::(\d+))?$/.exec(s);
  if (!m) return { addr: s };
  return m[2] === undefined ? { addr: m[1]! } : { addr: m[1]!, port: Number(m[2]) };
}

/** the header after a NAT rewrite */
function applyRewrite(h: Header, field: 'source' | 'destination', after: string): Header {
  const e = parseEndpoint(after);
  const next = { ...h };
  if (field === 'source') {
    next.src = e.addr;
    if (e.port !== undefined) next.sport = e.port;
  } else {
    next.dst = e.addr;
    if (e.port !== undefined) next.dport = e.port;
  }
  return next;
}

/** The events of each transmission, in order. Events without a tag belong to the one before. */
function groupByTransmission(events: TraceEvent[]): { n: number; dir: Direction; sent?: PacketSummary; events: TraceEvent[] }[] {
  const groups: { n: number; dir: Direction; sent?: PacketSummary; events: TraceEvent[] }[] = [];
  const byN = new Map<number, (typeof groups)[number]>();
  let last: (typeof groups)[number] | undefined;
  for (const e of events) {
    let g: (typeof groups)[number] | undefined;
    if (e.xmit) {
      g = byN.get(e.xmit.n);
      if (!g) {
        g = { n: e.xmit.n, dir: e.xmit.dir, events: [] };
        byN.set(e.xmit.n, g);
        groups.push(g);
      }
      if (e.xmit.pkt && !g.sent) g.sent = e.xmit.pkt;
    } else {
      g = last;
      if (!g) {
        // a trace without transmissions (one packet on one host): all of it is one
        g = { n: 0, dir: 'original', events: [] };
        byN.set(0, g);
        groups.push(g);
      }
    }
    g.events.push(e);
    last = g;
  }
  return groups;
}

/** every host in the order it first appears (a link's far end counts as appearing there) */
export function hostsInOrder(events: TraceEvent[]): string[] {
  const seen: string[] = [];
  const add = (h: string) => {
    if (!seen.includes(h)) seen.push(h);
  };
  for (const e of events) {
    add(e.host);
    if (e.kind === 'link') {
      add(e.from);
      add(e.to);
    }
  }
  return seen;
}

/** the header the sender handed over: from the tag, else the first header the events show */
function firstHeader(events: TraceEvent[], sent: PacketSummary | undefined): Header | undefined {
  if (sent) return headerOf(sent);
  for (const e of events) {
    if (e.kind === 'packet' || e.kind === 'hook') return headerOf(e.pkt);
    if (e.kind === 'link' && e.pkt) return headerOf(e.pkt);
  }
  return undefined;
}

/**
 * Splits a transmission's events into host visits. A visit ends where a link event hands the
 * packet to the next host; `firstArrival` says the first visit began on the wire (a one-packet
 * trace with -i).
 */
export function visitsOf(events: TraceEvent[], firstArrival?: string): Visit[] {
  const visits: Visit[] = [];
  let cur: Visit | undefined;
  for (const e of events) {
    if (!cur || (e.host !== cur.host && !cur.leftBy)) {
      cur = { host: e.host, events: [] };
      if (visits.length === 0 && firstArrival !== undefined) cur.arrivedOn = firstArrival;
      visits.push(cur);
    } else if (cur.leftBy) {
      const prev = cur.events[cur.events.length - 1];
      cur = { host: e.host, events: [] };
      if (prev?.kind === 'link') cur.arrivedOn = prev.peerIface;
      visits.push(cur);
    }
    cur.events.push(e);
    if (e.kind === 'link') cur.leftBy = e.iface;
  }
  return visits;
}

const LOOPED = /looped back/;

/** Reads a trace's events as the story the sequence diagram draws. */
export function readConnection(events: TraceEvent[]): ConnectionStory {
  const hosts = hostsInOrder(events);
  const transmissions: Transmission[] = [];
  for (const g of groupByTransmission(events)) {
    const steps: Step[] = [];
    let header = firstHeader(g.events, g.sent);
    let end: Transmission['end'] = 'lost';
    let dropped = false;
    // the nat rule whose target decided a binding, until its rewrite shows up
    let natRule: string | undefined;
    for (const e of g.events) {
      switch (e.kind) {
        case 'hook':
          natRule = undefined;
          break;
        case 'rule':
          if (e.table === 'nat' && e.verdict === 'ACCEPT') natRule = `${e.chain} rule ${e.num}: ${e.text.replace(/^-A \S+ /, '')}`;
          break;
        case 'route':
          // the source a local sender gets from routing (0.0.0.0 until then)
          if (header && e.decision === 'output' && e.src && header.src === '0.0.0.0') header = { ...header, src: e.src };
          if (header && e.decision === 'input' && e.route && LOOPED.test(e.route)) steps.push({ kind: 'loopback', host: e.host, header });
          if (!dropped && e.decision === 'input') end = 'delivered';
          break;
        case 'rewrite':
          steps.push({ kind: 'rewrite', host: e.host, table: e.table, chain: e.chain, target: e.target, field: e.field, before: e.before, after: e.after, ...(natRule ? { rule: natRule } : {}) });
          natRule = undefined;
          if (header) header = applyRewrite(header, e.field, e.after);
          break;
        case 'link':
          if (e.pkt) header = headerOf(e.pkt);
          if (header) steps.push({ kind: 'cross', from: e.from, to: e.to, iface: e.iface, peerIface: e.peerIface, header });
          end = 'lost';
          break;
        case 'drop':
          // a chain's own drop line and the stack's (jump stack exhausted) are one drop
          if (!dropped) steps.push({ kind: 'drop', host: e.host, reason: e.reason });
          dropped = true;
          end = 'dropped';
          break;
        case 'deliver':
          steps.push({ kind: 'deliver', host: e.host, socket: e.socket });
          end = 'delivered';
          break;
        case 'reply':
          if (/has no socket expecting/.test(e.what)) {
            steps.push({ kind: 'reject', host: e.host, text: e.what });
            end = 'rejected';
          } else {
            steps.push({ kind: 'note', host: e.host, text: e.what });
          }
          break;
        default:
          break;
      }
    }
    const sender = g.events[0]?.host ?? hosts[0] ?? '';
    transmissions.push({
      n: g.n,
      dir: g.dir,
      sender,
      what: header ? packetName(firstHeader(g.events, g.sent) ?? header) : 'packet',
      steps,
      visits: visitsOf(g.events),
      end,
    });
  }
  return { hosts, transmissions };
}
