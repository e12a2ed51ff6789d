/**
 * What nf_tables' table validation needs to know about the jump graph of one table, kept up to
 * date as rules are added instead of walked again for every rule: a kube-proxy restore adds
 * 100,000 rules, nearly all of them jumps, and a walk of the whole table per rule is quadratic.
 *
 * For every chain reached from a created base chain: the hooks (base chains) it is reached from,
 * which the extensions of its rules must allow (nft_chain_validate_hooks), and the length of the
 * longest jump path down to it, base chain included, which must stay within the jump stack
 * (nft_chain_validate: EMLINK at level NFT_JUMP_STACK_SIZE). A jump loop reached from a base chain
 * makes that length grow without end, so it shows up as a path that is too long.
 *
 * A graph belongs to one Table object. Adding rules updates it (plan, then commit once the
 * command succeeds). Removing jumps (deleting or flushing rules, a base chain leaving the kernel)
 * can only make chains reached from fewer hooks, less deep: the graph is kept but marked `over`
 * (it may say more than the table), which can only make the checks refuse more; a refusal by such
 * a graph is asked again of one built from the table (execute.ts). Anything else that changes the
 * graph (a rename, a new base chain, a replaced rule) forgets it, and the next question rebuilds it.
 *
 * The lab file keeps the graph between commands (reachColumn(), storeReach()): building it reads
 * every chain's rules, which on a kube-proxy lab means decoding all 40,000 chains for every
 * `iptables -A ... -j CHAIN`.
 */
import { jumpTarget, type Rule } from './rule.js';
import { BUILTIN_CHAINS, findChain, isBuiltin, type Chain, type Table, type TableName } from './tables.js';

/** nf_tables' jump stack: paths longer than this (in chains, base chain included) are refused */
export const JUMP_STACK_SIZE = 16;

interface Reach {
  hooks: Set<string>;
  /** the longest jump path from a created base chain down to this chain, in chains */
  depth: number;
}

/** What adding rules would change. */
export interface GraphPlan {
  /** chains whose set of hooks grows, with the hooks they gain */
  readonly grown: ReadonlyMap<string, ReadonlySet<string>>;
  /** some chain would sit deeper than the jump stack allows, or a loop is reached */
  readonly tooDeep: boolean;
  /** the updated reach of every chain that changes */
  readonly next: ReadonlyMap<string, Reach>;
}

/** the plan of rules that change no chain's reach (most of them) */
const NOTHING: GraphPlan = { grown: new Map(), tooDeep: false, next: new Map() };

const graphs = new WeakMap<Table, JumpGraph>();

/**
 * The graph as a lab file keeps it: EXACT or OVER (the graph may say more than the table), then two
 * characters per chain, in the table's order of chains, the hooks it is reached from (bit k: the
 * table's k-th base chain) and its depth, as digits of REACH_DIGITS; "--" for a chain no created
 * base chain reaches.
 */
const REACH_DIGITS = '0123456789abcdefghijklmnopqrstuv';
const EXACT = '=';
const OVER = '>';

/** `column` is a graph's column for a table of `n` chains */
export const reachFits = (column: string, n: number): boolean => column.length === 2 * n + 1 && (column[0] === EXACT || column[0] === OVER);

/** a graph kept in the lab file a table was read from */
export interface StoredReach {
  column: string;
  /** chain i's name */
  nameAt(i: number): unknown;
  /** the index of the (last) chain named `name` among those of the column, -1 if none */
  indexOf(name: string): number;
  /** the chains' rules are as the file had them when it was written (checks them all, once) */
  verify(): boolean;
  /** no chain was found edited by hand since the file was read (the column may be written back) */
  intact(): boolean;
}

const stored = new WeakMap<Table, StoredReach>();

/** the graph the lab file kept for `t`, used until the table changes in a way the graph does not follow */
export function storeReach(t: Table, s: StoredReach): void {
  stored.set(t, s);
}

/** `to`, a copy of table `from`, takes its graph: the one known (copied), else the one its lab file kept */
export function copyGraph(from: Table, to: Table): void {
  const g = graphs.get(from);
  if (g) {
    if (!g.broken) graphs.set(to, g.copyFor(to));
    return;
  }
  const s = stored.get(from);
  if (s) stored.set(to, s);
}

