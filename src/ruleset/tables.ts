/**
 * Tables and chains of one host, as iptables-nft keeps them in nf_tables: a table exists once a
 * command created it; a built-in (base) chain exists in the kernel only once something needed it
 * (a rule, a policy, zeroed counters), although iptables always lists all of a table's built-in
 * chains. The kernel only runs packets through base chains that exist, so the difference matters
 * to the engine.
 */
import type { Rule } from './rule.js';
import { jumpTarget } from './rule.js';

export type TableName = 'filter' | 'nat' | 'mangle' | 'raw' | 'security';

/** built-in chains of each table, in hook order (NF_INET_PRE_ROUTING ... POST_ROUTING) */
export const BUILTIN_CHAINS: Record<TableName, readonly string[]> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  raw: ['PREROUTING', 'OUTPUT'],
  security: ['INPUT', 'FORWARD', 'OUTPUT'],
};

/** the order iptables-save prints tables in (measured: independent of creation order) */
export const SAVE_ORDER: readonly TableName[] = ['mangle', 'security', 'raw', 'filter', 'nat'];

export function isTableName(name: string): name is TableName {
  return Object.prototype.hasOwnProperty.call(BUILTIN_CHAINS, name);
}

export interface Chain {
  name: string;
  /** built-in chains only */
  policy?: 'ACCEPT' | 'DROP';
  /** built-in chains only: the base chain exists in nf_tables */
  created?: boolean;
  /** policy counters of a built-in chain */
  pkts: number;
  bytes: number;
  rules: Rule[];
  /** nf_tables handle, once the chain exists in the kernel */
  handle?: number;
}

export interface Table {
  /** built-in chains first (hook order, all of them), then user chains in creation order */
  chains: Chain[];
  /** nf_tables hands out chain and rule handles from one counter per table */
  nextHandle?: number;
}

/** the next nf_tables handle of a table (what `xtables-monitor --trace` shows as rule:0xN) */
export function allocHandle(t: Table): number {
  const h = t.nextHandle ?? 1;
  t.nextHandle = h + 1;
  return h;
}

export type Tables = Partial<Record<TableName, Table>>;

export function newTable(name: TableName): Table {
  return {
    chains: BUILTIN_CHAINS[name].map((c) => ({ name: c, policy: 'ACCEPT', created: false, pkts: 0, bytes: 0, rules: [] })),
  };
}

export function isBuiltin(table: TableName, chain: string): boolean {
  return BUILTIN_CHAINS[table].includes(chain);
}

/**
 * Chains by name, per chains array: kube-proxy-sized tables hold tens of thousands of chains and
 * every jump is resolved by name. Adding or removing chains (push, or a new filtered array) is
 * noticed by the size (chains are pushed) or the array's identity (removals filter into a new
 * array); a rename must call chainRenamed().
 */
const chainIndex = new WeakMap<Chain[], Map<string, Chain>>();

/**
 * A table read from the lab file makes its chains when first asked for them
 * (../state/lab-file.ts): these answer for it without making the others; null: not such a table.
 */
