/**
 * The incrementally kept jump graph (src/ruleset/jump-graph.ts) must answer exactly what a walk
 * of the whole table answers: random sequences of chain and rule commands, including jumps back
 * up (loops), gotos, deletions, flushes and renames, checked after every command against a
 * brute-force reference: the hooks each chain is reached from, and whether a command is refused
 * for too deep a nesting or a loop. Also the hook check through jumps (SNAT reached from
 * PREROUTING is refused however the jump to it came about).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIptables } from '../src/cli/commands/iptables.js';
import { execute, jumpDepthProblem, KernelRefusal } from '../src/ruleset/execute.js';
import { JumpGraph } from '../src/ruleset/jump-graph.js';
import { jumpTarget } from '../src/ruleset/rule.js';
import { BUILTIN_CHAINS, isBuiltin, type Table, type Tables } from '../src/ruleset/tables.js';

const CHAINS = ['A', 'B', 'C', 'D', 'E'];
const BASES = ['PREROUTING', 'OUTPUT', 'POSTROUTING'];

/** the hooks (created base chains) `chain` is reached from, by walking the whole table */
function referenceHooks(t: Table, chain: string): string[] {
  const reached = (from: string): boolean => {
    const seen = new Set<string>();
    const stack = [from];
    while (stack.length) {
      const name = stack.pop()!;
      if (seen.has(name)) continue;
      seen.add(name);
      for (const r of t.chains.find((c) => c.name === name)?.rules ?? []) {
        const j = jumpTarget(r);
        if (j === chain) return true;
        if (j !== undefined) stack.push(j);
      }
    }
    return false;
  };
  return BUILTIN_CHAINS.nat.filter((b) => t.chains.find((c) => c.name === b)?.created && reached(b));
}

const command = fc.oneof(
  fc.constantFrom(...CHAINS).map((c) => ['-N', c]),
  fc.tuple(fc.constantFrom(...CHAINS, ...BASES), fc.constantFrom(...CHAINS), fc.boolean()).map(([from, to, go]) => ['-A', from, go ? '-g' : '-j', to]),
  fc.tuple(fc.constantFrom(...CHAINS, ...BASES), fc.constantFrom(...CHAINS)).map(([from, to]) => ['-I', from, '-j', to]),
  fc.tuple(fc.constantFrom(...CHAINS, ...BASES), fc.constantFrom(...CHAINS)).map(([from, to]) => ['-D', from, '-j', to]),
  fc.constantFrom(...CHAINS, ...BASES).map((c) => ['-F', c]),
  fc.constantFrom(...CHAINS).map((c) => ['-X', c]),
  fc.tuple(fc.constantFrom(...CHAINS), fc.constantFrom(...CHAINS)).map(([a, b]) => ['-E', a, b]),
  fc.constantFrom(...CHAINS).map((c) => ['-A', c, '-j', 'ACCEPT']),
  // rules that need no graph in a base chain, and one restricted to hooks in a user chain
  fc.constantFrom(...BASES).map((c) => ['-A', c, '-j', 'ACCEPT']),
  fc.constantFrom(...CHAINS).map((c) => ['-A', c, '-j', 'SNAT', '--to-source', '1.2.3.4']),
);

describe('jump graph', () => {
  it('answers what a walk of the whole table answers, after every command', () => {
    fc.assert(
      // (the graph is asked after some commands only: the others may leave it unbuilt)
      fc.property(fc.array(fc.tuple(command, fc.boolean()), { maxLength: 40 }), (cmds) => {
        const tables: Tables = {};
        for (const [argv, ask] of cmds) {
          const before = JSON.stringify(tables);
          let refused: unknown;
          try {
            execute(tables, parseIptables(['-t', 'nat', ...argv], () => {}));
          } catch (e) {
            refused = e;
          }
          const t = tables.nat;
          if (refused instanceof KernelRefusal && refused.errText === 'Too many links') {
            // refused for depth or a loop only when the whole-table walk finds one; nothing changed
            expect(JSON.stringify(tables)).toBe(before);
            const parsed = parseIptables(['-t', 'nat', ...argv], () => {});
            expect(jumpDepthProblem(t, 'nat', parsed.chain!, parsed.rules)).toBeDefined();
          } else if (!refused && argv[0] !== '-D' && (argv[0] === '-A' || argv[0] === '-I')) {
            // accepted: the table as it is now has no loop and no over-deep path
            expect(jumpDepthProblem(t, 'nat', 'PREROUTING', [])).toBeUndefined();
          }
          if (!t || !ask) continue;
          const graph = JumpGraph.of('nat', t);
          for (const c of t.chains) {
            if (isBuiltin('nat', c.name)) continue;
            expect(graph.hooksOf(c.name), `hooks of ${c.name} after ${argv.join(' ')}`).toEqual(referenceHooks(t, c.name));
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('is built only for rules that need it: a jump, or a hook-restricted extension in a user chain', () => {
    const tables: Tables = {};
    const run = (line: string): void => void execute(tables, parseIptables(['-t', 'nat', ...line.split(' ')], () => {}));
    run('-A POSTROUTING -o eth0 -j MASQUERADE');
    run('-N S');
    run('-A S -j ACCEPT');
    expect(JumpGraph.known(tables.nat!)).toBeUndefined();
    run('-A S -j SNAT --to-source 1.2.3.4');
    expect(JumpGraph.known(tables.nat!)).toBeDefined();
    run('-F S');
    expect(JumpGraph.known(tables.nat!)).toBeUndefined();
    run('-A PREROUTING -j S');
    expect(JumpGraph.known(tables.nat!)?.hooksOf('S')).toEqual(['PREROUTING']);
  });

  it('a hook restriction inside a chain is enforced whichever way the jump to it was added', () => {
    const run = (tables: Tables, line: string): string | undefined => {
      try {
        execute(tables, parseIptables(line.split(' '), () => {}));
        return undefined;
      } catch (e) {
        return e instanceof KernelRefusal ? `${e.op}: ${e.why}` : String(e);
      }
    };
    // the rule first, then the jump from PREROUTING: the jump is refused
    const a: Tables = {};
    run(a, '-t nat -N S');
    expect(run(a, '-t nat -A S -j SNAT --to-source 1.2.3.4')).toBeUndefined();
    expect(run(a, '-t nat -A PREROUTING -j S')).toMatch(/^RULE_APPEND: SNAT is only valid in .*chain S is reached from PREROUTING/);
    // the jump first, then the rule: the rule is refused
    const b: Tables = {};
    run(b, '-t nat -N S');
    run(b, '-t nat -N T');
    expect(run(b, '-t nat -A PREROUTING -j T')).toBeUndefined();
    expect(run(b, '-t nat -A T -j S')).toBeUndefined();
    expect(run(b, '-t nat -A S -j SNAT --to-source 1.2.3.4')).toMatch(/^RULE_APPEND: SNAT is only valid in .*chain S is reached from PREROUTING/);
    // reached only from POSTROUTING: allowed
    const c: Tables = {};
    run(c, '-t nat -N S');
    expect(run(c, '-t nat -A POSTROUTING -j S')).toBeUndefined();
    expect(run(c, '-t nat -A S -j SNAT --to-source 1.2.3.4')).toBeUndefined();
  });
});
