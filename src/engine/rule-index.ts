/**
 * The rule index of `trace --batch`: for each chain a packet enters, the rules that can match it.
 * The kernel walks a chain's rules one by one (nft_do_chain), and so does ./netfilter.ts; the
 * index only tells that walk which rules it may pass over, so the result is the linear walk's,
 * rule for rule (test/trace-batch-index.test.ts compares them on random rule sets).
 *
 * A rule is passed over only when a test that comes before anything the rule could do fails:
 * - its frame (ip_packet_match: -s -d -i -o -p), which the walk tests before any match runs;
 * - or a destination port test (tcp/udp --dport, multiport --dports) preceded only by matches
 *   without side effects (PURE_MATCHES), so that a statistic draw, an nth counter, a limit
 *   bucket, a recent list or a quota is never passed over when its rule could have reached it.
 * A test the index does not understand leaves the rule a candidate, for the walk to test.
 *
 * The candidates come from a small decision tree per chain: a node splits its rules on one
 * field (the one that leaves the fewest candidates for any packet) into buckets by the value a
 * rule requires, and the rest (rules that do not test that field, or test it in a way a bucket
 * cannot express: negation, wildcard interface, wide port range); buckets and rest split again
 * while that pays. A packet's candidates are its buckets' merged with the rest's, in rule order.
 *
 * With the tree, each chain gets a plan: its rules' first tests packed (./rule-code.ts) and what
 * the walk needs of a matching rule (extensions, jump target) looked up once. Plans are made the
 * first time a packet enters the chain and kept for the batch; the rules must not change while
 * the index is in use (a batch reads the lab without changing it).
 */
import { findMatch, findTarget } from '../extensions/registry.js';
import type { MatchExtension, TargetExtension } from '../extensions/types.js';
import type { Rule, RuleTarget } from '../ruleset/rule.js';
import { findChain, rulesInFile, rulesOnce, type Chain, type Table } from '../ruleset/tables.js';
import type { Packet } from './packet.js';
import { ACT_RULE, CodeArena, isPort, isU32, RuleCode } from './rule-code.js';
import type { Rng } from '../util/rng.js';

/** fields a node can split on */
type Field = 'dst' | 'src' | 'in' | 'out' | 'proto' | 'dport';
const FIELDS: Field[] = ['dst', 'src', 'dport', 'in', 'out', 'proto'];

/**
 * Matches whose match() has no side effect (no extension state, no draw) and does not fail on
 * data the lab accepted: a port test after them that fails may stand for them.
 */
const PURE_MATCHES = new Set(['comment', 'tcp', 'udp', 'multiport', 'mark', 'iprange', 'icmp', 'addrtype', 'conntrack', 'state', 'pkttype', 'length', 'ttl', 'tos', 'dscp']);

/** a port range wider than this leaves the rule in the rest instead of one bucket per port */
const MAX_PORTS_PER_RULE = 64;
/** rule sets smaller than this are walked as they are */
const MIN_SPLIT = 8;
/** nested splits per path */
const MAX_DEPTH = 6;

/** rule positions (0-based) in ascending order */
type Positions = readonly number[];

interface Group {
  /** dst/src: the mask the group's rules apply before comparing; other fields: 0 */
  mask: number;
  buckets: Map<number | string, Node>;
}

interface Split {
  field: Field;
  groups: Group[];
  rest: Node;
  /**
   * one group, and the rest and every bucket leaves: each bucket holds its rules merged with the
   * rest's already (kube-proxy's KUBE-SERVICES: a bucket per service address, the rest one rule),
   * so that a lookup is one Map read, without a merged array made per packet
   */
  merged: boolean;
}

type Node = Positions | Split;

/** the values a rule requires of one field: a bucket key per group, or undefined = any (rest) */
type Need = { mask: number; keys: (number | string)[] } | undefined;

function portRange(lo: number, hi: number, out: number[]): boolean {
  if (hi < lo || out.length + hi - lo + 1 > MAX_PORTS_PER_RULE) return false;
  for (let p = lo; p <= hi; p++) out.push(p);
  return true;
}