interface StoredChains {
  find(t: Table, name: string): Chain | undefined | null;
  anyCreated(t: Table): boolean | null;
  /** adds a chain to a table still in the lab file, after its others, without making them; false: not such a table */
  add(t: Table, c: Chain): boolean;
  /** the number of rules of `c` (a long chain still in the lab file: without decoding it) */
  count(c: Chain): number;
  /** adds rules to `c` at `pos` without decoding it; false: not a chain the lab file can do that for */
  insert(c: Chain, pos: number, rules: Rule[]): boolean;
  peek(c: Chain): Rule[];
  /** the chains the rules of `c` jump or go to, for counting those of `names`: every jump to one of them (others may be left out; none: a chain still in the lab file whose line names none) */
  namingJumps(c: Chain, names: readonly string[]): string[];
  /** whether a rule of `c` may jump or go to one of `names` (false: a chain still in the lab file whose line names none) */
  mayName(c: Chain, names: readonly string[]): boolean;
  /** the chains the rules of `c` jump or go to, in order, without decoding them; undefined: not a chain the lab file can do that for */
  jumps(c: Chain): string[] | undefined;
  /** the rules of `c` are still in the lab file and each one's counters are 0 (false: not known so) */
  countNothing(c: Chain): boolean;
  /** the rules of `c` are still in the lab file, not decoded */
  inFile(c: Chain): boolean;
  /** the first rule of `c` that `same` accepts among those that hold all of `names`, without decoding a long chain; null: not such a chain */
  findRule(c: Chain, names: readonly string[], same: (r: Rule) => boolean): { pos: number; rule: Rule } | undefined | null;
  /** rule `pos` of `c` without decoding a long chain (not kept); undefined: not a chain the lab file can do that for */
  ruleAt(c: Chain, pos: number): Rule | undefined;
  /** deletes that rule without decoding the chain; false: not a chain the lab file can do that for */
  remove(c: Chain, pos: number, rule: Rule): boolean;
  /** namingJumps() of every chain of a table still in the lab file, to `each`, without making those that name none; false: not such a table */
  naming(t: Table, names: readonly string[], each: (jumps: string[]) => void): boolean;
  /** the chains of a table still in the lab file whose rules may name one of `names`, without making the others; null: not such a table */
  chainsNaming(t: Table, names: readonly string[]): Chain[] | null;
  /** `c` of a table still in the lab file was renamed (found by its new name from now on); false: not such a table */
  renamed(t: Table, c: Chain): boolean;
  copy(t: Table): Table | null;
}
let stored: StoredChains | undefined;

export function setStoredChains(s: StoredChains): void {
  stored = s;
}

export function findChain(t: Table | undefined, name: string): Chain | undefined {
  if (!t) return undefined;
  if (stored) {
    const c = stored.find(t, name);
    if (c !== null) return c;
  }
  let index = chainIndex.get(t.chains);
  if (!index || index.size > t.chains.length) {
    index = new Map();
    chainIndex.set(t.chains, index);
  }
  // chains are only ever pushed onto an array: index the new tail
  for (let i = index.size; i < t.chains.length; i++) index.set(t.chains[i]!.name, t.chains[i]!);
  return index.get(name);
}

/**
 * A chain's rules for a reader that goes over them once and keeps nothing (a listing): rules still
 * in the lab file are decoded without being kept in the chain.
 */
export function rulesOnce(c: Chain): Rule[] {
  return stored ? stored.peek(c) : c.rules;
}

/**
 * A deep copy of a table. One read from the lab file keeps the chains nobody made yet in the file
 * (a kube-proxy `iptables-restore --noflush` of a few rules copies a dozen of its 40,000 chains).
 */
export function copyTable(t: Table): Table {
  return stored?.copy(t) ?? structuredClone(t);
}

/** adds a new chain to `t`, after the others (-N; a table read from the lab file makes none of them) */
export function addChain(t: Table, c: Chain): void {
  if (!stored?.add(t, c)) t.chains.push(c);
}

/**
 * removes chain `c` from `t` (-X). Its index by name goes to the new array without `c` (a
 * kube-proxy sync's -X lines would otherwise index 40,000 chains again for each).
 */
export function deleteChain(t: Table, c: Chain): void {
  const index = chainIndex.get(t.chains);
  t.chains = t.chains.filter((x) => x !== c);
  if (!index) return;
  // the index holds the first index.size chains: without `c` they are the first index.size - 1
  if (index.get(c.name) === c) index.delete(c.name);
  chainIndex.set(t.chains, index);
}

/** the rules of `c` are still in the lab file (reading `rules` decodes them) */
export function rulesInFile(c: Chain): boolean {
  return stored?.inFile(c) ?? false;
}

/** every rule of `c` has counted nothing (known without decoding a chain still in the lab file); false: not known so */
export function rulesCountNothing(c: Chain): boolean {
  return stored?.countNothing(c) ?? false;
}

