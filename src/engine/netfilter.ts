/**
 * Running one table's base chain on a packet, as nf_tables does for iptables-nft rules
 * (nft_do_chain): rules in order, a rule matches when its frame (addresses, interfaces,
 * protocol, fragment) and every match accept the packet; its counters count; its target decides
 * (continue, jump/goto with a return stack, RETURN, a verdict); the base chain's policy applies
 * when the end is reached. Each step is an event.
 */
import { SimError } from '../errors.js';
import { findMatch, findTarget } from '../extensions/registry.js';
import type { MatchExtension } from '../extensions/types.js';
import { inPrefix } from '../net/ipv4.js';
import { saveRule } from '../output/rule-text.js';
import { targetName, type Rule, type RuleTarget } from '../ruleset/rule.js';
import { findChain, type Chain, type Table, type TableName } from '../ruleset/tables.js';
import { frameFails, LAZY_STRIDE, lazyRules, type LazyRules } from '../ruleset/lazy-rules.js';
import { JUMP_STACK_SIZE } from '../ruleset/jump-graph.js';
import type { Hook, TraceEvent } from './events.js';
import type { MatchContext, TargetContext, TargetResult } from './ext-api.js';
import { summarize, type Packet } from './packet.js';
import type { ChainPlan, RuleEntry, RuleIndex } from './rule-index.js';
import { ACT_GOTO, ACT_JUMP, ACT_NONE, ACT_RETURN } from './rule-code.js';


/**
 * The kernel never runs a rule set that loops (nft_chain_validate refuses it), so any loop the
 * engine meets came from a lab file edited by hand. Gotos do not grow the jump stack, so a goto
 * cycle is caught by the chains it re-enters, and anything else by this many rule evaluations in
 * one base chain run: the packet is dropped with the reason.
 */
export const RULE_EVALUATION_LIMIT = 1 << 20;

/** An extension's code failed on the data stored in a rule (a hand-edited lab file). */
function damagedRule(kind: 'match' | 'target', name: string, where: string, e: unknown): unknown {
  if (e instanceof SimError) return e;
  return new SimError(`cannot trace through ${where}: the ${name} ${kind} fails on its stored data (${(e as Error)?.message ?? String(e)}); was the lab file edited by hand? \`iptables-sim lab reset\` starts again`, 1);
}

/** A trace reached something iptables-sim stores and shows but cannot follow (exit status 3). */
export class Unmodelled extends SimError {
  constructor(message: string) {
    super(message, 3);
  }
}

/** A trace hit a rule whose extension has no packet semantics in the emulator. */
export class UnmodelledExtension extends Unmodelled {
  constructor(kind: 'match' | 'target', name: string, where: string) {
    super(`cannot trace through ${where}: the ${name} ${kind} is accepted by iptables-sim but its effect on packets is not modelled`);
  }
}

export interface ChainRunContext {
  host: string;
  table: TableName;
  hook: Hook;
  /** the extension context (state, randomness, routing views) for a given rule */
  extContext(rule: Rule, chain: string): TargetContext;
  emit(e: TraceEvent): void;
  /** rule evaluations allowed in one base chain run (default RULE_EVALUATION_LIMIT) */
  evaluationLimit?: number;
  /**
   * skip the rules that cannot match (trace --batch); the walk's result, counters and extension
   * side effects stay those of the rule-by-rule walk
   */
  index?: RuleIndex;
  /** with an index: the base chain's plan, when the caller has it at hand (else looked up by name) */
  plan?: ChainPlan;
  /** no rule, policy, return, log and note events (trace --batch reports only the deciding rules) */
  quiet?: boolean;
  /** false: rule and policy counters are left alone (a run whose lab is not saved) */
  counters?: boolean;
}

export interface ChainResult {
  verdict: 'ACCEPT' | 'DROP' | 'QUEUE';
  /** what the deciding target asked for (REJECT reply, NAT binding, ...) */
  target?: TargetResult;
  /** the rule that decided, "filter INPUT #3", or the policy */
  decidedBy: string;
  /** the deciding rule's chain, number (1 = first) and target; absent when the policy or a limit decided */
  rule?: { chain: string; num: number; target: string };
}

function ifaceMatches(name: string | undefined, pattern: string): boolean {
  if (name === undefined) return false;
  if (pattern.endsWith('+')) return name.startsWith(pattern.slice(0, -1));
  return name === pattern;
}