/**
 * A StoredReach column as the graph reads it: each chain's reach decoded from its two characters
 * when first asked for (a kube-proxy table's 40,000 chains are not all asked about), by the chain's
 * index in the column. Undefined when the column says what no graph can (checked in one pass).
 */
class KeptColumn {
  /** the hook sets, by mask (shared: a Reach's hooks are never changed, only replaced) */
  private readonly sets = new Map<number, Set<string>>();

  private constructor(
    private readonly table: TableName,
    readonly s: StoredReach,
  ) {}

  static of(table: TableName, s: StoredReach): KeptColumn | undefined {
    const col = s.column;
    const masks = 1 << BUILTIN_CHAINS[table].length;
    for (let i = 1; i < col.length; i += 2) {
      if (col[i] === '-' && col[i + 1] === '-') continue;
      const mask = REACH_DIGITS.indexOf(col[i]!);
      const depth = REACH_DIGITS.indexOf(col[i + 1]!);
      if (mask <= 0 || mask >= masks || depth < 1 || depth > JUMP_STACK_SIZE || typeof s.nameAt((i - 1) / 2) !== 'string') return undefined;
    }
    return new KeptColumn(table, s);
  }

  /** chains in the column */
  get size(): number {
    return (this.s.column.length - 1) / 2;
  }

  /** the reach the column gives the chain named `name` (undefined: none, or no such chain) */
  get(name: string): Reach | undefined {
    const i = this.s.indexOf(name);
    const col = this.s.column;
    if (i < 0 || col[2 * i + 1] === '-') return undefined;
    const mask = REACH_DIGITS.indexOf(col[2 * i + 1]!);
    let hooks = this.sets.get(mask);
    if (!hooks) this.sets.set(mask, (hooks = new Set(BUILTIN_CHAINS[this.table].filter((_, k) => mask & (1 << k)))));
    return { hooks, depth: REACH_DIGITS.indexOf(col[2 * i + 2]!) };
  }
}

/**
 * The column that stores the graph of `t` for its `n` chains (chain i named nameAt(i)); undefined
 * when no graph is known (none was built or read, or the table changed since), or it found a loop.
 */
export function reachColumn(t: Table, n: number, nameAt: (i: number) => unknown, asRead = false): string | undefined {
  const g = graphs.get(t);
  if (g) return g.column(n, nameAt, asRead);
  const s = stored.get(t);
  if (!s || !s.intact()) return undefined;
  const had = (s.column.length - 1) / 2;
  // the column goes by position: while the chains read are still the first ones, in their order,
  // it is copied (`asRead`: the writer knows they are, the chains and their names being those read),
  // and chains made since (-N) are added at the end, reached from nowhere yet
  let inPlace = had <= n;
  if (inPlace && !asRead) for (let i = 0; i < had && inPlace; i++) inPlace = nameAt(i) === s.nameAt(i);
  if (inPlace) return s.column + '--'.repeat(n - had);
  // chains deleted since (-X: an empty chain nothing jumps to, whose going changes no other's
  // reach, or every user chain, which loosened the graph): each chain's two characters by its name
  // (the graph is dropped by anything that renames chains)
  let out = s.column[0]!;
  for (let i = 0; i < n; i++) {
    const name = nameAt(i);
    const k = typeof name === 'string' ? s.indexOf(name) : -1;
    out += k < 0 ? '--' : s.column.slice(1 + 2 * k, 3 + 2 * k);
  }
  return out;
}

/** jumps were removed from `t`: its graph, known or kept in the lab file, may now say more than the table */
export function loosenGraph(t: Table | undefined): void {
  if (!t) return;
  const g = graphs.get(t);
  if (g) g.over = true;
  const s = stored.get(t);
  if (s) stored.set(t, { ...s, column: OVER + s.column.slice(1) });
}

export class JumpGraph {
  /** each chain's reach: as built or changed here; for the others, as the lab file kept it (`kept`) */
  private readonly reach: Map<string, Reach>;
  private readonly kept: KeptColumn | undefined;
  /** names the kept column has for chains renamed since (a chain given such a name later is another) */
  private gone: Set<string> | undefined;
  /** a loop or an over-deep path already present (a hand-edited lab): answers are not trusted */
  readonly broken: boolean;
  /** jumps were removed since it was built: chains may be reached from fewer hooks, less deep */
  over = false;

