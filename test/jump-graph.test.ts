/**
 * The incrementally kept jump graph (src/ruleset/jump-graph.ts) must answer exactly what a walk
 * of the whole table answers: random sequences of chain and rule commands, including jumps back
 * up (loops), gotos, deletions, flushes and renames, checked after every command against a
 * brute-force reference: the hooks each chain is reached from, and whether a command is refused
 * for too deep a nesting or a loop. Between commands the table may go through the lab file, which
 * keeps the graph (written from the one known, read back instead of walking the table). Also the
 * hook check through jumps (SNAT reached from PREROUTING is refused however the jump to it came
 * about), and a graph kept in a lab file whose rules were then edited by hand is not believed.
 */
import fc from 'fast-check';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { parseIptables } from '../src/cli/commands/iptables.js';
import { builtinLab } from '../src/net/builtin-lab.js';
import { execute, jumpDepthProblem, KernelRefusal } from '../src/ruleset/execute.js';
import { copyGraph, JumpGraph, storeReach } from '../src/ruleset/jump-graph.js';
import { jumpTarget } from '../src/ruleset/rule.js';
import { BUILTIN_CHAINS, copyTable, isBuiltin, type Table, type Tables } from '../src/ruleset/tables.js';
import { encodeLab } from '../src/state/lab-file.js';
import { parseLabText } from '../src/state/store.js';
import { throughFile } from './helpers/tables.js';
import { Sandbox } from './helpers/cli.js';

/**
 * A lab whose nat table `lines` made, read back from its file: commands run on it, the reach column
 * its file would now say, the lab read back again, its nat table
 */
function keptLab(lines: string[]) {
  const tables: Tables = {};
  for (const line of lines) execute(tables, parseIptables(['-t', 'nat', ...line.split(' ')], () => {}));
  const lab = builtinLab();
  lab.hosts.router!.tables = tables;
  let read = parseLabText(encodeLab(lab), 'lab.json');
  return {
    run: (line: string): void => void execute(read.hosts.router!.tables, parseIptables(['-t', 'nat', ...line.split(' ')], () => {})),
    reach: (): unknown => JSON.parse(encodeLab(read).toString().split('\n')[0]!).hosts.router.tables.nat.chains.reach,
    reread: (): void => void (read = parseLabText(encodeLab(read), 'lab.json')),
    nat: (): Table => read.hosts.router!.tables.nat!,
  };
}

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
  fc.constantFrom(...CHAINS, ...BASES).map((c) => ['-D', c, '-j', 'ACCEPT']),
  { arbitrary: fc.tuple(fc.constantFrom(...CHAINS, ...BASES), fc.constantFrom('1', '2')).map(([c, n]) => ['-D', c, n]), weight: 3 },
  // rules that need no graph in a base chain, and one restricted to hooks in a user chain
  fc.constantFrom(...BASES).map((c) => ['-A', c, '-j', 'ACCEPT']),
  fc.constantFrom(...CHAINS).map((c) => ['-A', c, '-j', 'SNAT', '--to-source', '1.2.3.4']),
  // replacing a rule (by a jump or not), counters zeroed, a policy set (creating the base chain or not)
  fc.tuple(fc.constantFrom(...CHAINS, ...BASES), fc.constantFrom(...CHAINS, 'ACCEPT')).map(([c, to]) => ['-R', c, '1', '-j', to]),
  fc.constantFrom(...CHAINS, ...BASES).map((c) => ['-R', c, '1', '-j', 'SNAT', '--to-source', '1.2.3.4']),
  fc.oneof(fc.constant<string[]>(['-Z']), fc.constantFrom(...CHAINS, ...BASES).map((c) => ['-Z', c]), fc.constantFrom(...CHAINS, ...BASES).map((c) => ['-Z', c, '1'])),
  fc.constantFrom(...BASES).map((c) => ['-P', c, 'ACCEPT']),
);