/** the destination ports a rule requires, read from its first port test that the index may use */
function dportNeed(r: Rule): Need {
  for (const m of r.matches) {
    const d = m.data;
    if ((m.name === 'tcp' || m.name === 'udp') && d && typeof d === 'object' && Array.isArray(d.dpts)) {
      const [lo, hi] = d.dpts as unknown[];
      if (!d.invDst && isPort(lo) && isPort(hi) && !(lo === 0 && hi === 0xffff)) {
        const ports: number[] = [];
        if (portRange(lo, hi, ports)) return { mask: 0, keys: ports };
      }
    }
    if (m.name === 'multiport' && d && typeof d === 'object' && d.flags === 1 && !d.invert && Array.isArray(d.items)) {
      const ports: number[] = [];
      let ok = d.items.length > 0;
      for (const it of d.items as unknown[]) {
        if (!ok) break;
        if (!Array.isArray(it) || (it.length !== 1 && it.length !== 2) || !it.every(isPort)) ok = false;
        else ok = portRange(it[0], it.length === 2 ? it[1] : it[0], ports);
      }
      if (ok) return { mask: 0, keys: ports };
    }
    // the next match may only stand for this one if this one could not have done anything
    const ext = findMatch(m.name);
    if (!PURE_MATCHES.has(m.name) || !ext?.match) return undefined;
  }
  return undefined;
}

function needOf(r: Rule, f: Field): Need {
  switch (f) {
    case 'dst':
    case 'src': {
      const a = f === 'dst' ? r.dst : r.src;
      const inv = f === 'dst' ? r.dstInv : r.srcInv;
      if (!a || inv || !isU32(a.addr) || !isU32(a.mask) || a.mask === 0) return undefined;
      return { mask: a.mask >>> 0, keys: [a.addr >>> 0] };
    }
    case 'in':
    case 'out': {
      const name = f === 'in' ? r.in : r.out;
      const inv = f === 'in' ? r.inInv : r.outInv;
      // a trailing + is a prefix wildcard: left to the walk
      if (typeof name !== 'string' || inv || name.endsWith('+')) return undefined;
      return { mask: 0, keys: [name] };
    }
    case 'proto':
      if (!r.proto || r.protoInv || !isU32(r.proto)) return undefined;
      return { mask: 0, keys: [r.proto] };
    case 'dport':
      return dportNeed(r);
  }
}

/** the packet's value for a group of a split, as the rules of that group compare it */
function keyOf(pkt: Packet, f: Field, mask: number): number | string | undefined {
  switch (f) {
    case 'dst':
      return (pkt.dst & mask) >>> 0;
    case 'src':
      return (pkt.src & mask) >>> 0;
    case 'in':
      return pkt.inIface;
    case 'out':
      return pkt.outIface;
    case 'proto':
      return pkt.proto;
    case 'dport':
      return pkt.dport;
  }
}

interface Candidate {
  field: Field;
  groups: Map<number, Map<number | string, number[]>>;
  rest: number[];
  /** candidates a packet can get at most from this split alone */
  cost: number;
}

function trySplit(rules: readonly Rule[], pos: Positions, f: Field): Candidate {
  const groups = new Map<number, Map<number | string, number[]>>();
  const rest: number[] = [];
  for (const i of pos) {
    const need = needOf(rules[i]!, f);
    if (!need) {
      rest.push(i);
      continue;
    }
    let g = groups.get(need.mask);
    if (!g) groups.set(need.mask, (g = new Map()));
    for (const k of need.keys) {
      const b = g.get(k);
      if (b) {
        // multiport may name a port twice: the rule goes into that bucket once
        if (b[b.length - 1] !== i) b.push(i);
      } else g.set(k, [i]);
    }
  }
  let cost = rest.length;
  for (const g of groups.values()) {
    let max = 0;
    for (const b of g.values()) max = Math.max(max, b.length);
    cost += max;
  }
  return { field: f, groups, rest, cost };
}

function build(rules: readonly Rule[], pos: Positions, depth: number): Node {
  if (pos.length < MIN_SPLIT || depth >= MAX_DEPTH) return pos;
  let best: Candidate | undefined;
  for (const f of FIELDS) {
    const c = trySplit(rules, pos, f);
    if (!best || c.cost < best.cost) best = c;
  }
  // a split must at least halve what the walk looks at, or it is not worth its lookups
  if (!best || best.cost * 2 > pos.length) return pos;
  const groups: Group[] = [];
  for (const [mask, m] of best.groups) {
    const buckets = new Map<number | string, Node>();
    for (const [k, b] of m) buckets.set(k, build(rules, b, depth + 1));
    groups.push({ mask, buckets });
  }
  const rest = build(rules, best.rest, depth + 1);
  const merged = groups.length === 1 && Array.isArray(rest) && [...groups[0]!.buckets.values()].every((b) => Array.isArray(b));
  if (merged) for (const [k, b] of groups[0]!.buckets) groups[0]!.buckets.set(k, merge(rest as Positions, b as Positions));
  return { field: best.field, groups, rest, merged };
}

