/**
 * Many packets through one host, each classified against the lab as it was when the batch began
 * (`trace --batch`): every packet is the first of its own connection, sees the lab's conntrack
 * entries and extension state (nth counters, limit buckets, recent lists, quotas) as they are
 * stored, and leaves nothing behind: no counters, no conntrack entries, no state. Random draws
 * (statistic random rules, random NAT ports) come from the seeded generator started afresh for
 * each packet at a state made of the batch's seed and the packet's line number (lineState()): the
 * same lab and file give the same output, and a line's draws do not depend on the lines before it
 * (cutting a batch down to the line that surprised you keeps its result).
 *
 * The host stack is the one-packet trace's (./host.ts), run without per-rule events and with the
 * rule index (./rule-index.ts) built once for the whole batch.
 */
import type { TableName } from '../ruleset/tables.js';
import type { Lab } from '../net/lab.js';
import { Rng } from '../util/rng.js';
import type { Hook } from './events.js';
import { HostStack, type HostOutcome } from './host.js';
import type { ChainResult } from './netfilter.js';
import { RuleIndex } from './rule-index.js';
import { nextPacketId, processOwner, PROTO_TCP, PROTO_UDP, type Packet } from './packet.js';
import { checkArrival, explainHostOutcome, type PacketSpec } from './simulate.js';

/** a rule that ended a base chain run: a verdict (ACCEPT, DROP, REJECT, ...) or a NAT target */
export interface Decision {
  table: TableName;
  hook: Hook;
  chain: string;
  /** the rule's number in its chain (1 = first) */
  rule: number;
  target: string;
}

export interface BatchResult {
  outcome: HostOutcome;
  /** the one-packet trace's one-sentence account */
  explanation: string;
  /** the deciding rules in path order (a policy that decides shows in the outcome's reason) */
  decisions: Decision[];
  /** the answer a REJECT sent back (icmp-port-unreachable, tcp-reset, ...) */
  reject?: string;
}

export interface BatchOptions {
  /** the generator's starting state (trace --seed); default: the lab's */
  seed?: number;
  /** false: walk every rule, as the kernel does (the reference the index is tested against) */
  index?: boolean;
}

/**
 * simulate.ts buildPacket(), with every field the stack may set present from the start: V8 then
 * gives all packets one hidden class instead of one per order in which the path added fields,
 * and the engine's reads of packet fields stay monomorphic. Absent fields are undefined.
 */
export function batchPacket(spec: PacketSpec): Packet {
  const proto = spec.proto;
  return {
    id: nextPacketId(),
    nftrace: false,
    notrack: false,
    ctZone: 0,
    mark: spec.mark ?? 0,
    priority: 0,
    ttl: spec.ttl ?? 64,
    tos: spec.tos ?? 0,
    fragment: false,
    // newPacket()'s lengths: a bare TCP SYN, a UDP header, an ICMP echo
    len: spec.len ?? (proto === PROTO_TCP ? 60 : proto === PROTO_UDP ? 32 : 84),
    src: spec.src ?? 0,
    dst: spec.dst,
    proto,
    sport: spec.sport,
    dport: spec.dport,
    tcpFlags: proto === PROTO_TCP ? (spec.tcpFlags ?? 0x02) : undefined,
    tcpMss: undefined,
    icmpType: spec.icmpType,
    icmpCode: spec.icmpCode,
    payload: undefined,
    inIface: undefined,
    outIface: undefined,
    physIn: undefined,
    physOut: undefined,
    srcMac: spec.srcMac,
    pktType: undefined,
    owner: spec.uid !== undefined || spec.gid !== undefined ? { uid: spec.uid ?? 0, gid: spec.gid ?? 0 } : spec.iface === undefined ? processOwner() : undefined,
    ct: undefined,
    ipsec: undefined,
    conn: undefined,
    route: undefined,
    socketSrc: undefined,
    ttlSet: spec.ttl !== undefined ? true : undefined,
    inner: undefined,
  };
}