  private constructor(
    private readonly table: TableName,
    private readonly t: Table,
    from?: { reach: Map<string, Reach>; kept: KeptColumn | undefined; over: boolean; gone?: Set<string> },
  ) {
    this.reach = from?.reach ?? new Map();
    this.kept = from?.kept;
    this.broken = false;
    if (from) {
      this.over = from.over;
      this.gone = from.gone;
      return;
    }
    const sources = t.chains.filter((c) => isBuiltin(table, c.name) && c.created);
    let broken = false;
    for (const base of sources) {
      const plan = this.propagate([[base, { hooks: new Set([base.name]), depth: 1 }]], undefined);
      for (const [name, r] of plan.next) this.reach.set(name, r);
      broken ||= plan.tooDeep;
    }
    this.broken = broken;
  }

  /** the same graph for a copy of its table (a Reach is never changed, only replaced: shared) */
  copyFor(t: Table): JumpGraph {
    return new JumpGraph(this.table, t, { reach: new Map(this.reach), kept: this.kept, over: this.over, gone: this.gone && new Set(this.gone) });
  }

  /**
   * The graph of `t` to follow a rename (-E): the one known, else the one the lab file kept (read
   * now, not built: without either there is nothing to follow, and the next question builds it)
   */
  static following(table: TableName, t: Table): JumpGraph | undefined {
    return graphs.get(t) ?? (stored.has(t) ? JumpGraph.of(table, t) : undefined);
  }

  /** chain `from` is called `to` now, and so are the jumps to it: it keeps its reach */
  renamed(from: string, to: string): void {
    const r = this.reachOf(from);
    this.reach.delete(from);
    if (r) this.reach.set(to, r);
    else this.reach.delete(to);
    (this.gone ??= new Set()).add(from);
  }

  /** the graph of `t`: the one known, else the one the lab file kept, else built now */
  static of(table: TableName, t: Table): JumpGraph {
    let g = graphs.get(t);
    if (!g) {
      const s = stored.get(t);
      const kept = s && s.verify() ? KeptColumn.of(table, s) : undefined;
      g = new JumpGraph(table, t, kept && { reach: new Map(), kept, over: s!.column[0] === OVER });
      graphs.set(t, g);
    }
    return g;
  }

  /** the graph of `t` if one was built and not forgotten since */
  static known(t: Table): JumpGraph | undefined {
    return graphs.get(t);
  }

  /** the base chains `chain` is reached from, in hook order */
  hooksOf(chain: string): string[] {
    if (isBuiltin(this.table, chain)) return [chain];
    const h = this.reachOf(chain)?.hooks;
    return h ? BUILTIN_CHAINS[this.table].filter((b) => h.has(b)) : [];
  }

  private reachOf(chain: string): Reach | undefined {
    return this.reach.get(chain) ?? (this.gone?.has(chain) ? undefined : this.kept?.get(chain));
  }

  /** adding `rules` to `chain` (which becomes a created base chain if it is one) */
  plan(chain: Chain, rules: Rule[]): GraphPlan {
    const targets: string[] = [];
    for (let i = 0; i < rules.length; i++) {
      const j = jumpTarget(rules[i]!);
      if (j !== undefined) targets.push(j);
    }
    const builtin = isBuiltin(this.table, chain.name);
    const start: [Chain, Reach][] = [];
    if (builtin && !chain.created) start.push([chain, { hooks: new Set([chain.name]), depth: 1 }]);
    else {
      const own = builtin ? { hooks: new Set([chain.name]), depth: 1 } : this.reachOf(chain.name);
      for (let i = 0; own && i < targets.length; i++) {
        const next = findChain(this.t, targets[i]!);
        if (next && !isBuiltin(this.table, targets[i]!)) start.push([next, { hooks: own.hooks, depth: own.depth + 1 }]);
      }
    }
    // most rules added jump nowhere new: nothing to spread (this runs for every rule added)
    if (!start.length) return NOTHING;
    return this.propagate(start, { chain: chain.name, targets });
  }