/** The rule's frame: ip_packet_match() */
export function frameMatches(r: Rule, pkt: Packet): boolean {
  if (r.src && inPrefix(pkt.src, r.src) === !!r.srcInv) return false;
  if (!r.src && r.srcInv) return false;
  if (r.dst && inPrefix(pkt.dst, r.dst) === !!r.dstInv) return false;
  if (!r.dst && r.dstInv) return false;
  if (r.in !== undefined && ifaceMatches(pkt.inIface, r.in) === !!r.inInv) return false;
  if (r.out !== undefined && ifaceMatches(pkt.outIface, r.out) === !!r.outInv) return false;
  if (r.proto && (pkt.proto === r.proto) === !!r.protoInv) return false;
  if (r.frag && pkt.fragment === !!r.fragInv) return false;
  return true;
}

function matchExt(name: string): MatchExtension {
  return findMatch(name)!;
}

/** Evaluates a rule's matches (after its frame). */
function matchesAll(r: Rule, pkt: Packet, ctx: MatchContext, table: string, chain: string, pos: number): boolean {
  for (const m of r.matches) {
    const ext = matchExt(m.name);
    if (!ext.match) throw new UnmodelledExtension('match', m.name, `rule ${pos + 1} of ${table} ${chain}`);
    let ok: boolean;
    try {
      ok = ext.match(m.data, pkt, ctx);
    } catch (e) {
      throw damagedRule('match', m.name, `rule ${pos + 1} of ${table} ${chain}`, e);
    }
    if (!ok) return false;
  }
  return true;
}

/** matchesAll() with the extensions looked up beforehand (a ChainPlan's) */
function matchesPlanned(r: Rule, exts: MatchExtension[], from: number, pkt: Packet, ctx: MatchContext, table: string, chain: string, pos: number): boolean {
  const ms = r.matches;
  for (let i = from; i < ms.length; i++) {
    let ok: boolean;
    try {
      ok = exts[i]!.match!(ms[i]!.data, pkt, ctx);
    } catch (e) {
      throw damagedRule('match', ms[i]!.name, `rule ${pos + 1} of ${table} ${chain}`, e);
    }
    if (!ok) return false;
  }
  return true;
}

interface Frame {
  chain: Chain;
  /** chain.rules and its length, read once per chain entered (with a plan: no rules, its length) */
  rules: Rule[];
  end: number;
  next: number;
  /**
   * chains entered by goto since this frame's jump (or the base chain): entering one again is a
   * loop; undefined until the first goto (only `chain` itself then)
   */
  entered: Set<string> | undefined;
  /** with an index: the chain's plan (tests packed, extensions and jump targets looked up once) */
  plan: ChainPlan | undefined;
  /** with an index: the positions of the rules that can match, ascending; `ci` the next one to look at */
  cands: readonly number[] | undefined;
  ci: number;
  /** without an index, a long chain still in the lab file: its rules' frames, its rules decoded one by one */
  lazy: LazyRules | undefined;
}

const NO_RULES: Rule[] = [];

/**
 * The frames of the runs in progress, reused from run to run (a batch enters millions of chains):
 * a run takes JUMP_STACK_SIZE + 1 of them from `framesTop` on, its stack being the ones below its
 * current frame, and gives them back when it returns or throws; a run that starts meanwhile (from
 * an extension) takes the ones above.
 */
const FRAMES: Frame[] = [];
let framesTop = 0;
const FRAMES_PER_RUN = JUMP_STACK_SIZE + 1;

function newFrame(): Frame {
  return { chain: undefined as unknown as Chain, rules: NO_RULES, end: 0, next: 0, entered: undefined, plan: undefined, cands: undefined, ci: 0, lazy: undefined };
}

/** frame `f` set to a chain entered (every frame has the same fields, so that the walk reads one object shape) */
function enter(f: Frame, chain: Chain, entered: Set<string> | undefined, plan: ChainPlan | undefined, index: RuleIndex | undefined, pkt: Packet): Frame {
  f.chain = chain;
  f.next = 0;
  f.entered = entered;
  f.plan = plan;
  f.ci = 0;
  if (plan) {
    // (a plan's rules are read through its index: RuleIndex.entry())
    f.rules = NO_RULES;
    f.end = plan.size;
    f.cands = index!.candidates(plan, pkt);
    f.lazy = undefined;
    return f;
  }
  f.cands = undefined;
  const lazy = lazyRules(chain);
  if (lazy) {
    f.rules = NO_RULES;
    f.end = lazy.size;
    f.lazy = lazy;
    return f;
  }
  const rules = chain.rules;
  f.rules = rules;
  f.end = rules.length;
  f.lazy = undefined;
  return f;
}

