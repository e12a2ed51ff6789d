/**
 * Carrying out a parsed iptables command on one host's tables (do_commandx and the nft_cmd_*
 * functions behind it). Checks and messages are those of iptables 1.8.9 with nf_tables, including
 * which base chains a command brings into existence. Works on the tables in place: callers run it
 * on a copy and keep the copy only when the command succeeded.
 */
import { Exit, XtablesError, paramProblem } from '../errors.js';
import { findMatch, findTarget, type Family } from '../extensions/registry.js';
import type { Extension, RuleFrame } from '../extensions/types.js';
import { listChains, listOneRule, listRulesText, chainsInOrder, TextOut } from '../output/listing.js';
import { printRuleVerbose, ruleFrame, saveRuleSpec } from '../output/rule-text.js';
import { CMD, type KernelView, type ParsedCommand } from './command-parse.js';
import { nftRoundTrip } from './nft-compat.js';
import type { Rule } from './rule.js';
import { jumpsOf, jumpTarget, targetName } from './rule.js';
import { forgetGraph, JumpGraph, JUMP_STACK_SIZE, loosenGraph, type GraphPlan } from './jump-graph.js';
import {
  addChain,
  allocHandle,
  chainsMayName,
  chainRenamed,
  deleteChain,
  findChain,
  findRule,
  insertRules,
  isBuiltin,
  isTableName,
  newTable,
  referenceCount,
  referenceCounts,
  removeRule,
  ruleAt,
  ruleCount,
  rulesCountNothing,
  userChainsSorted,
  type Chain,
  type Table,
  type TableName,
  type Tables,
} from './tables.js';

/**
 * A refusal reported after the nf_tables transaction, printed as "iptables: <message>." (exit 1),
 * e.g. "Bad rule (does a matching rule exist in that chain?)".
 */
export class NftError extends Error {
  constructor(
    message: string,
    /** EINVAL adds " Run `dmesg' for more information." */
    readonly einval = false,
  ) {
    super(message);
  }
}

const ENOENT = 'No chain/target/match by that name';
const BAD_RULE = 'Bad rule (does a matching rule exist in that chain?)';

/**
 * nft_fn: the nft_* function that last named itself in the process, by which nft_strerror() words
 * an errno. -Z of a chain nf_tables does not hold fails in nft_chain_zero_counters(), which names
 * none, so its ENOENT reads as whatever came before left it: a built-in chain's line or -P
 * (nft_chain_set) "Bad built-in chain name", -D RULE, -C or -Z CHAIN N of a rule that is not there
 * (nft_rule_delete, nft_rule_check) "Bad rule ..."; -L, -S and -Z leave it (measured:
 * fixtures/cli/restore-errmsg.case, also across tables). One per iptables or iptables-restore run.
 */
export type NftFn = 'chain_set' | 'rule_delete' | 'rule_check' | 'other';
export interface NftFnState {
  last?: NftFn;
}
const ENOENT_AFTER: Partial<Record<NftFn, string>> = { chain_set: 'Bad built-in chain name', rule_delete: BAD_RULE, rule_check: BAD_RULE };
const enoentAfter = (fn: NftFnState): string => (fn.last && ENOENT_AFTER[fn.last]) ?? ENOENT;

/** the nft_fn each command leaves (those that leave it as it was are not here) */
function nftFnOf(command: number): NftFn | undefined {
  if (command === CMD.DELETE) return 'rule_delete';
  if (command === CMD.CHECK) return 'rule_check';
  if (command === CMD.SET_POLICY) return 'chain_set';
  if (command & (CMD.LIST | CMD.LIST_RULES) || command === CMD.ZERO) return undefined;
  return 'other';
}

/**
 * The kernel refused the nf_tables batch. iptables only relays the errno
 * (" RULE_APPEND failed (Invalid argument): rule in chain X", exit 4); where it is opaque the
 * emulator adds `why`: what is wrong and where it is allowed.
 */
export class KernelRefusal extends Error {
  constructor(
    readonly op: string,
    readonly errText: string,
    readonly what: string,
    readonly why?: string,
    /**
     * 'validate': found by nft_table_validate() over the whole table (hooks through jumps, jump
     * depth, loops) after the rule was added to the transaction; the rule stays in it, so every
     * later rule of the same iptables-restore table fails the same way (measured).
     * 'init': the rule's own expressions refused it; it never entered the transaction.
     */
    readonly phase: 'init' | 'validate' = 'init',
  ) {
    super(`${op} failed (${errText}): ${what}`);
  }
}

function commitFailed(op: string, errText: string, what: string): KernelRefusal {
  return new KernelRefusal(op, errText, what);
}

function ensureTable(tables: Tables, name: TableName): Table {
  return (tables[name] ??= newTable(name));
}