  /**
   * The column that stores this graph (see REACH_DIGITS); undefined when it is broken. `asRead`:
   * the first chains are those of the column kept in the lab file, in its order (the writer knows),
   * so that column is copied with the chains changed here written over it.
   */
  column(n: number, nameAt: (i: number) => unknown, asRead = false): string | undefined {
    if (this.broken) return undefined;
    const kept = this.kept;
    if (asRead && kept && kept.size <= n) {
      const out = (kept.s.column.slice(1) + '--'.repeat(n - kept.size)).split('');
      for (const [name, r] of this.reach) {
        let i = kept.s.indexOf(name);
        // (a chain made since: after those of the column; the last of that name, as lookups find)
        if (i < 0) for (let k = n - 1; k >= kept.size && i < 0; k--) if (nameAt(k) === name) i = k;
        if (i < 0) continue;
        const digits = this.digits(r);
        out[2 * i] = digits[0]!;
        out[2 * i + 1] = digits[1]!;
      }
      return (this.over ? OVER : EXACT) + out.join('');
    }
    let out = this.over ? OVER : EXACT;
    for (let i = 0; i < n; i++) {
      const name = nameAt(i);
      // a chain still where the column has it, its reach not changed since: its characters as they
      // are (what reachOf() would find by its name, without looking the name up: -E of one chain
      // writes the column by name, 40,000 lookups on a kube lab)
      if (kept && typeof name === 'string' && i < kept.size && name === kept.s.nameAt(i) && !this.reach.has(name) && !this.gone?.has(name)) {
        out += kept.s.column.slice(1 + 2 * i, 3 + 2 * i);
        continue;
      }
      const r = typeof name === 'string' ? this.reachOf(name) : undefined;
      out += r ? this.digits(r) : '--';
    }
    return out;
  }

  /** a chain's two characters in the column */
  private digits(r: Reach): string {
    let mask = 0;
    BUILTIN_CHAINS[this.table].forEach((b, k) => {
      if (r.hooks.has(b)) mask |= 1 << k;
    });
    return REACH_DIGITS[mask]! + REACH_DIGITS[r.depth]!;
  }

  commit(plan: GraphPlan): void {
    for (const [name, r] of plan.next) this.reach.set(name, r);
  }

  /**
   * Spreads reach along the jumps: each chain takes the union of hooks and the longest depth it
   * is offered, and passes on what grew. `work`: the first offers (the array is used up); `extra`:
   * jumps about to be added to a chain.
   */
  private propagate(work: [Chain, Reach][], extra: { chain: string; targets: string[] } | undefined): GraphPlan {
    const next = new Map<string, Reach>();
    const grown = new Map<string, Set<string>>();
    let tooDeep = false;
    const offer = (to: string, r: Reach): void => {
      const c = findChain(this.t, to);
      if (c && !isBuiltin(this.table, to)) work.push([c, { hooks: r.hooks, depth: r.depth + 1 }]);
    };
    while (work.length) {
      const [c, offered] = work.pop()!;
      const had = next.get(c.name) ?? this.reachOf(c.name);
      let gained: string[] | undefined;
      for (const h of offered.hooks) if (!had?.hooks.has(h)) (gained ??= []).push(h);
      if (had && !gained && offered.depth <= had.depth) continue;
      // (hook sets are never changed, only replaced: one that gains nothing is shared)
      const hooks = !had ? offered.hooks : gained ? new Set([...had.hooks, ...gained]) : had.hooks;
      const r: Reach = { hooks, depth: Math.max(had?.depth ?? 0, offered.depth) };
      next.set(c.name, r);
      if (gained) {
        let g = grown.get(c.name);
        if (!g) grown.set(c.name, (g = new Set()));
        for (const h of gained) g.add(h);
      }
      if (r.depth > JUMP_STACK_SIZE) {
        tooDeep = true;
        break;
      }
      for (const rule of c.rules) {
        const j = jumpTarget(rule);
        if (j !== undefined) offer(j, r);
      }
      if (extra && extra.chain === c.name) for (const j of extra.targets) offer(j, r);
    }
    return { grown, tooDeep, next };
  }
}

/** the table changed in a way the graph does not follow: rebuild it when next asked */
export function forgetGraph(t: Table | undefined): void {
  if (!t) return;
  graphs.delete(t);
  stored.delete(t);
}