/**
 * The generator's state for the packet of line `line` (1, 2, ...) of a batch seeded with `seed`:
 * murmur3's 32-bit finalizer over both, so that neighbouring lines and seeds start far apart
 * (mulberry32 walks its state by a constant step: states seed + line would share draws).
 */
export function lineState(seed: number, line: number): number {
  let h = (seed ^ Math.imul(line, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export class HostBatch {
  readonly rng: Rng;
  /** the batch's seed (trace --seed, or the lab generator's state) */
  private readonly seed: number;
  private readonly stack: HostStack;
  /** this packet's copies of the lab's extension state */
  private readonly state = new Map<string, unknown>();
  private decisions: Decision[] = [];
  private reject: string | undefined;
  private outcome: HostOutcome | undefined;
  private readonly index: RuleIndex | undefined;
  private readonly ifaces: Set<string>;

  constructor(
    private readonly lab: Lab,
    private readonly hostName: string,
    opts: BatchOptions = {},
  ) {
    const host = lab.hosts[hostName]!;
    this.ifaces = new Set(host.interfaces.map((i) => i.name));
    this.seed = (opts.seed ?? lab.rng.state) >>> 0;
    this.rng = new Rng(this.seed);
    // the stack has no chooser: its random draws come from this generator, which the index may use
    this.index = opts.index === false ? undefined : new RuleIndex(this.rng, { quiet: true });
    const stored = host.extState;
    this.stack = new HostStack({
      lab,
      name: hostName,
      host,
      rng: this.rng,
      now: lab.clock ?? 0,
      emit: () => {},
      index: this.index,
      batch: {
        extState: (key, init) => {
          if (this.state.has(key)) return this.state.get(key);
          // the instance's state as the lab holds it, copied so that this packet's changes die with it
          const v = key in stored ? structuredClone(stored[key]) : init();
          this.state.set(key, v);
          return v;
        },
        peek: (key) => this.state.get(key),
        chainResult: (table, hook, res) => this.chainResult(table, hook, res),
      },
    });
  }

  private chainResult(table: TableName, hook: Hook, res: ChainResult): void {
    if (!res.rule) return;
    this.decisions.push({ table, hook, chain: res.rule.chain, rule: res.rule.num, target: res.rule.target });
    if (res.target?.reject) this.reject = res.target.reject;
  }

  /**
   * The packet of line `line` of the batch; a SimError (bad interface, a rule the engine cannot
   * run) is the caller's to report.
   */
  classify(spec: PacketSpec, line: number): BatchResult {
    const outcome = this.run(spec, line);
    const r: BatchResult = { outcome, explanation: explainHostOutcome(this.hostName, outcome), decisions: this.decisions };
    const reject = this.lastReject();
    if (reject !== undefined) r.reject = reject;
    return r;
  }

  /**
   * classify() without the result object: the outcome, with the deciding rules in lastDecisions()
   * and the REJECT answer in lastReject() until the next packet (trace --batch writes them as
   * they are; the explanation is explainHostOutcome(host, outcome))
   */
  run(spec: PacketSpec, line: number): HostOutcome {
    // (checkArrival() refuses only these; its search of the interfaces is skipped for the others)
    if (spec.iface !== undefined && (spec.src === undefined || !this.ifaces.has(spec.iface))) checkArrival(this.lab, this.hostName, spec);
    // (Map.clear() allocates a new table even when there is nothing to clear)
    if (this.state.size) this.state.clear();
    this.decisions = [];
    this.reject = undefined;
    this.stack.resetConntrack();
    this.rng.state = lineState(this.seed, line);
    const pkt = batchPacket(spec);
    return (this.outcome = spec.iface !== undefined ? this.stack.fromWire(pkt, spec.iface) : this.stack.fromSocket(pkt));
  }

  lastDecisions(): readonly Decision[] {
    return this.decisions;
  }

  /** the answer a REJECT sent, when it dropped the last packet */
  lastReject(): string | undefined {
    return this.outcome?.kind === 'drop' ? this.reject : undefined;
  }
}
