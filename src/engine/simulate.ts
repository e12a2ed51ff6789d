/**
 * Entry points of the engine: one packet on one host (issue: `trace -i ...` / from a local
 * process). The lab is changed as the kernel would be (rule counters, conntrack entries, extension
 * state, the random generator and the clock); the caller decides whether to save it.
 */
import { SimError } from '../errors.js';
import { ipToString } from '../net/ipv4.js';
import { findHost, noHostMessage, type Lab } from '../net/lab.js';
import { Rng } from '../util/rng.js';
import type { TraceEvent } from './events.js';
import { HostStack, type HostOutcome } from './host.js';
import { describePacket, newPacket, processOwner, PROTO_TCP, summarize, type Packet } from './packet.js';

export interface PacketSpec {
  /** arrives on this interface; undefined = sent by a local process */
  iface?: string;
  proto: number;
  src?: number;
  dst: number;
  sport?: number;
  dport?: number;
  tcpFlags?: number;
  icmpType?: number;
  icmpCode?: number;
  len?: number;
  ttl?: number;
  mark?: number;
  tos?: number;
  srcMac?: string;
  uid?: number;
  gid?: number;
}

export interface HostTrace {
  events: TraceEvent[];
  outcome: HostOutcome;
}

/** An engine run over a lab: shared generator and clock, saved back on `finish()`. */
export class Run {
  readonly rng: Rng;
  readonly now: number;
  readonly events: TraceEvent[] = [];
  private readonly stacks = new Map<string, HostStack>();

  constructor(
    readonly lab: Lab,
    /** forced outcomes for random draws (trace --all-paths) */
    private readonly chooser?: (probability: number) => boolean,
  ) {
    this.rng = new Rng(lab.rng.state >>> 0);
    this.now = lab.clock ?? 0;
  }

  stack(name: string): HostStack {
    let s = this.stacks.get(name);
    if (!s) {
      const host = findHost(this.lab, name);
      if (!host) throw new SimError(noHostMessage(this.lab, name), 2);
      s = new HostStack({ lab: this.lab, name, host, rng: this.rng, now: this.now, chooser: this.chooser, emit: (e) => this.events.push(e) });
      this.stacks.set(name, s);
    }
    return s;
  }

  /** every host the run has a stack for */
  allStacks(): Iterable<HostStack> {
    return this.stacks.values();
  }

  /** Writes conntrack, the generator and the clock back into the lab. */
  finish(): void {
    for (const s of this.stacks.values()) s.persist();
    this.lab.rng.state = this.rng.state;
    this.lab.clock = this.now + 1;
  }
}

export function buildPacket(spec: PacketSpec): Packet {
  const p = newPacket({
    src: spec.src ?? 0,
    dst: spec.dst,
    proto: spec.proto,
    sport: spec.sport,
    dport: spec.dport,
    tcpFlags: spec.proto === PROTO_TCP ? (spec.tcpFlags ?? 0x02) : undefined,
    icmpType: spec.icmpType,
    icmpCode: spec.icmpCode,
  });
  if (spec.len !== undefined) p.len = spec.len;
  if (spec.ttl !== undefined) {
    p.ttl = spec.ttl;
    p.ttlSet = true;
  }
  if (spec.mark !== undefined) p.mark = spec.mark;
  if (spec.tos !== undefined) p.tos = spec.tos;
  if (spec.srcMac !== undefined) p.srcMac = spec.srcMac;
  if (spec.uid !== undefined || spec.gid !== undefined) p.owner = { uid: spec.uid ?? 0, gid: spec.gid ?? 0 };
  else if (spec.iface === undefined) p.owner = processOwner();
  return p;
}

/** A packet that arrives on an interface needs that interface and a source address. */
export function checkArrival(lab: Lab, hostName: string, spec: PacketSpec): void {
  if (spec.iface === undefined) return;
  const host = lab.hosts[hostName]!;
  if (!host.interfaces.some((i) => i.name === spec.iface)) {
    throw new SimError(`${hostName} has no interface ${spec.iface} (it has ${host.interfaces.map((i) => i.name).join(', ')})`, 2);
  }
  if (spec.src === undefined) throw new SimError('a packet arriving on an interface needs a source address (-s)', 2);
}

/**
 * One packet through one host's stack; `answers`: and what the stack sends back about it, through
 * its output path (trace --batch classifies the packet alone).
 */
export function tracePacket(lab: Lab, hostName: string, spec: PacketSpec, answers = true): HostTrace {
  const run = new Run(lab);
  const stack = run.stack(hostName);
  const pkt = buildPacket(spec);
  checkArrival(lab, hostName, spec);
  run.events.push({
    kind: 'packet',
    host: hostName,
    pkt: summarize(pkt),
    note: spec.iface !== undefined ? `${describePacket(pkt)} arrives on ${spec.iface}` : `${describePacket(pkt).replace(/^(\w+) 0\.0\.0\.0/, '$1 (source chosen by routing)')} sent by a local process`,
  });
  const outcome = spec.iface !== undefined ? stack.fromWire(pkt, spec.iface) : stack.fromSocket(pkt);
  // what the host's own stack answers (REJECT's ICMP error or reset, time exceeded) leaves through
  // its OUTPUT and POSTROUTING, as in a connection's trace; where it goes from there is for --from
  if (answers && outcome.kind === 'drop') for (const answer of outcome.replies) sendAnswer(run, stack, hostName, answer);
  run.finish();
  return { events: run.events, outcome };
}

/** an answer of `host`'s stack to a packet it dropped, through its output path */
function sendAnswer(run: Run, stack: HostStack, host: string, answer: Packet): void {
  const what = describePacket(answer);
  run.events.push({ kind: 'reply', host, what: `${host} sends its answer, ${what}` });
  const o = stack.fromSocket(answer, false);
  if (o.kind === 'transmit') run.events.push({ kind: 'reply', host, what: `the answer leaves by ${o.dev} towards ${ipToString(o.nexthop)}` });
  else if (o.kind === 'deliver') run.events.push({ kind: 'reply', host, what: `the answer is for ${host} itself` });
  // (a drop says why in its own event)
  else if (o.kind === 'error') run.events.push({ kind: 'reply', host, what: `the answer does not leave: ${o.errno}, ${o.reason}` });
}

/** A one-sentence account of where the packet ended. */
export function explainHostOutcome(host: string, o: HostOutcome): string {
  switch (o.kind) {
    case 'deliver':
      return `${host} accepted the packet for local delivery to ${ipToString(o.pkt.dst)}${o.pkt.dport !== undefined ? ` port ${o.pkt.dport}` : ''}.`;
    case 'transmit':
      return `${host} sends the packet out of ${o.dev} towards ${ipToString(o.nexthop)} as ${describePacket(o.pkt)}.`;
    case 'drop':
      return `${host} dropped the packet: ${o.reason}.`;
    case 'error':
      return `the sending process on ${host} gets ${o.errno}: ${o.reason}.`;
  }
}