function merge(a: Positions, b: Positions): Positions {
  if (!a.length) return b;
  if (!b.length) return a;
  const out = new Array<number>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = a[i]! < b[j]! ? a[i++]! : b[j++]!;
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}

function lookup(n: Node, pkt: Packet): Positions {
  if (Array.isArray(n)) return n as Positions;
  const s = n as Split;
  if (s.merged) {
    // lookup() of the rest merged with the one group's bucket, done when the tree was built
    const g = s.groups[0]!;
    const k = keyOf(pkt, s.field, g.mask);
    return ((k !== undefined && g.buckets.get(k)) || s.rest) as Positions;
  }
  let out = lookup(s.rest, pkt);
  for (const g of s.groups) {
    const k = keyOf(pkt, s.field, g.mask);
    if (k === undefined) continue;
    const b = g.buckets.get(k);
    if (b) out = merge(out, lookup(b, pkt));
  }
  return out;
}

const NO_EXTS: MatchExtension[] = [];

/** What the walk needs of a rule once its packed tests pass, looked up once (one object shape). */
export interface RuleEntry {
  rule: Rule;
  matchCount: number;
  /** its match extensions in order; null when one is unknown or has no packet semantics (the walk reports it) */
  matchExts: MatchExtension[] | null;
  target: RuleTarget | undefined;
  targetExt: TargetExtension | undefined;
  /** the chain it jumps or goes to (undefined: none, or missing, which the walk reports) */
  jump: Chain | undefined;
  /** that chain's plan, made when first followed */
  jumpPlan: ChainPlan | undefined;
}

/** A chain as a batch walks it: its rules' packed tests (RuleCode) and what the walk needs besides. */
export class ChainPlan extends RuleCode {
  /** the number of rules */
  readonly size: number;
  /**
   * by position, the chain a rule jumps or goes to, for the rules whose packed action is a jump or
   * goto: looked up once when the plan is made (a big rule set's names are not free to look up)
   */
  readonly jumps: (Chain | undefined)[];

  constructor(
    /** this plan's number in its index (RuleIndex.byId()) */
    readonly id: number,
    readonly table: Table,
    readonly chain: Chain,
    /** by position; see RuleIndex.rule() for the holes forget() leaves */
    readonly rules: (Rule | undefined)[],
    /** by position, made on first use (RuleIndex.entry()) */
    readonly entries: (RuleEntry | undefined)[],
    /** candidate tree; null: walk every rule */
    readonly tree: Node | null,
    arena: CodeArena,
    rng: Rng | undefined,
  ) {
    const jumps = new Array<Chain | undefined>(rules.length);
    // a jump or goto to a chain that exists (the entry's `jump`)
    super(rules as Rule[], arena, (i) => (jumps[i] = findChain(table, (rules[i]!.target as { chain: string }).chain)) !== undefined, rng);
    this.size = rules.length;
    this.jumps = jumps;
  }

  /**
   * Lets go of the rules that are only their packed tests and a jump, goto, RETURN or nothing (a
   * walk without counters or events follows them from the plan alone): for rules decoded for this
   * plan only (RuleIndex.plan()), which nothing else holds.
   */
  forget(): void {
    for (let i = 0; i < this.size; i++) if (this.action(i) !== ACT_RULE) this.rules[i] = undefined;
  }
}

/** The index of every chain a batch walks, built on first use. */
export class RuleIndex {
  /**
   * Its walks neither count nor report events (trace --batch; runChain() refuses any other walk):
   * a plan then decodes a chain still in the lab file for itself and keeps only the rules it may
   * read (ChainPlan.forget()). Else plans read the chains' own rules, which counters count on.
   */
  readonly quiet: boolean;

  /**
   * `rng`: the generator every statistic --mode random match of the walk draws from (the walk's
   * ExtContext.draw() has no chooser), so that the packed tests may draw for it; without it they
   * leave such matches to the walk
   */
  constructor(
    private readonly rng?: Rng,
    opts: { quiet?: boolean } = {},
  ) {
    this.quiet = opts.quiet === true;
  }

  private readonly plans = new Map<Chain, ChainPlan>();
  private readonly ids: ChainPlan[] = [];
  private readonly arena = new CodeArena();
  private readonly chains = new Map<Table, Map<string, Chain | undefined>>();
  /** findMatch() by name, for the hundred thousand matches of a big rule set */
  private readonly matchExts = new Map<string, MatchExtension | undefined>();

  private matchExt(name: string): MatchExtension | undefined {
    let e = this.matchExts.get(name);
    if (e === undefined && !this.matchExts.has(name)) this.matchExts.set(name, (e = findMatch(name)));
    return e;
  }

