/**
 * iptables-restore --noflush as a kube-proxy sync uses it: chains declared again (`:CHAIN - [0:0]`
 * flushes them), their rules written again, jumps added, and a run of -X lines for the chains it
 * drops. Two shortcuts must not change any answer:
 * - a flushed chain loosens the jump graph (as -F does) instead of forgetting it, and a base chain
 *   declared again that the kernel already holds keeps it (as -P does);
 * - a run of -X lines shares one count of the table's references (DeletionRun) instead of reading
 *   every chain for each.
 * Random tables and random restore inputs, applied to a table whose graph is known (in memory, or
 * kept in the lab file it was read from) with the shortcuts, and to a copy with no graph and each
 * -X counting on its own: the same refusals and messages, the same tables.
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { parseIptables } from '../src/cli/commands/iptables.js';
import { restoreInto } from '../src/cli/commands/restore.js';
import { DeletionRun, execute } from '../src/ruleset/execute.js';
import { JumpGraph } from '../src/ruleset/jump-graph.js';
import { deleteChain, findChain, newTable, referenceCount, rulesInFile, type Tables } from '../src/ruleset/tables.js';
import { throughFile } from './helpers/tables.js';

const CHAINS = ['A', 'B', 'C', 'D'];
const BASES = ['PREROUTING', 'OUTPUT', 'POSTROUTING'];
const from = fc.constantFrom(...CHAINS, ...BASES);

/** a rule as restore and iptables write it, without -A CHAIN, jumping only to `to` */
const ruleSpec = (to: string[]) =>
  fc.oneof(
    fc.constantFrom(...to).map((c) => `-j ${c}`),
    fc.constantFrom(...to).map((c) => `-g ${c}`),
    fc.constant('-j ACCEPT'),
    // refused where reached from PREROUTING or OUTPUT
    fc.constant('-j SNAT --to-source 1.2.3.4'),
  );

/** the commands that make the starting table: its chains, and rules that jump between them */
const setup = fc
  .array(
    fc.oneof(
      { arbitrary: fc.tuple(from, ruleSpec(CHAINS)).map(([c, r]) => `-A ${c} ${r}`), weight: 4 },
      fc.constantFrom(...BASES).map((c) => `-P ${c} ACCEPT`),
    ),
    { maxLength: 12 },
  )
  .map((lines) => [...CHAINS.map((c) => `-N ${c}`), ...lines]);

/**
 * a restore input for the nat table as a sync writes one: some chains declared (flushed, or made),
 * rules that jump only to those, -F and -X lines among them, and a run of -X lines at the end
 */
const input = fc.subarray(CHAINS, { minLength: 1 }).chain((declared) => {
  const owner = fc.constantFrom(...declared, ...BASES);
  return fc
    .tuple(
      fc.subarray(BASES),
      fc.array(
        fc.oneof(
          { arbitrary: fc.tuple(owner, ruleSpec(declared)).map(([c, r]) => `-A ${c} ${r}`), weight: 5 },
          owner.map((c) => `-F ${c}`),
          fc.constantFrom(...declared).map((c) => `-X ${c}`),
        ),
        { maxLength: 12 },
      ),
      fc.subarray(declared),
    )
    .map(([bases, body, dropped]) => ['*nat', ...bases.map((c) => `:${c} ACCEPT [0:0]`), ...declared.map((c) => `:${c} - [0:0]`), ...body, ...dropped.map((c) => `-X ${c}`), 'COMMIT', ''].join('\n'));
});

function made(lines: string[]): Tables {
  const tables: Tables = {};
  for (const line of lines) {
    try {
      execute(tables, parseIptables(['-t', 'nat', ...line.split(' ')], () => {}));
    } catch {
      /* refused: the table stays as it was */
    }
  }
  return tables;
}

/** what a restore did: its output and error, and the tables after it (as data: a table read from the file orders its keys otherwise) */
function restored(tables: Tables, text: string): unknown {
  const out: string[] = [];
  let error = '';
  try {
    restoreInto(tables, text, { counters: false, verbose: 0, testing: false, noflush: true, prog: 'iptables-restore', out: (t) => out.push(t), err: (t) => out.push(t), onCommit: () => {}, line: () => {} });
  } catch (e) {
    error = `${(e as Error).constructor.name}: ${(e as Error).message} ${JSON.stringify(e)}`;
  }
  return { out, error, tables: JSON.parse(JSON.stringify(tables)) as unknown };
}

