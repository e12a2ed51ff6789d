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
import type { Rule } from '../ruleset/rule.js';
import { findChain, type Chain, type Table, type TableName } from '../ruleset/tables.js';
import { JUMP_STACK_SIZE } from '../ruleset/jump-graph.js';
import type { Hook, TraceEvent } from './events.js';
import type { MatchContext, TargetContext, TargetResult } from './ext-api.js';
import { summarize, type Packet } from './packet.js';


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

/** A trace hit a rule whose extension has no packet semantics in the emulator. */
export class UnmodelledExtension extends SimError {
  constructor(kind: 'match' | 'target', name: string, where: string) {
    super(`cannot trace through ${where}: the ${name} ${kind} is accepted by iptables-sim but its effect on packets is not modelled`, 3);
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
}

export interface ChainResult {
  verdict: 'ACCEPT' | 'DROP' | 'QUEUE';
  /** what the deciding target asked for (REJECT reply, NAT binding, ...) */
  target?: TargetResult;
  /** the rule that decided, "filter INPUT #3", or the policy */
  decidedBy: string;
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
function matchesAll(r: Rule, pkt: Packet, ctx: MatchContext, where: string): boolean {
  for (const m of r.matches) {
    const ext = matchExt(m.name);
    if (!ext.match) throw new UnmodelledExtension('match', m.name, where);
    let ok: boolean;
    try {
      ok = ext.match(m.data, pkt, ctx);
    } catch (e) {
      throw damagedRule('match', m.name, where, e);
    }
    if (!ok) return false;
  }
  return true;
}

interface Frame {
  chain: Chain;
  next: number;
  /** chains entered by goto since this frame's jump (or the base chain): entering one again is a loop */
  entered: Set<string>;
}

/**
 * Runs `table`'s base chain `chainName` (it must exist in nf_tables; callers check). Counts
 * packets and bytes on rules and on the policy.
 */
export function runChain(table: Table, chainName: string, pkt: Packet, rc: ChainRunContext): ChainResult {
  const base = findChain(table, chainName)!;
  const stack: Frame[] = [];
  let cur: Frame = { chain: base, next: 0, entered: new Set([base.name]) };
  let evaluations = 0;
  const limit = rc.evaluationLimit ?? RULE_EVALUATION_LIMIT;
  // nf_tables dumps the packet's headers with the first traced event of each base chain run
  let dumped = false;
  const emit = (e: TraceEvent): void => {
    if (pkt.nftrace && !dumped) {
      e.dump = summarize(pkt);
      dumped = true;
    }
    rc.emit(e);
  };
  const ev = (e: Omit<Extract<TraceEvent, { kind: 'rule' }>, 'host' | 'nftrace' | 'kind'>) =>
    emit({ kind: 'rule', host: rc.host, nftrace: pkt.nftrace, ...e });
  for (;;) {
    const chain = cur.chain;
    if (cur.next >= chain.rules.length) {
      if (chain === base) {
        base.pkts += 1;
        base.bytes += pkt.len;
        emit({ kind: 'policy', host: rc.host, nftrace: pkt.nftrace, table: rc.table, chain: base.name, policy: base.policy! });
        return { verdict: base.policy!, decidedBy: `${rc.table} ${base.name} policy` };
      }
      // the end of a user chain: back to the rule after the jump (after a goto from the base
      // chain there is nothing to go back to, and the base chain's policy applies)
      const back = stack.pop();
      if (back) emit({ kind: 'return', host: rc.host, nftrace: pkt.nftrace, table: rc.table, chain: chain.name, to: back.chain.name });
      cur = back ?? { chain: base, next: base.rules.length, entered: new Set() };
      continue;
    }
    if (++evaluations > limit) {
      rc.emit({ kind: 'drop', host: rc.host, reason: `rule evaluation limit reached (${limit} rules in one run of ${rc.table} ${base.name}): the rules loop or nest beyond what nf_tables accepts (a hand-edited lab file?)` });
      return { verdict: 'DROP', decidedBy: `${rc.table} ${base.name}: rule evaluation limit` };
    }
    const index = cur.next++;
    const r = chain.rules[index]!;
    if (!frameMatches(r, pkt)) continue;
    const where = `rule ${index + 1} of ${rc.table} ${chain.name}`;
    const ctx = rc.extContext(r, chain.name);
    if (!matchesAll(r, pkt, ctx, where)) continue;
    r.pkts += 1;
    r.bytes += pkt.len;
    const text = saveRule(r, rc.table, chain.name);
    const common = { table: rc.table, chain: chain.name, num: index + 1, handle: r.handle ?? 0, text };
    const t = r.target;
    if (!t) {
      ev({ ...common, verdict: 'CONTINUE' });
      continue;
    }
    if (t.kind === 'verdict') {
      if (t.verdict === 'RETURN') {
        ev({ ...common, verdict: 'RETURN' });
        if (chain === base) {
          // RETURN in a base chain: the policy decides
          cur.next = chain.rules.length;
          continue;
        }
        cur = stack.pop() ?? { chain: base, next: base.rules.length, entered: new Set() };
        continue;
      }
      ev({ ...common, verdict: t.verdict });
      if (t.verdict === 'QUEUE') return { verdict: 'DROP', decidedBy: where };
      return { verdict: t.verdict, decidedBy: where };
    }
    if (t.kind === 'jump' || t.kind === 'goto') {
      ev({ ...common, verdict: `${t.kind === 'jump' ? 'JUMP' : 'GOTO'}:${t.chain}` });
      const target = findChain(table, t.chain);
      if (!target) throw new SimError(`${where} jumps to missing chain ${t.chain}`, 3);
      if (t.kind === 'jump') {
        if (stack.length + 1 >= JUMP_STACK_SIZE) {
          rc.emit({ kind: 'drop', host: rc.host, reason: `jump stack exhausted (more than ${JUMP_STACK_SIZE} nested chains)` });
          return { verdict: 'DROP', decidedBy: where };
        }
        stack.push(cur);
        cur = { chain: target, next: 0, entered: new Set([target.name]) };
        continue;
      }
      if (cur.entered.has(target.name)) {
        rc.emit({ kind: 'drop', host: rc.host, reason: `goto loop: chain ${target.name} entered again through gotos without returning (the rules loop, which nf_tables never accepts; a hand-edited lab file?)` });
        return { verdict: 'DROP', decidedBy: where };
      }
      cur.entered.add(target.name);
      cur = { chain: target, next: 0, entered: cur.entered };
      continue;
    }
    const ext = findTarget(t.name)!;
    if (!ext.apply) throw new UnmodelledExtension('target', t.name, where);
    let res: TargetResult;
    try {
      res = ext.apply(t.data, pkt, ctx);
    } catch (e) {
      throw damagedRule('target', t.name, where, e);
    }
    if (res.trace) pkt.nftrace = true;
    // CT / NOTRACK attach their conntrack template to the packet at once
    if (res.ct?.notrack) pkt.notrack = true;
    if (res.ct?.zone !== undefined) pkt.ctZone = res.ct.zone;
    switch (res.verdict) {
      case 'CONTINUE':
        ev({ ...common, verdict: 'CONTINUE' });
        if (res.log) rc.emit({ kind: 'log', host: rc.host, text: `${res.log.kind}: ${res.log.prefix}` });
        if (res.note) rc.emit({ kind: 'note', host: rc.host, text: res.note });
        continue;
      case 'RETURN':
        ev({ ...common, verdict: 'RETURN' });
        if (chain === base) {
          cur.next = chain.rules.length;
          continue;
        }
        cur = stack.pop() ?? { chain: base, next: base.rules.length, entered: new Set() };
        continue;
      case 'QUEUE':
        ev({ ...common, verdict: 'QUEUE' });
        return { verdict: 'QUEUE', target: res, decidedBy: where };
      default:
        ev({ ...common, verdict: res.verdict });
        return { verdict: res.verdict, target: res, decidedBy: where };
    }
  }
}