describe('jump graph', () => {
  it('answers what a walk of the whole table answers, after every command', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(command, fc.boolean(), fc.boolean()), { maxLength: 40 }), (cmds) => {
        let tables: Tables = {};
        for (const [argv, ask, write] of cmds) {
          const before = JSON.stringify(tables);
          // the same tables with no graph kept: it is built from the rules when needed
          const fresh = structuredClone(tables);
          const run = (on: Tables): unknown => {
            try {
              execute(on, parseIptables(['-t', 'nat', ...argv], () => {}));
              return undefined;
            } catch (e) {
              return e;
            }
          };
          const refused = run(tables);
          const reference = run(fresh);
          // the graph kept (exact, or saying more than the table) decides as the one built does
          expect(refused instanceof KernelRefusal ? refused.message : String(refused), argv.join(' ')).toBe(reference instanceof KernelRefusal ? reference.message : String(reference));
          expect(JSON.stringify(tables)).toBe(JSON.stringify(fresh));
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
          // a graph known at any time is exact, or says more than the table once jumps were removed
          // (`over`); asking builds it (when asked after some commands only)
          const graph = t && (ask ? JumpGraph.of('nat', t) : JumpGraph.known(t));
          if (t && graph) {
            for (const c of t.chains) {
              if (isBuiltin('nat', c.name)) continue;
              const hooks = graph.hooksOf(c.name);
              const truth = referenceHooks(t, c.name);
              if (graph.over) expect(truth.filter((h) => !hooks.includes(h)), `hooks of ${c.name} after ${argv.join(' ')}`).toEqual([]);
              else expect(hooks, `hooks of ${c.name} after ${argv.join(' ')}`).toEqual(truth);
            }
          }
          if (write) tables = throughFile(tables);
        }
      }),
      { numRuns: 600 },
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
    // flushing takes jumps away: the graph is kept, marked as saying more than the table
    run('-F S');
    expect(JumpGraph.known(tables.nat!)?.over).toBe(true);
    // a rename: the graph follows it (S is reached from POSTROUTING: so is T now, and S no more)
    run('-A POSTROUTING -j S');
    run('-E S T');
    expect(JumpGraph.known(tables.nat!)?.hooksOf('T')).toEqual(['POSTROUTING']);
    expect(JumpGraph.known(tables.nat!)?.hooksOf('S')).toEqual([]);
    run('-E T S');
    run('-A PREROUTING -j S');
    expect(JumpGraph.known(tables.nat!)?.hooksOf('S')).toEqual(['PREROUTING', 'POSTROUTING']);
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

describe('jump graph kept in the lab file', () => {
  it('writes the characters of a chain still where its column has them without looking its name up', () => {
    const names = [...BUILTIN_CHAINS.nat, 'A', 'B', 'C'];
    const t: Table = { chains: names.map((name) => ({ name, policy: 'ACCEPT', created: false, pkts: 0, bytes: 0, rules: [] })) };
    // A reached from PREROUTING, two chains deep; B from PREROUTING and OUTPUT, three deep; C from nowhere
    const column = '=' + '--'.repeat(BUILTIN_CHAINS.nat.length) + '12' + '53' + '--';
    const indexOf = vi.fn((name: string) => names.lastIndexOf(name));
    storeReach(t, { column, nameAt: (i) => names[i], indexOf, verify: () => true, intact: () => true });
    const g = JumpGraph.of('nat', t);
    expect(g.column(names.length, (i) => names[i])).toBe(column);
    expect(indexOf).not.toHaveBeenCalled();
    // B renamed: its characters found by its new name, the others' still where they are
    g.renamed('B', 'Z');
    const renamed = names.map((n) => (n === 'B' ? 'Z' : n));
    expect(g.column(names.length, (i) => renamed[i])).toBe(column);
    expect(indexOf.mock.calls.map(([name]) => name)).toEqual(['B']);
  });

  it('is written with the table and read back instead of walking the chains', () => {
    const tables: Tables = {};
    for (const line of ['-N S', '-N T', '-A POSTROUTING -j T', '-A T -j S']) execute(tables, parseIptables(['-t', 'nat', ...line.split(' ')], () => {}));
    const lab = builtinLab();
    lab.hosts.router!.tables = tables;
    const text = encodeLab(lab).toString();
    // S and T are reached from POSTROUTING (the fourth base chain: bit 3), at depths 3 and 2
    expect(JSON.parse(text.split('\n')[0]!).hosts.router.tables.nat.chains.reach).toBe('=' + '------' + '81' + '83' + '82');
    const read = parseLabText(text, 'lab.json').hosts.router!.tables.nat!;
    expect(JumpGraph.of('nat', read).hooksOf('S')).toEqual(['POSTROUTING']);
    // the graph came from the file: no chain's rules were decoded for it
    const stored = read.chains.filter((c) => Object.getOwnPropertyDescriptor(c, 'rules')!.get !== undefined);
    expect(stored.map((c) => c.name).sort()).toEqual(['POSTROUTING', 'T']);
  });

  it('is kept through commands that leave it as it is, loosened by those that take jumps away, dropped by the others', () => {
    const tables: Tables = {};
    for (const line of ['-N S', '-A POSTROUTING -j S']) execute(tables, parseIptables(['-t', 'nat', ...line.split(' ')], () => {}));
    const lab = builtinLab();
    lab.hosts.router!.tables = tables;
    const reachOf = (l: typeof lab): unknown => JSON.parse(encodeLab(l).toString().split('\n')[0]!).hosts.router.tables.nat.chains.reach;
    expect(reachOf(lab)).toBe('=------8182');
    let read = parseLabText(encodeLab(lab), 'lab.json');
    const run = (line: string): void => void execute(read.hosts.router!.tables, parseIptables(['-t', 'nat', ...line.split(' ')], () => {}));
    // a rule that needs no graph: none is built, the file's is written back
    run('-A POSTROUTING -j ACCEPT');
    expect(JumpGraph.known(read.hosts.router!.tables.nat!)).toBeUndefined();
    expect(reachOf(read)).toBe('=------8182');
    // a new chain: reached from nowhere yet
    run('-N U');
    expect(reachOf(read)).toBe('=------8182--');
    read = parseLabText(encodeLab(read), 'lab.json');
    // deleting rules that jump nowhere leaves it as it is
    run('-D POSTROUTING -j ACCEPT');
    run('-A POSTROUTING -j ACCEPT');
    run('-D POSTROUTING 2');
    expect(reachOf(read)).toBe('=------8182--');
    // deleting a jump: kept, marked as saying more than the table (S is reached from nowhere now)
    run('-D POSTROUTING 1');
    expect(reachOf(read)).toBe('>------8182--');
    // a rename: followed (U is V now, still reached from nowhere)
    run('-E U V');
    expect(reachOf(read)).toBe('>------8182--');
    run('-A POSTROUTING -j V');
    expect(reachOf(read)).toBe('>------818282');
  });

  it('is kept through -R (jumps of the new rule added, of the old taken away), -Z and -P', () => {
    const { run, reach, reread } = keptLab(['-N S', '-N T', '-A POSTROUTING -j S', '-A S -j ACCEPT']);
    expect(reach()).toBe('=------81' + '82' + '--');
    // a rule that jumped nowhere replaced by a jump: T is reached now
    run('-R S 1 -j T');
    expect(reach()).toBe('=------81' + '82' + '83');
    reread();
    // counters and the policy of a base chain that is there change nothing
    run('-Z');
    run('-Z S 1');
    run('-P POSTROUTING ACCEPT');
    expect(reach()).toBe('=------81' + '82' + '83');
    // a jump replaced: kept, saying more than the table
    run('-R S 1 -j ACCEPT');
    expect(reach()).toBe('>------81' + '82' + '83');
  });

  it('follows a rename (-E) read from the file: the chain keeps its reach, a new chain of its old name has none', () => {
    const { run, reach, nat } = keptLab(['-N A', '-N B', '-A POSTROUTING -j A', '-A A -j B']);
    expect(reach()).toBe('=------81' + '82' + '83');
    run('-E A C');
    run('-N A');
    // A, B, C in the table's order (C where A was), then the new A
    expect(reach()).toBe('=------81' + '82' + '83' + '--');
    expect(JumpGraph.known(nat())?.hooksOf('A')).toEqual([]);
    expect(JumpGraph.known(nat())?.hooksOf('C')).toEqual(['POSTROUTING']);
  });

  it('is kept by name when chains go (-X): the chains after them have moved up', () => {
    const { run, reach, nat } = keptLab(['-N S', '-N T', '-N U', '-A POSTROUTING -j T', '-A T -j U']);
    // (the four base chains, POSTROUTING reaching itself; then S, T and U)
    expect(reach()).toBe('=------81' + '--' + '82' + '83');
    run('-X S');
    expect(JumpGraph.known(nat()), 'no graph built for it').toBeUndefined();
    expect(reach()).toBe('=------81' + '82' + '83');
    // and every user chain gone (the jumps to them first): loosened, the base chains' own kept
    for (const line of ['-F POSTROUTING', '-F T', '-X']) run(line);
    expect(reach()).toBe('>------81');
  });

  it('saying more than the table, refuses nothing the table allows: a refusal is asked again of the rules', () => {
    const tables: Tables = {};
    for (const line of ['-N S', '-A PREROUTING -j S']) execute(tables, parseIptables(['-t', 'nat', ...line.split(' ')], () => {}));
    const read = throughFile(tables);
    execute(read, parseIptables(['-t', 'nat', '-D', 'PREROUTING', '-j', 'S'], () => {}));
    const lab = builtinLab();
    lab.hosts.router!.tables = read;
    expect(JSON.parse(encodeLab(lab).toString().split('\n')[0]!).hosts.router.tables.nat.chains.reach).toBe('>11------12');
    // S is reached from nowhere now, though the graph kept still says PREROUTING: SNAT is allowed
    const again = throughFile(read);
    expect(() => execute(again, parseIptables(['-t', 'nat', '-A', 'S', '-j', 'SNAT', '--to-source', '1.2.3.4'], () => {}))).not.toThrow();
    expect(JumpGraph.known(again.nat!)?.over).toBe(false);
  });

  it('saying more than the table, a path too deep by it is asked again of the rules, which then see the whole path', () => {
    const tables: Tables = {};
    const run = (line: string): string | undefined => {
      try {
        execute(tables, parseIptables(['-t', 'nat', ...line.split(' ')], () => {}));
        return undefined;
      } catch (e) {
        return e instanceof KernelRefusal ? e.errText : String(e);
      }
    };
    // X at depth 15 below PREROUTING, then that path cut: the graph kept still says 15
    const path = Array.from({ length: 13 }, (_, i) => `A${i + 1}`);
    for (const c of [...path, 'X', 'Y', 'Z', 'W']) run(`-N ${c}`);
    ['PREROUTING', ...path].forEach((c, i) => run(`-A ${c} -j ${[...path, 'X'][i]}`));
    run('-D PREROUTING -j A1');
    expect(run('-A POSTROUTING -j X')).toBeUndefined();
    run('-A Z -j W');
    run('-A Y -j Z');
    // by the graph kept, Y and Z would sit at depths 16 and 17: too deep, and W never reached; by
    // the rules, X is at depth 2 below POSTROUTING, so W is reached from POSTROUTING at depth 5
    expect(run('-A X -j Y')).toBeUndefined();
    expect(JumpGraph.known(tables.nat!)?.hooksOf('W')).toEqual(['POSTROUTING']);
    expect(run('-A W -j DNAT --to-destination 1.2.3.4')).toBe('Invalid argument');
  });

  it('written back with the table still in the file: the column kept, changed where the chains reached changed', () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 12 }), fc.array(command, { minLength: 1, maxLength: 8 }), (before, after) => {
        const run = (tables: Tables, argv: string[]): void => {
          try {
            execute(tables, parseIptables(['-t', 'nat', ...argv], () => {}));
          } catch {
            /* refused: nothing changed */
          }
        };
        const tables: Tables = {};
        for (const argv of [...before, ['-A', 'POSTROUTING', '-j', 'ACCEPT']]) run(tables, argv);
        JumpGraph.of('nat', tables.nat!);
        const lab = builtinLab();
        lab.hosts.router!.tables = tables;
        const read = parseLabText(encodeLab(lab), 'lab.json');
        // commands on the table read, which leave its chains in the file, then written
        const kept = read.hosts.router!.tables;
        for (const argv of after) run(kept, argv);
        const text = encodeLab(read).toString();
        // the reference: the same table, its graph built from its rules
        const plain = (JSON.parse(JSON.stringify(read)) as typeof lab).hosts.router!.tables;
        if (!plain.nat) return;
        JumpGraph.of('nat', plain.nat);
        const ref = builtinLab();
        ref.hosts.router!.tables = plain;
        const reach = (t: string): unknown => JSON.parse(t.split('\n')[0]!).hosts.router.tables.nat.chains.reach;
        const written = reach(text);
        // (a graph kept that says more than the table, or none, is not compared: only an exact one;
        // and only the user chains' reach, which is what the checks read: a base chain's own is
        // known without it, and a kept column learns of one created later only when a graph is built)
        const users = (col: unknown): string => String(col).slice(1 + 2 * BUILTIN_CHAINS.nat.length);
        if (typeof written === 'string' && written[0] === '=') expect(users(written), [...before, ...after].map((a) => a.join(' ')).join('; ')).toBe(users(reach(encodeLab(ref).toString())));
      }),
      { numRuns: 400 },
    );
  });

  it('goes with a copy of its table (iptables-restore --noflush works on one), each changing on its own', () => {
    const tables: Tables = {};
    for (const line of ['-N S', '-A POSTROUTING -j S']) execute(tables, parseIptables(['-t', 'nat', ...line.split(' ')], () => {}));
    const copy = copyTable(tables.nat!);
    copyGraph(tables.nat!, copy);
    expect(JumpGraph.known(copy)?.hooksOf('S')).toEqual(['POSTROUTING']);
    execute({ nat: copy }, parseIptables(['-t', 'nat', '-A', 'PREROUTING', '-j', 'S'], () => {}));
    expect(JumpGraph.known(copy)?.hooksOf('S')).toEqual(['PREROUTING', 'POSTROUTING']);
    expect(JumpGraph.known(tables.nat!)?.hooksOf('S')).toEqual(['POSTROUTING']);
    // a table read from the lab file: the copy takes the graph the file kept, still unread
    const read = throughFile(tables).nat!;
    const copied = copyTable(read);
    copyGraph(read, copied);
    expect(JumpGraph.known(copied)).toBeUndefined();
    expect(JumpGraph.of('nat', copied).hooksOf('S')).toEqual(['POSTROUTING']);
    expect(copied.chains.filter((c) => Object.getOwnPropertyDescriptor(c, 'rules')!.get === undefined).map((c) => c.name)).toEqual(['PREROUTING', 'INPUT', 'OUTPUT', 'S']);
  });

  it('is not believed once a chain was edited by hand: the jump added by the edit counts', async () => {
    const sb = new Sandbox();
    for (const cmd of ['-N S', '-N T', '-A POSTROUTING -j S', '-A PREROUTING -j T']) expect((await sb.sh(`iptables -t nat ${cmd}`)).rc).toBe(0);
    // PREROUTING's jump now goes to S, by hand; line 1 still says S is reached from POSTROUTING only
    const lines = readFileSync(sb.state, 'utf8').split('\n');
    expect(JSON.parse(lines[0]!).hosts.router.tables.nat.chains.reach).toMatch(/^[=>][0-9a-v-]+$/);
    const at = lines.findIndex((l) => l.includes('"chain":"T"'));
    lines[at] = lines[at]!.replace('"chain":"T"', '"chain":"S"');
    writeFileSync(sb.state, lines.join('\n'));
    const r = await sb.sh('iptables -t nat -A S -j SNAT --to-source 1.2.3.4');
    expect(r.stderr).toMatch(/RULE_APPEND failed/);
    expect(r.stderr).toMatch(/reached from PREROUTING/);
  });
});