describe('iptables-restore --noflush of a sync', () => {
  it('answers as a table with no graph known, each -X counting on its own', () => {
    fc.assert(
      fc.property(setup, input, fc.constantFrom('memory', 'file', 'file, chains listed'), (lines, text, where) => {
        let tables = made(lines);
        // the graph known (built here) or kept in the lab file the table is read from; the chains of
        // a table read from it made all at once (as `run`'s snapshot lists them: restore then copies
        // the table chain by chain, those still in the file staying there)
        if (tables.nat) JumpGraph.of('nat', tables.nat);
        const reference = structuredClone(tables);
        if (where !== 'memory') tables = throughFile(tables);
        if (where === 'file, chains listed') void tables.nat?.chains;
        const got = restored(tables, text);
        const count = vi.spyOn(DeletionRun.prototype, 'count').mockImplementation((t, c) => referenceCount(t, c));
        try {
          expect(got).toEqual(restored(reference, text));
        } finally {
          count.mockRestore();
        }
      }),
      { numRuns: 800 },
    );
  });

  it('a chain flushed and filled again leaves the graph kept in the lab file in use: the other chains stay undecoded', () => {
    const lines = [...Array.from({ length: 40 }, (_, i) => `-N C${i}`), '-A PREROUTING -j C0', ...Array.from({ length: 39 }, (_, i) => `-A C${i} -j C${i + 1}`)];
    const tables = throughFile(made(lines));
    const text = ['*nat', ':C5 - [0:0]', '-A C5 -j C6', '-A C5 -j C39', ':C7 - [0:0]', '-A C7 -j C8', 'COMMIT', ''].join('\n');
    restoreInto(tables, text, { counters: false, verbose: 0, testing: false, noflush: true, prog: 'iptables-restore', out: () => {}, onCommit: () => {}, line: () => {} });
    // of 44 chains: all but the two flushed, those the new jumps go to and the base chains (forgetting
    // the graph had it built again from 20 more)
    expect(tables.nat!.chains.filter((c) => rulesInFile(c)).length).toBeGreaterThanOrEqual(36);
    const reference = made(lines);
    restored(reference, text);
    expect(JSON.parse(JSON.stringify(tables))).toEqual(JSON.parse(JSON.stringify(reference)));
  });

  it('a run of -X lines in a restore shares one DeletionRun', () => {
    const count = vi.spyOn(DeletionRun.prototype, 'count');
    try {
      const got = restored(made(['-N A', '-N B', '-N C', '-A PREROUTING -j C']), '*nat\n-X A\n-X B\n-X C\nCOMMIT\n') as { error: string };
      expect(got.error).toMatch(/CHAIN_DEL/);
      expect(count.mock.instances.length).toBe(3);
      expect(new Set(count.mock.instances).size).toBe(1);
    } finally {
      count.mockRestore();
    }
  });

  it("-X keeps the table's index of chains by name (each -X of a sync made it again for 40,000 chains)", () => {
    const t = newTable('nat');
    for (let i = 0; i < 1000; i++) t.chains.push({ name: `C${i}`, pkts: 0, bytes: 0, rules: [] });
    expect(findChain(t, 'C500')?.name).toBe('C500');
    let reads = 0;
    for (const c of t.chains) {
      const name = c.name;
      Object.defineProperty(c, 'name', { get: () => (reads++, name) });
    }
    deleteChain(t, findChain(t, 'C10')!);
    expect(findChain(t, 'C10')).toBeUndefined();
    expect(findChain(t, 'C999')?.name).toBe('C999');
    expect(reads).toBeLessThan(10);
    // and it still sees chains added afterwards
    t.chains.push({ name: 'C10', pkts: 0, bytes: 0, rules: [] });
    expect(findChain(t, 'C10')).toBe(t.chains[t.chains.length - 1]);
  });

  it('a run of -X lines: the first counts its own chain, the next ones share one count of all', () => {
    const tables = made(['-N A', '-N B', '-N C', '-N D', '-A PREROUTING -j A', '-A B -j A']);
    const run = new DeletionRun();
    const t = tables.nat!;
    expect(run.count(t, 'C')).toBe(0);
    expect(run.count(t, 'A')).toBe(2);
    // the count of all is kept: a table changed behind its back is not looked at again
    t.chains.find((c) => c.name === 'B')!.rules = [];
    expect(run.count(t, 'A')).toBe(2);
    // another table starts again
    const other = made(['-N A', '-A OUTPUT -j A']).nat!;
    expect(run.count(other, 'A')).toBe(1);
  });
});