/** JSON with sorted keys, so data built from options given in any order compares equal */
function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * A rule's identity for -D and -C. iptables-nft compares the rule frame and then each match's
 * and the target's data (memcmp over the extension's userspacesize), not the printed form: two
 * rules that print the same can differ, and an extension can say what part of its data counts.
 */
export function ruleKey(rule: Rule, table: string, chain: string): string {
  let key = saveRuleSpec({ ...rule, src6: undefined, dst6: undefined, matches: [], target: undefined }, table, chain);
  // nft_ipv6_is_same() of iptables 1.8.9 compares the (masked) addresses but not the masks: -C
  // and -D with `-s 2001:db8::/33` find a rule `-s 2001:db8::/32`, and :: stands for no -s
  // (measured, fixtures/cli/ip6tables.case)
  if (rule.src6 && rule.src6.addr !== '::') key += `|s6:${rule.src6.addr}`;
  if (rule.dst6 && rule.dst6.addr !== '::') key += `|d6:${rule.dst6.addr}`;
  for (const m of rule.matches) {
    const ext = findMatch(m.name)!;
    key += `|m:${m.name}:${stableJson(ext.compareKey ? ext.compareKey(m.data) : m.data)}`;
  }
  const t = rule.target;
  if (t?.kind === 'ext') {
    const ext = findTarget(t.name)!;
    key += `|t:${t.name}:${stableJson(ext.compareKey ? ext.compareKey(t.data) : t.data)}`;
  } else if (t) {
    key += `|${t.kind}:${t.kind === 'verdict' ? t.verdict : t.chain}`;
  }
  return key;
}

/**
 * The parts of ruleKey() that are cheap to compare: the match names in order and the target. Rules
 * that differ in them have different keys (a key holds them as they are), so -C and -D on a chain
 * of 10,000 kube-proxy rules make the key of the few rules left.
 */
function sameShape(a: Rule, b: Rule): boolean {
  if (a.matches.length !== b.matches.length || a.target?.kind !== b.target?.kind || targetName(a.target) !== targetName(b.target)) return false;
  for (let i = 0; i < a.matches.length; i++) if (a.matches[i]!.name !== b.matches[i]!.name) return false;
  return true;
}

/** nft_chain_find() with iptables' fake built-in chains: built-ins of a known table always "exist" */
export function lookupChain(tables: Tables, table: TableName, name: string): Chain | undefined {
  const t = tables[table];
  if (t) return findChain(t, name);
  return isBuiltin(table, name) ? newTable(table).chains.find((c) => c.name === name) : undefined;
}

/** nft_prepare(): a jump to a chain that does not exist (a parameter problem, exit 2) */
export class JumpTargetMissing extends XtablesError {
  constructor(chain: string) {
    super(Exit.PARAMETER_PROBLEM, `Chain '${chain}' does not exist`);
  }
}

function checkJumpTargets(tables: Tables, table: TableName, rules: Rule[]): void {
  for (const r of rules) {
    const j = jumpTarget(r);
    if (j === undefined) continue;
    const c = tables[table] && findChain(tables[table], j);
    if (!c || isBuiltin(table, j)) throw new JumpTargetMissing(j);
  }
}

/** What a checkentry function says: nothing, the reason (EINVAL), or an errno and a reason. */
export type KernelVerdict = string | { errno: string; why: string } | undefined;

/**
 * The kernel's view of one rule for the hooks its chain is reached from: each extension's
 * declared .table and .hooks (xt_check_match/xt_check_target and, for chains reached by jumps,
 * nft_chain_validate), and at insertion the extension's own checkentry for the chain's own hook.
 */
function checkRule(
  table: TableName,
  chain: string,
  r: Rule,
  hooks: string[],
  fail: (v: KernelVerdict) => never,
  checkentry: boolean,
  /** a base chain's own hook is checked when the rule is built; hooks reached through jumps when the table is validated */
  failHooks: (v: KernelVerdict) => never = fail,
  family?: Family,
  view?: KernelView,
): void {
  // (the rule's frame and its chain's own hook are made only for an extension that asks: this runs
  // for every rule added)
  let frame: RuleFrame | undefined;
  let own: string[] | undefined;
  const check = (name: string, ext: Extension, data: unknown): void => {
    // nft_compat finds no xt extension of that name: the expression's init fails with ENOENT
    if (checkentry && ext.missingKernelModule) fail({ errno: 'No such file or directory', why: ext.missingKernelModule });
    if (ext.kind === 'target' && ext.tables && !ext.tables.includes(table)) {
      fail(`${name} is only valid in the ${ext.tables.join(' or ')} table${ext.tables.length > 1 ? 's' : ''}, not in ${table}`);
    }
    const bad = ext.hooks && hooks.find((h) => !ext.hooks!.includes(h));
    if (bad) {
      const what = ext.kind === 'match' ? `the ${name} match` : name;
      failHooks(`${what} is only valid in ${ext.hooks!.join(', ')} (and chains called from there), but ${chain === bad ? `not in ${chain}` : `chain ${chain} is reached from ${bad}`}`);
    }
    if (checkentry && ext.kernelCheck) {
      frame ??= ruleFrame(r, table, chain, family);
      own ??= isBuiltin(table, chain) ? [chain] : [];
      const v = ext.kernelCheck(data, { table, hooks: own, frame, ...view });
      if (v) fail(v);
    }
  };
  for (const m of r.matches) check(m.name, findMatch(m.name)!, m.data);
  const t = r.target;
  if (t?.kind === 'ext') check(t.name, findTarget(t.name)!, t.data);
}