/** frame `f` set to where the base chain's policy decides: after a goto from it, or a RETURN in it */
function enterPolicy(f: Frame, base: Chain): Frame {
  const lazy = lazyRules(base);
  const rules = lazy ? NO_RULES : base.rules;
  const end = lazy ? lazy.size : rules.length;
  f.chain = base;
  f.rules = rules;
  f.end = end;
  f.next = end;
  f.entered = undefined;
  f.plan = undefined;
  f.cands = undefined;
  f.ci = 0;
  f.lazy = lazy;
  return f;
}

function ruleWhere(table: string, chain: Chain, pos: number): string {
  return `rule ${pos + 1} of ${table} ${chain.name}`;
}

/** A rule that ended the run; decidedBy (ruleWhere()) is written only when read (a batch reads it for drops only). */
class RuleDecision implements ChainResult {
  readonly rule: { chain: string; num: number; target: string };

  constructor(
    readonly verdict: ChainResult['verdict'],
    private readonly table: string,
    chain: Chain,
    pos: number,
    t: RuleTarget,
    readonly target?: TargetResult,
  ) {
    this.rule = { chain: chain.name, num: pos + 1, target: targetName(t) };
  }

  get decidedBy(): string {
    return `rule ${this.rule.num} of ${this.table} ${this.rule.chain}`;
  }
}

/** The base chain's policy decided. */
class PolicyDecision implements ChainResult {
  constructor(
    readonly verdict: ChainResult['verdict'],
    private readonly table: string,
    private readonly chain: string,
  ) {}

  get decidedBy(): string {
    return `${this.table} ${this.chain} policy`;
  }
}

/** The events of one base chain run (not made at all in a quiet run). */
class ChainEvents {
  // nf_tables dumps the packet's headers with the first traced event of each base chain run
  private dumped = false;

  constructor(
    private readonly rc: ChainRunContext,
    private readonly pkt: Packet,
  ) {}

  emit(e: TraceEvent): void {
    if (this.pkt.nftrace && !this.dumped) {
      e.dump = summarize(this.pkt);
      this.dumped = true;
    }
    this.rc.emit(e);
  }

  rule(chain: Chain, pos: number, r: Rule, verdict: string): void {
    const rc = this.rc;
    this.emit({ kind: 'rule', host: rc.host, nftrace: this.pkt.nftrace, table: rc.table, chain: chain.name, num: pos + 1, handle: r.handle ?? 0, text: saveRule(r, rc.table, chain.name), verdict });
  }
}

function limitReached(rc: ChainRunContext, base: Chain, limit: number): ChainResult {
  rc.emit({ kind: 'drop', host: rc.host, reason: `rule evaluation limit reached (${limit} rules in one run of ${rc.table} ${base.name}): the rules loop or nest beyond what nf_tables accepts (a hand-edited lab file?)` });
  return { verdict: 'DROP', decidedBy: `${rc.table} ${base.name}: rule evaluation limit` };
}

/**
 * Runs `table`'s base chain `chainName` (it must exist in nf_tables; callers check). Counts
 * packets and bytes on rules and on the policy. With `rc.index` (trace --batch) the walk looks
 * only at the rules that can match and reads their tests from the chain's plan; what it decides,
 * counts and sets off is the same as rule by rule (test/trace-batch-index.test.ts).
 */
export function runChain(table: Table, chainName: string, pkt: Packet, rc: ChainRunContext): ChainResult {
  const first = framesTop;
  framesTop = first + FRAMES_PER_RUN;
  while (FRAMES.length < framesTop) FRAMES.push(newFrame());
  try {
    return walk(table, chainName, pkt, rc, first);
  } finally {
    // the frames are left as they are (the next run sets every field it reads)
    framesTop = first;
  }
}

