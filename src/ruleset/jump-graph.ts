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
 * command succeeds); anything that removes a jump, a chain or a name, or creates a base chain,
 * forgets it, and the next question rebuilds it from the table.
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
  grown: Map<string, Set<string>>;
  /** some chain would sit deeper than the jump stack allows, or a loop is reached */
  tooDeep: boolean;
  /** the updated reach of every chain that changes */
  next: Map<string, Reach>;
}

const graphs = new WeakMap<Table, JumpGraph>();

export class JumpGraph {
  private readonly reach = new Map<string, Reach>();
  /** a loop or an over-deep path already present (a hand-edited lab): answers are not trusted */
  readonly broken: boolean;

  private constructor(
    private readonly table: TableName,
    private readonly t: Table,
  ) {
    const sources = t.chains.filter((c) => isBuiltin(table, c.name) && c.created);
    let broken = false;
    for (const base of sources) {
      const plan = this.propagate([[base, { hooks: new Set([base.name]), depth: 1 }]], undefined);
      for (const [name, r] of plan.next) this.reach.set(name, r);
      broken ||= plan.tooDeep;
    }
    this.broken = broken;
  }

  /** the graph of `t`, built now if it is not known */
  static of(table: TableName, t: Table): JumpGraph {
    let g = graphs.get(t);
    if (!g) {
      g = new JumpGraph(table, t);
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
    const h = this.reach.get(chain)?.hooks;
    return h ? BUILTIN_CHAINS[this.table].filter((b) => h.has(b)) : [];
  }

  /** adding `rules` to `chain` (which becomes a created base chain if it is one) */
  plan(chain: Chain, rules: Rule[]): GraphPlan {
    const targets: string[] = [];
    for (let i = 0; i < rules.length; i++) {
      const j = jumpTarget(rules[i]!);
      if (j !== undefined) targets.push(j);
    }
    const own = isBuiltin(this.table, chain.name) ? { hooks: new Set([chain.name]), depth: 1 } : this.reach.get(chain.name);
    const start: [Chain, Reach][] = [];
    if (own && isBuiltin(this.table, chain.name) && !chain.created) start.push([chain, own]);
    else if (own) {
      for (const j of targets) {
        const next = findChain(this.t, j);
        if (next && !isBuiltin(this.table, j)) start.push([next, { hooks: own.hooks, depth: own.depth + 1 }]);
      }
    }
    // most rules added jump nowhere new: nothing to spread (this runs for every rule added)
    if (!start.length) return { grown: new Map(), tooDeep: false, next: new Map() };
    return this.propagate(start, { chain: chain.name, targets });
  }

  commit(plan: GraphPlan): void {
    for (const [name, r] of plan.next) this.reach.set(name, r);
  }

  /**
   * Spreads reach along the jumps: each chain takes the union of hooks and the longest depth it
   * is offered, and passes on what grew. `extra` are jumps about to be added to a chain.
   */
  private propagate(start: [Chain, Reach][], extra: { chain: string; targets: string[] } | undefined): GraphPlan {
    const next = new Map<string, Reach>();
    const grown = new Map<string, Set<string>>();
    const current = (name: string): Reach | undefined => next.get(name) ?? this.reach.get(name);
    const work = [...start];
    let tooDeep = false;
    while (work.length) {
      const [c, offer] = work.pop()!;
      const had = current(c.name);
      const gained = [...offer.hooks].filter((h) => !had?.hooks.has(h));
      const deeper = offer.depth > (had?.depth ?? 0);
      if (!had || gained.length || deeper) {
        const r: Reach = { hooks: new Set([...(had?.hooks ?? []), ...offer.hooks]), depth: Math.max(had?.depth ?? 0, offer.depth) };
        next.set(c.name, r);
        if (gained.length) {
          const g = grown.get(c.name) ?? new Set<string>();
          for (const h of gained) g.add(h);
          grown.set(c.name, g);
        }
        if (r.depth > JUMP_STACK_SIZE) {
          tooDeep = true;
          break;
        }
        const jumps = c.rules.map(jumpTarget).filter((j): j is string => j !== undefined);
        if (extra && extra.chain === c.name) jumps.push(...extra.targets);
        for (const j of jumps) {
          const to = findChain(this.t, j);
          if (to && !isBuiltin(this.table, j)) work.push([to, { hooks: r.hooks, depth: r.depth + 1 }]);
        }
      }
    }
    return { grown, tooDeep, next };
  }
}

/** the table changed in a way the graph does not follow: rebuild it when next asked */
export function forgetGraph(t: Table | undefined): void {
  if (t) graphs.delete(t);
}