/** every chain reached from `from` through jumps and gotos, `from` included */
function reachable(t: Table, from: Chain): Chain[] {
  const seen = new Map<string, Chain>();
  const stack = [from];
  while (stack.length) {
    const c = stack.pop()!;
    if (seen.has(c.name)) continue;
    seen.set(c.name, c);
    for (const r of c.rules) {
      const j = jumpTarget(r);
      const next = j === undefined ? undefined : findChain(t, j);
      if (next) stack.push(next);
    }
  }
  return [...seen.values()];
}

/**
 * Whether checking `rules` added to `chain` needs the table's jump graph: a rule jumps (the reach
 * of chains grows, loops and depth), or the chain is a user chain and an extension of a rule is
 * restricted to some hooks (which base chains reach it). Otherwise the hooks are the chain's own.
 */
function needsGraph(table: TableName, chain: string, rules: Rule[]): boolean {
  const builtin = isBuiltin(table, chain);
  for (const r of rules) {
    if (jumpTarget(r) !== undefined) return true;
    if (builtin) continue;
    for (const m of r.matches) if (findMatch(m.name)?.hooks) return true;
    if (r.target?.kind === 'ext' && findTarget(r.target.name)?.hooks) return true;
  }
  return false;
}

/** where a command puts its rules in their chain: before rule `at` (0-based), replacing it or not */
interface Placing {
  at: number;
  replaces: boolean;
}

/**
 * The kernel's checks when the batch commits: the new rules against the hooks their chain is
 * reached from, and, when a new rule jumps, every rule it makes reachable against those hooks
 * (nft_chain_validate: a restriction inside a user chain can make the jump to it fail). Refusals
 * are blamed on the rule being added, as iptables reports them. `found`: the chain as lookupChain()
 * found it (the table's own when the table exists).
 */
function checkKernel(tables: Tables, table: TableName, found: Chain, rules: Rule[], op: string, family: Family, placing: Placing, view: KernelView = {}): GraphPlan | undefined {
  const t = tables[table];
  const over = (): boolean => t !== undefined && JumpGraph.known(t)?.over === true;
  try {
    // a graph that may say more than the table (jumps were removed) refused, or found a path too
    // deep, where its plan stops short: ask one built from the table itself
    try {
      const plan = checkKernelWith(tables, table, found, rules, op, family, view);
      if (!plan?.tooDeep || !over()) return plan;
    } catch (e) {
      if (!(e instanceof KernelRefusal) || !over()) throw e;
    }
    forgetGraph(t);
    return checkKernelWith(tables, table, found, rules, op, family, view);
  } catch (e) {
    // the table refused as a whole: which of its faults the kernel meets first
    if (e instanceof KernelRefusal && e.phase === 'validate' && t) throw firstValidateRefusal(t, table, found, rules, placing, family, e);
    throw e;
  }
}

/**
 * nft_table_validate()'s walk, to tell which refusal the kernel reports when the table has more
 * than one fault: each base chain the kernel holds, in the order they were created (their
 * handles), its rules in order, each rule's matches and then its target checked against that base
 * chain's hook, a jump or goto walked into at once one level deeper, and EMLINK (Too many links)
 * on entering a chain at the jump stack's depth. So a loop met before a rule its hook does not
 * allow is Too many links, and after it Invalid argument, and which base chain comes first
 * decides between a loop and a rule only another hook refuses (measured:
 * fixtures/cli/commands-order.case). `found` holds `rules` as `placing` says; `refused`: what the
 * checks above found, kept when the walk meets nothing.
 */