function walk(table: Table, chainName: string, pkt: Packet, rc: ChainRunContext, first: number): ChainResult {
  const index = rc.index;
  const basePlan = index && (rc.plan ?? index.plan(table, index.chain(table, chainName)!));
  const base = basePlan ? basePlan.chain : findChain(table, chainName)!;
  // the jump stack: frames [first, first + depth), the current one at first + depth
  let depth = 0;
  const events = rc.quiet ? undefined : new ChainEvents(rc, pkt);
  const counting = rc.counters !== false;
  // a quiet index's plans may hold rules that are not the chains' own, or none
  if (index?.quiet && (counting || events)) throw new Error('a walk that counts or reports events was given a quiet rule index');
  // neither counters nor events: rules that are only packed tests and a jump need not be read
  const fast = !counting && !events;
  let cur = enter(FRAMES[first]!, base, undefined, basePlan, index, pkt);
  let evaluations = 0;
  const limit = rc.evaluationLimit ?? RULE_EVALUATION_LIMIT;
  for (;;) {
    const chain = cur.chain;
    const cands = cur.cands;
    if (cands) {
      // the rules the index passes over are rules whose frame fails: the linear walk would only
      // have counted them as evaluations
      let ci = cur.ci;
      while (ci < cands.length && cands[ci]! < cur.next) ci++;
      cur.ci = ci;
      const k = ci < cands.length ? cands[ci]! : cur.end;
      if (k > cur.next) {
        if (evaluations + (k - cur.next) > limit) return limitReached(rc, base, limit);
        evaluations += k - cur.next;
        cur.next = k;
      }
    }
    if (cur.next >= cur.end) {
      if (chain === base) {
        if (counting) {
          base.pkts += 1;
          base.bytes += pkt.len;
        }
        events?.emit({ kind: 'policy', host: rc.host, nftrace: pkt.nftrace, table: rc.table, chain: base.name, policy: base.policy! });
        return new PolicyDecision(base.policy!, rc.table, base.name);
      }
      // the end of a user chain: back to the rule after the jump (after a goto from the base
      // chain there is nothing to go back to, and the base chain's policy applies)
      if (depth > 0) {
        const back = FRAMES[first + --depth]!;
        events?.emit({ kind: 'return', host: rc.host, nftrace: pkt.nftrace, table: rc.table, chain: chain.name, to: back.chain.name });
        cur = back;
      } else cur = enterPolicy(cur, base);
      continue;
    }
    if (++evaluations > limit) return limitReached(rc, base, limit);
    const pos = cur.next++;
    const plan = cur.plan;
    let r: Rule;
    let entry: RuleEntry | undefined;
    // the matches the plan's packed tests have already run
    let from = 0;
    if (plan) {
      // the rule itself is read only once its packed tests pass
      const packed = plan.test(pos, pkt);
      if (packed === false) continue;
      if (packed && fast) {
        // a rule that is only its packed tests and a jump, goto, RETURN or nothing: followed from
        // the plan alone (what the code below does with it, without counters and events)
        const act = plan.action(pos);
        if (act === ACT_NONE) continue;
        if (act === ACT_RETURN) {
          if (chain === base) cur.next = cur.end;
          else cur = depth > 0 ? FRAMES[first + --depth]! : enterPolicy(cur, base);
          continue;
        }
        if (act === ACT_JUMP || act === ACT_GOTO) {
          // (the first time, the target's plan is made here: no entry is needed for the rule)
          let id = plan.jumpPlan(pos);
          if (id < 0) id = index!.followRule(table, plan, pos);
          const next = index!.byId(id);
          const target = next.chain;
          if (act === ACT_JUMP) {
            if (depth + 1 < JUMP_STACK_SIZE) {
              cur = enter(FRAMES[first + ++depth]!, target, undefined, next, index, pkt);
              continue;
            }
          } else if (!(cur.entered ? cur.entered.has(target.name) : target === chain)) {
            const entered = cur.entered ?? new Set([chain.name]);
            entered.add(target.name);
            cur = enter(cur, target, entered, next, index, pkt);
            continue;
          }
          // a full stack or a goto loop: the rule's own way below reports it
        }
      }
      entry = index!.entry(plan, pos);
      r = entry.rule;
      if (packed) from = plan.lead(pos);
      else if (!frameMatches(r, pkt)) continue;
    } else if (cur.lazy) {
      // a frame that fails is all the walk below would have found: the rule is not even decoded
      if (frameFails(cur.lazy.frames, pos * LAZY_STRIDE + 2, pkt.src, pkt.dst, pkt.proto)) continue;
      r = cur.lazy.rule(pos);
      if (!frameMatches(r, pkt)) continue;
    } else {
      r = cur.rules[pos]!;
      if (!frameMatches(r, pkt)) continue;
    }
    let ctx: TargetContext | undefined;
    if ((entry ? entry.matchCount : r.matches.length) > from) {
      ctx = rc.extContext(r, chain.name);
      const exts = entry?.matchExts;
      if (!(exts ? matchesPlanned(r, exts, from, pkt, ctx, rc.table, chain.name, pos) : matchesAll(r, pkt, ctx, rc.table, chain.name, pos))) continue;
    }
    if (counting) {
      r.pkts += 1;
      r.bytes += pkt.len;
    }
    const t = entry ? entry.target : r.target;
    if (!t) {
      events?.rule(chain, pos, r, 'CONTINUE');
      continue;
    }
    if (t.kind === 'verdict') {
      if (t.verdict === 'RETURN') {
        events?.rule(chain, pos, r, 'RETURN');
        if (chain === base) {
          // RETURN in a base chain: the policy decides
          cur.next = cur.end;
          continue;
        }
        cur = depth > 0 ? FRAMES[first + --depth]! : enterPolicy(cur, base);
        continue;
      }
      events?.rule(chain, pos, r, t.verdict);
      if (t.verdict === 'QUEUE') return new RuleDecision('DROP', rc.table, chain, pos, t);
      return new RuleDecision(t.verdict, rc.table, chain, pos, t);
    }
    if (t.kind === 'jump' || t.kind === 'goto') {
      events?.rule(chain, pos, r, `${t.kind === 'jump' ? 'JUMP' : 'GOTO'}:${t.chain}`);
      const target = entry ? entry.jump : findChain(table, t.chain);
      if (!target) throw new SimError(`${ruleWhere(rc.table, chain, pos)} jumps to missing chain ${t.chain}`, 3);
      const next = plan ? index!.follow(table, plan, pos) : undefined;
      if (t.kind === 'jump') {
        if (depth + 1 >= JUMP_STACK_SIZE) {
          rc.emit({ kind: 'drop', host: rc.host, reason: `jump stack exhausted (more than ${JUMP_STACK_SIZE} nested chains)` });
          return { verdict: 'DROP', decidedBy: ruleWhere(rc.table, chain, pos), rule: { chain: chain.name, num: pos + 1, target: targetName(t) } };
        }
        cur = enter(FRAMES[first + ++depth]!, target, undefined, next, index, pkt);
        continue;
      }
      if (cur.entered ? cur.entered.has(target.name) : target === chain) {
        rc.emit({ kind: 'drop', host: rc.host, reason: `goto loop: chain ${target.name} entered again through gotos without returning (the rules loop, which nf_tables never accepts; a hand-edited lab file?)` });
        return { verdict: 'DROP', decidedBy: ruleWhere(rc.table, chain, pos), rule: { chain: chain.name, num: pos + 1, target: targetName(t) } };
      }
      const entered = cur.entered ?? new Set([chain.name]);
      entered.add(target.name);
      cur = enter(cur, target, entered, next, index, pkt);
      continue;
    }
    const ext = entry?.targetExt ?? findTarget(t.name)!;
    if (!ext.apply) throw new UnmodelledExtension('target', t.name, ruleWhere(rc.table, chain, pos));
    // the fields the index chose candidates by, to notice a target that rewrites one
    const { src, dst, proto, dport, inIface, outIface } = pkt;
    let res: TargetResult;
    try {
      res = ext.apply(t.data, pkt, (ctx ??= rc.extContext(r, chain.name)));
    } catch (e) {
      throw damagedRule('target', t.name, ruleWhere(rc.table, chain, pos), e);
    }
    if (res.trace) pkt.nftrace = true;
    // CT / NOTRACK attach their conntrack template to the packet at once
    if (res.ct?.notrack) pkt.notrack = true;
    if (res.ct?.zone !== undefined) pkt.ctZone = res.ct.zone;
    if (index && (pkt.src !== src || pkt.dst !== dst || pkt.proto !== proto || pkt.dport !== dport || pkt.inIface !== inIface || pkt.outIface !== outIface)) {
      // choose the candidates again for every chain still to be walked, from where each stands
      for (let i = first; i <= first + depth; i++) {
        const f = FRAMES[i]!;
        f.cands = f.plan && index.candidates(f.plan, pkt);
        f.ci = 0;
      }
    }
    switch (res.verdict) {
      case 'CONTINUE':
        events?.rule(chain, pos, r, 'CONTINUE');
        // (a quiet run's events go nowhere: its notes are not even written)
        if (!rc.quiet) {
          if (res.log) rc.emit({ kind: 'log', host: rc.host, text: `${res.log.kind}: ${res.log.prefix}` });
          if (res.note) rc.emit({ kind: 'note', host: rc.host, text: res.note });
        }
        continue;
      case 'RETURN':
        events?.rule(chain, pos, r, 'RETURN');
        if (chain === base) {
          cur.next = cur.end;
          continue;
        }
        cur = depth > 0 ? FRAMES[first + --depth]! : enterPolicy(cur, base);
        continue;
      case 'QUEUE':
        events?.rule(chain, pos, r, 'QUEUE');
        return new RuleDecision('QUEUE', rc.table, chain, pos, t, res);
      default:
        events?.rule(chain, pos, r, res.verdict);
        return new RuleDecision(res.verdict, rc.table, chain, pos, t, res);
    }
  }
}