/**
 * The chains of `t` whose rules may jump or go to one of `names` (-E): all but those whose rules,
 * still in the lab file, name none (a table read from it makes only the others)
 */
export function chainsMayName(t: Table, names: readonly string[]): Chain[] {
  return stored?.chainsNaming(t, names) ?? t.chains.filter((c) => stored?.mayName(c, names) ?? true);
}

/** how many rules `c` has (a long chain still in the lab file is not decoded for it) */
export function ruleCount(c: Chain): number {
  return stored ? stored.count(c) : c.rules.length;
}

/**
 * The first rule of `c` that `same` accepts, and its index (-C, -D). `names`: strings any such rule
 * holds (its target's name, its matches'), by which a long chain still in the lab file is searched
 * without being decoded.
 */
export function findRule(c: Chain, names: readonly string[], same: (r: Rule) => boolean): { pos: number; rule: Rule } | undefined {
  const f = stored ? stored.findRule(c, names, same) : null;
  if (f !== null) return f;
  const pos = c.rules.findIndex(same);
  return pos < 0 ? undefined : { pos, rule: c.rules[pos]! };
}

/** rule `pos` of `c` (a long chain still in the lab file is not decoded for it) */
export function ruleAt(c: Chain, pos: number): Rule | undefined {
  return stored?.ruleAt(c, pos) ?? c.rules[pos];
}

/** deletes rule `pos` of `c`, `rule` (found by findRule() or ruleAt()) */
export function removeRule(c: Chain, pos: number, rule: Rule): void {
  if (!stored?.remove(c, pos, rule)) c.rules.splice(pos, 1);
}

/** adds `rules` to `c` before its rule at `pos` (0-based; its length: at the end), in that order */
export function insertRules(c: Chain, pos: number, rules: Rule[]): void {
  if (!stored?.insert(c, pos, rules)) c.rules.splice(pos, 0, ...rules);
}

/** whether any chain of `t` is created (exists in nf_tables as a base chain) */
export function anyChainCreated(t: Table): boolean {
  return stored?.anyCreated(t) ?? t.chains.some((c) => c.created);
}

/** chain `c` of `t` changed its name (-E) */
export function chainRenamed(t: Table, c: Chain): void {
  if (!stored?.renamed(t, c)) chainIndex.delete(t.chains);
}

/** user-defined chains sorted by name, as nft_cache_sort_chains() orders them for listing */
export function userChainsSorted(table: TableName, t: Table): Chain[] {
  return t.chains
    .filter((c) => !isBuiltin(table, c.name))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function builtinChains(table: TableName, t: Table): Chain[] {
  return t.chains.filter((c) => isBuiltin(table, c.name));
}

/**
 * The number of rules in the table that jump or go to each chain, in one pass over the rules (a
 * listing of all 40,000 chains of a kube-proxy table would otherwise go over its 110,000 rules for
 * each); `only`: the counts of these chains are enough (those of others may be short), and the
 * rules of chains still in the lab file that name none of them are not decoded.
 */
export function referenceCounts(t: Table, only?: readonly string[]): Map<string, number> {
  const refs = new Map<string, number>();
  const add = (j: string | undefined): void => {
    if (j !== undefined) refs.set(j, (refs.get(j) ?? 0) + 1);
  };
  const count = (rules: Rule[]): void => {
    for (const r of rules) add(jumpTarget(r));
  };
  const countJumps = (jumps: string[]): void => jumps.forEach(add);
  if (only && stored?.naming(t, only, countJumps)) return refs;
  for (const c of t.chains) {
    // a line still in the file is only scanned for its jumps (or, for `only`, searched for their names first)
    const jumps = only && stored ? stored.namingJumps(c, only) : stored?.jumps(c);
    if (jumps) countJumps(jumps);
    else count(rulesOnce(c));
  }
  return refs;
}

/** number of rules in the table that jump or go to `chain` */
export function referenceCount(t: Table, chain: string): number {
  return referenceCounts(t, [chain]).get(chain) ?? 0;
}