function firstValidateRefusal(t: Table, table: TableName, found: Chain, rules: Rule[], placing: Placing, family: Family, refused: KernelRefusal): KernelRefusal {
  const rulesOf = (c: Chain): readonly Rule[] => {
    if (c.name !== found.name) return c.rules;
    const all = [...c.rules];
    all.splice(placing.at, placing.replaces ? 1 : 0, ...rules);
    return all;
  };
  class Met {
    constructor(readonly v: KernelVerdict | 'loop') {}
  }
  const meet = (v: KernelVerdict): never => {
    throw new Met(v);
  };
  const visit = (c: Chain, hooks: string[], level: number): void => {
    if (level === JUMP_STACK_SIZE) throw new Met('loop');
    for (const r of rulesOf(c)) {
      checkRule(table, c.name, r, hooks, meet, false, meet, family);
      const j = jumpTarget(r);
      const next = j === undefined || isBuiltin(table, j) ? undefined : findChain(t, j);
      if (next) visit(next, hooks, level + 1);
    }
  };
  // (a base chain the command creates comes last)
  const bases = t.chains.filter((c) => isBuiltin(table, c.name) && (c.created || c.name === found.name));
  bases.sort((a, b) => (a.created ? (a.handle ?? 0) : Infinity) - (b.created ? (b.handle ?? 0) : Infinity));
  try {
    for (const base of bases) visit(base, [base.name], 0);
  } catch (e) {
    if (!(e instanceof Met)) throw e;
    const { op, what } = refused;
    if (e.v !== 'loop') return new KernelRefusal(op, typeof e.v === 'object' ? e.v.errno : 'Invalid argument', what, typeof e.v === 'object' ? e.v.why : e.v, 'validate');
    const why = jumpDepthProblem(t, table, found.name, rules);
    if (why) return new KernelRefusal(op, 'Too many links', what, why, 'validate');
  }
  return refused;
}

function checkKernelWith(tables: Tables, table: TableName, found: Chain, rules: Rule[], op: string, family: Family, view: KernelView): GraphPlan | undefined {
  const chain = found.name;
  const refuse =
    (phase: 'init' | 'validate') =>
    (v: KernelVerdict): never => {
      const errno = typeof v === 'object' ? v.errno : 'Invalid argument';
      const why = typeof v === 'object' ? v.why : v;
      throw new KernelRefusal(op, errno, `rule in chain ${chain}`, why, phase);
    };
  const pass = (): never => undefined as never;
  const fail = view.tolerate === 'all' ? pass : refuse('init');
  const failValidate = view.tolerate ? pass : refuse('validate');
  const t = tables[table];
  // building the graph reads every chain reachable from a base chain (all 40,000 of a kube-proxy
  // lab's nat table); rules that need nothing from it leave it unbuilt, or up to date if it is known
  const graph = t && (needsGraph(table, chain, rules) ? JumpGraph.of(table, t) : JumpGraph.known(t));
  const plan = graph ? graph.plan(found, rules) : undefined;
  const hooks = graph ? graph.hooksOf(chain) : isBuiltin(table, chain) ? [chain] : [];
  for (const r of rules) {
    if (r.target?.kind === 'verdict' && r.target.verdict === 'QUEUE') {
      throw commitFailed(op, 'No such file or directory', `rule in chain ${chain}`);
    }
    checkRule(table, chain, r, hooks, fail, true, isBuiltin(table, chain) ? fail : failValidate, family, { ...view, tables: view.tables ?? tables });
  }
  // a table that was valid stays valid unless a jump is added; the graph says when to look closer
  if (!view.tolerate && (plan?.tooDeep || graph?.broken) && rules.some((r) => jumpTarget(r) !== undefined)) {
    const why = jumpDepthProblem(t, table, chain, rules);
    if (why) failValidate({ errno: 'Too many links', why });
  }
  if (!t || !hooks.length || !plan?.grown.size) return plan;
  // rules of chains that now become reachable from more hooks (the others were checked already)
  for (const r of rules) {
    const j = jumpTarget(r);
    const start = j === undefined ? undefined : findChain(t, j);
    if (!start) continue;
    for (const c of reachable(t, start)) {
      if (plan.grown.has(c.name)) for (const inner of c.rules) checkRule(table, c.name, inner, hooks, failValidate, false, failValidate, family);
    }
  }
  return plan;
}

/**
 * Why the jump graph of `t` with `rules` added to `chain` is refused, as nft_chain_validate()
 * meets it: it walks from every base chain through jumps and gotos alike and refuses with EMLINK
 * when it would enter a chain at level 16, so at most 15 user-defined chains nest below a base
 * chain; a loop never ends and hits the same limit. iptables reports both as "Too many links"
 * (measured, kernel 6.18). Chains not reachable from a base chain are not walked, so an
 * unattached loop is accepted. A whole-table walk: asked only when the JumpGraph sees a problem.
 */