  /** findChain() for the few names asked again and again (base chains), remembered */
  chain(table: Table, name: string): Chain | undefined {
    let m = this.chains.get(table);
    if (!m) this.chains.set(table, (m = new Map()));
    let c = m.get(name);
    if (c === undefined && !m.has(name)) m.set(name, (c = findChain(table, name)));
    return c;
  }

  /** the chain's plan, made the first time a packet enters it */
  plan(table: Table, chain: Chain): ChainPlan {
    let p = this.plans.get(chain);
    if (p) return p;
    // quiet: a chain still in the lab file is decoded for the plan without being kept in the
    // chain, so that the plan can let go of the rules it does not need to read (forget()): a
    // kube-proxy batch decodes 110,000 rules and needs a quarter of them, and the collector
    // copies (twice) and the heap grows by what is kept
    const fresh = this.quiet && rulesInFile(chain);
    const rules = fresh ? rulesOnce(chain) : chain.rules;
    let tree: Node | null = null;
    if (rules.length >= MIN_SPLIT) {
      const all = rules.map((_, i) => i);
      const t = build(rules, all, 0);
      if (t !== all) tree = t;
    }
    // (entries are made when the walk first needs one: most rules of a big rule set are followed
    // from their packed tests alone)
    p = new ChainPlan(this.ids.length, table, chain, rules, new Array<RuleEntry | undefined>(rules.length), tree, this.arena, this.rng);
    if (fresh) p.forget();
    this.ids.push(p);
    this.plans.set(chain, p);
    return p;
  }

  /**
   * rule `pos` of the plan's chain. One the plan let go of (forget()) is read from the chain, which
   * that decodes, once, and keeps there: a quiet walk reads such a rule only when a jump finds the
   * stack full or a goto loops (a hand-edited lab).
   */
  private rule(plan: ChainPlan, pos: number): Rule {
    return plan.rules[pos] ?? plan.chain.rules[pos]!;
  }

  /** what the walk needs of rule `pos` of the plan's chain */
  entry(plan: ChainPlan, pos: number): RuleEntry {
    const e = plan.entries[pos];
    if (e) return e;
    const r = this.rule(plan, pos);
    const ms = r.matches;
    // a rule whose matches are all packed never has them run from here (kube-proxy's DNAT rules)
    const packed = plan.lead(pos) === ms.length;
    let exts: MatchExtension[] | null = packed ? NO_EXTS : new Array<MatchExtension>(ms.length);
    for (let k = 0; k < ms.length && !packed; k++) {
      const x = this.matchExt(ms[k]!.name);
      if (!x?.match) {
        exts = null;
        break;
      }
      exts[k] = x;
    }
    const t = r.target;
    return (plan.entries[pos] = {
      rule: r,
      matchCount: ms.length,
      matchExts: exts,
      target: t,
      targetExt: t?.kind === 'ext' ? findTarget(t.name) : undefined,
      jump: t?.kind === 'jump' || t?.kind === 'goto' ? (plan.jumps[pos] ?? findChain(plan.table, t.chain)) : undefined,
      jumpPlan: undefined,
    });
  }

  /** the plan numbered `id` */
  byId(id: number): ChainPlan {
    return this.ids[id]!;
  }

  /** the plan of the chain that rule `pos` of `plan` jumps or goes to */
  follow(table: Table, plan: ChainPlan, pos: number): ChainPlan {
    const e = this.entry(plan, pos);
    if (e.jumpPlan) return e.jumpPlan;
    const next = (e.jumpPlan = this.plan(table, e.jump!));
    // the walk may now follow the rule without reading its entry (RuleCode.action())
    plan.setJumpPlan(pos, next.id);
    return next;
  }

  /**
   * follow() for a rule whose packed action is a jump or goto (RuleCode.action()): the target
   * chain exists, and the rule's entry is not needed to find it. Returns the target's plan id.
   */
  followRule(table: Table, plan: ChainPlan, pos: number): number {
    const e = plan.entries[pos];
    if (e) return this.follow(table, plan, pos).id;
    const next = this.plan(table, plan.jumps[pos]!);
    plan.setJumpPlan(pos, next.id);
    return next.id;
  }

  /**
   * The positions (0-based, ascending) of the rules of the plan's chain that can match `pkt` as it
   * is now; undefined when the chain is better walked rule by rule.
   */
  candidates(plan: ChainPlan, pkt: Packet): Positions | undefined {
    return plan.tree ? lookup(plan.tree, pkt) : undefined;
  }
}