export function jumpDepthProblem(t: Table | undefined, table: TableName, chain: string, rules: Rule[]): string | undefined {
  if (!t) return undefined;
  const extra = jumpsOf(rules);
  const edges = (c: Chain): string[] => {
    const out = jumpsOf(c.rules);
    return c.name === chain ? [...out, ...extra] : out;
  };
  /** the longest jump path below a chain, as chain names (the chain first) */
  const longest = new Map<string, string[]>();
  const onPath: string[] = [];
  let loop: string[] | undefined;
  const walk = (c: Chain): string[] => {
    const known = longest.get(c.name);
    if (known) return known;
    const at = onPath.indexOf(c.name);
    if (at >= 0) {
      loop ??= [...onPath.slice(at), c.name];
      return [];
    }
    onPath.push(c.name);
    let best: string[] = [];
    for (const j of edges(c)) {
      const next = findChain(t, j);
      if (!next || isBuiltin(table, j)) continue;
      const below = walk(next);
      if (below.length > best.length) best = below;
      if (loop) break;
    }
    onPath.pop();
    const path = [c.name, ...best];
    longest.set(c.name, path);
    return path;
  };
  for (const base of t.chains) {
    if (!isBuiltin(table, base.name) || !(base.created || base.name === chain)) continue;
    const path = walk(base);
    if (loop) {
      const entry = onPathTo(t, table, base, loop[0]!);
      return `chain ${loop[0]} jumps back into itself (${[...entry, ...loop.slice(1)].join(' -> ')}); nf_tables refuses jump loops that a built-in chain reaches`;
    }
    if (path.length > JUMP_STACK_SIZE) {
      return `jumps nest too deep (${path.join(' -> ')}): nf_tables allows at most ${JUMP_STACK_SIZE - 1} user-defined chains below a built-in chain`;
    }
  }
  return undefined;
}

/** a jump path from `base` to the chain `to`, for messages */
function onPathTo(t: Table, table: TableName, base: Chain, to: string): string[] {
  const prev = new Map<string, string>();
  const queue = [base.name];
  const seen = new Set(queue);
  while (queue.length) {
    const name = queue.shift()!;
    if (name === to) break;
    for (const r of findChain(t, name)?.rules ?? []) {
      const j = jumpTarget(r);
      if (j === undefined || seen.has(j) || isBuiltin(table, j)) continue;
      seen.add(j);
      prev.set(j, name);
      queue.push(j);
    }
  }
  const path = [to];
  for (let n = prev.get(to); n !== undefined; n = prev.get(n)) path.unshift(n);
  return path[0] === base.name ? path : [base.name, ...path];
}

/**
 * The reference counts of one table carried from a -X to the next by a caller that runs them one
 * after the other (iptables-restore: a kube-proxy sync ends with a -X line for each chain it drops,
 * and counting a chain's references reads every chain of the table). A -X that succeeds deletes a
 * chain without rules that nothing jumps to, which changes no count; one that fails changes nothing.
 * So the counts hold from one -X to the next in the same table as long as nothing else ran between
 * them: the caller makes a new one (or none) for any other command.
 */
export class DeletionRun {
  private t: Table | undefined;
  private refs: Map<string, number> | undefined;
  /** the rules that jump or go to `chain` in `t` */
  count(t: Table, chain: string): number {
    // the first -X asks about its own chain (as a single one does); the second counts them all
    if (this.t !== t) {
      this.t = t;
      this.refs = undefined;
      return referenceCount(t, chain);
    }
    this.refs ??= referenceCounts(t);
    return this.refs.get(chain) ?? 0;
  }
}

/**
 * Runs the command; returns what it prints (a listing of a kube-proxy-sized table is 20 MB), among
 * which the lines nft_cmd_* print with -v ("Zeroing chain `X'", "Flushing chain `X'", "Deleting
 * chain `X'"). `deletions`: the command is a -X in a run of them (see DeletionRun).
 */
/**
 * The operation the kernel names for -A or -I N on a chain of `count` rules: nft_rule_insert()
 * appends -I N just past the last rule (N > 1), so a refusal then names RULE_APPEND (measured,
 * fixtures/cli/commands-order.case; in a restore transaction too, restore-invalid-op.case)
 */
export function addOp(command: number, rulenum: number, count: number): 'RULE_APPEND' | 'RULE_INSERT' {
  return command === CMD.APPEND || (rulenum > 1 && rulenum === count + 1) ? 'RULE_APPEND' : 'RULE_INSERT';
}

export function execute(tables: Tables, cmd: ParsedCommand, deletions?: DeletionRun, fn: NftFnState = {}): TextOut {
  if (!isTableName(cmd.table)) {
    throw new XtablesError(Exit.VERSION_PROBLEM, `table '${cmd.table}' does not exist`);
  }
  const table = cmd.table;
  const chainName = cmd.chain;
  const out = new TextOut();
  const verbose = cmd.verbose > 0;

  const requireChain = (): Chain => {
    const c = lookupChain(tables, table, chainName!);
    if (!c) throw new NftError(ENOENT);
    return c;
  };
  /**
   * nft_chain_find() for -R and -D NUM: these do not bring the built-in chains into the cache, so
   * a base chain the kernel does not hold yet is not found either (measured, fixtures/cli/ulog.case)
   */
  const requireKernelChain = (): Chain => {
    const c = requireChain();
    if (isBuiltin(table, c.name) && !c.created) throw new NftError(ENOENT);
    return c;
  };
  /**
   * the real chain object, creating the table and (for built-ins) the base chain; `found`: the
   * chain as lookupChain() found it, which is the table's own when the table exists
   */
  const materialize = (name: string, found?: Chain): Chain => {
    const c = (tables[table] && found) || findChain(ensureTable(tables, table), name)!;
    if (isBuiltin(table, name) && !c.created) {
      c.created = true;
      c.handle = allocHandle(tables[table]!);
    }
    return c;
  };
  const stamp = (rules: Rule[]): void => {
    const t = ensureTable(tables, table);
    for (const r of rules) r.handle = allocHandle(t);
  };

  const zeroChains = (chains: Chain[], create: boolean): void => {
    for (const c of chains) {
      if (verbose) out.add(`Zeroing chain \`${c.name}'\n`);
      c.pkts = 0;
      c.bytes = 0;
      // (a chain still in the lab file whose rules count nothing yet is left there)
      if (!rulesCountNothing(c)) {
        for (const r of c.rules) {
          r.pkts = 0;
          r.bytes = 0;
        }
      }
      if (create && isBuiltin(table, c.name)) c.created = true;
    }
  };

  // iptables-nft builds the nf_tables rule now; its conversion errors come before chain checks
  for (const r of cmd.rules) nftRoundTrip(r);
  // adding rules and chains keeps the jump graph up to date, and so does deleting rules that jump
  // nowhere, zeroing counters and setting the policy of a base chain that is there; removing jumps
  // leaves it saying more than the table (`over`); anything else may rename a chain or create a
  // base chain, and forgets it
  let graph: 'keep' | 'loosen' | 'forget' = GRAPH_KEEPING.has(cmd.command) ? 'keep' : 'forget';

  switch (cmd.command) {
    case CMD.APPEND:
    case CMD.INSERT: {
      checkJumpTargets(tables, table, cmd.rules);
      const c0 = requireChain();
      // (a long chain still in the lab file takes the rules without being decoded)
      const count = ruleCount(c0);
      if (cmd.command === CMD.INSERT && cmd.rulenum > count + 1) throw new NftError('Index of insertion too big');
      const plan = checkKernel(tables, table, c0, cmd.rules, addOp(cmd.command, cmd.rulenum, count), cmd.family, { at: cmd.command === CMD.APPEND ? count : cmd.rulenum - 1, replaces: false }, cmd.kernel);
      const c = materialize(c0.name, c0);
      stamp(cmd.rules);
      if (cmd.command === CMD.APPEND) insertRules(c, count, cmd.rules);
      else insertRules(c, cmd.rulenum - 1, [...cmd.rules].reverse());
      if (plan) JumpGraph.of(table, tables[table]!).commit(plan);
      if (verbose) for (const r of cmd.rules) out.add(printRuleVerbose(r, table, c.name, cmd.family));
      break;
    }
    case CMD.REPLACE: {
      checkJumpTargets(tables, table, cmd.rules);
      const c0 = requireKernelChain();
      // (a long chain still in the lab file has the rule replaced without being decoded)
      if (cmd.rulenum > ruleCount(c0)) throw new NftError('Index of replacement too big');
      const plan = checkKernel(tables, table, c0, cmd.rules, 'RULE_REPLACE', cmd.family, { at: cmd.rulenum - 1, replaces: true }, cmd.kernel);
      const c = materialize(c0.name, c0);
      stamp(cmd.rules);
      const old = ruleAt(c, cmd.rulenum - 1)!;
      // the new rule's jumps are added to the graph as -I's are; the old rule's taken away
      graph = jumpTarget(old) === undefined ? 'keep' : 'loosen';
      removeRule(c, cmd.rulenum - 1, old);
      insertRules(c, cmd.rulenum - 1, [cmd.rules[0]!]);
      if (plan) JumpGraph.of(table, tables[table]!).commit(plan);
      if (verbose) out.add(printRuleVerbose(cmd.rules[0]!, table, c.name, cmd.family));
      break;
    }
    case CMD.DELETE:
    case CMD.CHECK: {
      checkJumpTargets(tables, table, cmd.rules);
      // nft_rule_check() and nft_rule_delete() report a missing chain as a missing rule (nft_strerror)
      const c = lookupChain(tables, table, chainName!);
      if (!c) throw new NftError(BAD_RULE);
      for (const rule of cmd.rules) {
        const key = ruleKey(rule, table, c.name);
        const target = targetName(rule.target);
        const names = [...(target ? [target] : []), ...rule.matches.map((m) => m.name)];
        const found = findRule(c, names, (r) => sameShape(r, rule) && ruleKey(r, table, c.name) === key);
        if (!found) throw new NftError(BAD_RULE);
        if (verbose) out.add(printRuleVerbose(found.rule, table, c.name, cmd.family));
        if (cmd.command === CMD.DELETE) removeRule(c, found.pos, found.rule);
      }
      if (cmd.command === CMD.DELETE) graph = cmd.rules.some((r) => jumpTarget(r) !== undefined) ? 'loosen' : 'keep';
      break;
    }
    case CMD.DELETE_NUM: {
      const c = requireKernelChain();
      // (a long chain still in the lab file loses the rule without being decoded)
      if (cmd.rulenum > ruleCount(c)) throw new NftError('Index of deletion too big');
      const old = ruleAt(c, cmd.rulenum - 1)!;
      graph = jumpTarget(old) === undefined ? 'keep' : 'loosen';
      removeRule(c, cmd.rulenum - 1, old);
      break;
    }
    case CMD.FLUSH: {
      graph = 'loosen';
      if (chainName !== undefined) {
        const c = requireChain();
        if (verbose) out.add(`Flushing chain \`${c.name}'\n`);
        materialize(c.name).rules = [];
      } else if (tables[table] || verbose) {
        const t = ensureTable(tables, table);
        for (const c of chainsInOrder(table, t)) {
          if (verbose) out.add(`Flushing chain \`${c.name}'\n`);
          c.rules = [];
          if (verbose && isBuiltin(table, c.name)) c.created = true;
        }
      }
      break;
    }
    case CMD.ZERO: {
      // (counters only: no chain is created here)
      graph = 'keep';
      if (chainName !== undefined) {
        const c = tables[table] && findChain(tables[table], chainName);
        if (!c || (isBuiltin(table, c.name) && !c.created)) throw new NftError(enoentAfter(fn));
        zeroChains([c], false);
      } else if (tables[table]) {
        const t = tables[table];
        zeroChains(
          t.chains.filter((c) => !isBuiltin(table, c.name) || c.created),
          false,
        );
      }
      break;
    }
    case CMD.ZERO_NUM: {
      // nft_rule_zero_counters() names nft_rule_delete; a rule that is not there is no failure, one
      // that is goes back to the kernel through nft_rule_append()
      fn.last = 'rule_delete';
      const c = lookupChain(tables, table, chainName!);
      if (!c || (isBuiltin(table, c.name) && !c.created)) throw new NftError(BAD_RULE);
      const r = c.rules[cmd.rulenum - 1];
      if (r) {
        r.pkts = 0;
        r.bytes = 0;
        fn.last = 'other';
      }
      return out;
    }
    case CMD.LIST:
    case CMD.LIST | CMD.ZERO:
    case CMD.LIST | CMD.ZERO_NUM:
    case CMD.LIST_RULES:
    case CMD.LIST_RULES | CMD.ZERO:
    case CMD.LIST_RULES | CMD.ZERO_NUM: {
      const t = tables[table] ?? newTable(table);
      let chain: Chain | undefined;
      if (chainName !== undefined) {
        chain = findChain(t, chainName);
        if (!chain) {
          throw new XtablesError(
            Exit.OTHER_PROBLEM,
            `chain \`${chainName}' in table \`${table}' is incompatible, use 'nft' tool.`,
          );
        }
      }
      const listing = cmd.command & CMD.LIST;
      if (listing) {
        const f = { numeric: cmd.numeric, verbose, expanded: cmd.expanded, lineNumbers: cmd.lineNumbers, family: cmd.family };
        if (chain && cmd.rulenum) out.add(listOneRule(table, chain, cmd.rulenum, f));
        else listChains(out, table, t, chain ? [chain] : chainsInOrder(table, t), f);
      } else {
        listRulesText(out, table, t, chain, cmd.rulenum, verbose);
      }
      if (cmd.command & CMD.ZERO) {
        // listing fakes the built-in chains; zeroing their counters creates them for real
        const real = ensureTable(tables, table);
        const targets = chain ? [findChain(real, chain.name)!] : chainsInOrder(table, real);
        zeroChains(targets, true);
      } else if (cmd.command & CMD.ZERO_NUM && chain) {
        const r = findChain(ensureTable(tables, table), chain.name)!.rules[cmd.rulenum - 1];
        if (r) {
          r.pkts = 0;
          r.bytes = 0;
        }
      }
      break;
    }
    case CMD.NEW_CHAIN: {
      if (lookupChain(tables, table, chainName!)) throw new NftError('Chain already exists');
      const t = ensureTable(tables, table);
      addChain(t, { name: chainName!, pkts: 0, bytes: 0, rules: [], handle: allocHandle(t) });
      break;
    }
    case CMD.DELETE_CHAIN: {
      const t = tables[table];
      // an empty chain nothing jumps to is reached from nowhere; a base chain leaving takes its jumps
      graph = chainName !== undefined && !isBuiltin(table, chainName) ? 'keep' : 'loosen';
      if (chainName !== undefined) {
        if (isBuiltin(table, chainName)) {
          // a base chain leaves the kernel only when it is there, with policy ACCEPT and no rules
          // (measured: fixtures/cli/chains.case, last block)
          const c = t && findChain(t, chainName);
          if (!c || !c.created) throw new NftError(ENOENT);
          if (c.policy !== 'ACCEPT') throw new NftError('Directory not empty');
          if (c.rules.length) throw commitFailed('CHAIN_DEL', 'Device or resource busy', `chain ${chainName}`);
          c.created = false;
          break;
        }
        const c = t && findChain(t, chainName);
        if (!c) throw new NftError(ENOENT);
        if (c.rules.length || (deletions ? deletions.count(t, chainName) : referenceCount(t, chainName))) {
          throw commitFailed('CHAIN_DEL', 'Device or resource busy', `chain ${chainName}`);
        }
        if (verbose) out.add(`Deleting chain \`${chainName}'\n`);
        deleteChain(t, c);
      } else if (t) {
        const users = userChainsSorted(table, t);
        const refs = referenceCounts(t);
        const busy = users.find((c) => c.rules.length || refs.get(c.name));
        if (busy) throw commitFailed('CHAIN_DEL', 'Device or resource busy', `chain ${busy.name}`);
        for (const c of users) if (verbose) out.add(`Deleting chain \`${c.name}'\n`);
        t.chains = t.chains.filter((c) => isBuiltin(table, c.name));
        // an unused base chain leaves the kernel too; the table itself stays
        for (const c of t.chains) if (c.rules.length === 0 && c.policy === 'ACCEPT') c.created = false;
      }
      break;
    }
    case CMD.RENAME_CHAIN: {
      const t = tables[table];
      const c = t && findChain(t, chainName!);
      // the new name is looked at first: `-E NOPE INPUT` says File exists (measured, fixtures/cli/commands-order.case)
      if (findChain(t, cmd.newname!) || isBuiltin(table, cmd.newname!)) throw new NftError('File exists');
      if (!c || isBuiltin(table, chainName!)) throw new NftError(ENOENT);
      const old = c.name;
      // the jump graph (known, or kept in the lab file) follows the rename; without one, none is built
      const follow = JumpGraph.following(table, t);
      c.name = cmd.newname!;
      chainRenamed(t, c);
      // the jumps to it, in the chains whose rules may name it (a chain still in the lab file is
      // made and decoded only when its line does)
      for (const ch of chainsMayName(t, [old])) {
        for (const r of ch.rules) {
          if (r.target && (r.target.kind === 'jump' || r.target.kind === 'goto') && r.target.chain === old) {
            r.target.chain = c.name;
          }
        }
      }
      if (follow) {
        follow.renamed(old, c.name);
        graph = 'keep';
      }
      break;
    }
    case CMD.SET_POLICY: {
      // the policy first: `-P MYCHAIN RETURN` is a bad policy name (measured, fixtures/cli/commands-order.case)
      if (cmd.policy !== 'ACCEPT' && cmd.policy !== 'DROP') throw new NftError('Bad policy name', true);
      if (!isBuiltin(table, chainName!)) throw new NftError('Bad built-in chain name');
      // a base chain created now is a new start for jumps (forget); one there already changes nothing
      if (findChain(tables[table], chainName!)?.created) graph = 'keep';
      const c = materialize(chainName!);
      c.policy = cmd.policy;
      // the chain update -P sends zeroes the chain's counters, whatever -c says (measured:
      // fixtures/cli/restore-policy-counters.case, a restore file's -P line too)
      c.pkts = 0;
      c.bytes = 0;
      break;
    }
    default:
      throw paramProblem('no command specified');
  }
  if (graph === 'forget') forgetGraph(tables[table]);
  else if (graph === 'loosen') loosenGraph(tables[table]);
  fn.last = nftFnOf(cmd.command) ?? fn.last;
  return out;
}

const GRAPH_KEEPING = new Set<number>([CMD.APPEND, CMD.INSERT, CMD.CHECK, CMD.LIST, CMD.LIST_RULES, CMD.NEW_CHAIN]);
