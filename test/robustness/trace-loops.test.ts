/**
 * Traces through rule sets that loop or recurse end with a verdict and a reason. The kernel never
 * lets such a rule set in (see limits.case), so these labs are built by hand, as an edited lab
 * file would be: goto cycles (which do not grow the jump stack), jump cycles (which exhaust it),
 * and nesting that multiplies rule evaluations past the engine's bound.
 */
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { builtinLab } from '../../src/net/builtin-lab.js';
import type { Lab } from '../../src/net/lab.js';
import { runChain, RULE_EVALUATION_LIMIT } from '../../src/engine/netfilter.js';
import { tracePacket, type PacketSpec } from '../../src/engine/simulate.js';
import type { TraceEvent } from '../../src/engine/events.js';
import type { Rule } from '../../src/ruleset/rule.js';
import { newTable, type Table } from '../../src/ruleset/tables.js';
// (imported here, not inside the test: the helper registers the removal of its temporary
// directories with afterAll, which a test that imports it late never runs)
import { Sandbox } from '../helpers/cli.js';

const jump = (chain: string, kind: 'jump' | 'goto' = 'jump'): Rule => ({ matches: [], target: { kind, chain }, pkts: 0, bytes: 0 });
const count = (): Rule => ({ matches: [], pkts: 0, bytes: 0 });

/** a filter table whose INPUT enters chain C0, with the user chains given */
function filterWith(chains: Record<string, Rule[]>): Table {
  const t = newTable('filter');
  const input = t.chains.find((c) => c.name === 'INPUT')!;
  input.created = true;
  input.rules = [jump('C0')];
  for (const [name, rules] of Object.entries(chains)) t.chains.push({ name, rules, pkts: 0, bytes: 0 });
  return t;
}

function labWith(t: Table): Lab {
  const lab = builtinLab();
  lab.hosts.router!.tables.filter = t;
  return lab;
}

const SYN: PacketSpec = { iface: 'eth0', proto: 6, src: 0x323c4601, dst: 0x323c4650, sport: 40000, dport: 22, tcpFlags: 2 };

function drops(events: TraceEvent[]): string[] {
  return events.filter((e): e is Extract<TraceEvent, { kind: 'drop' }> => e.kind === 'drop').map((e) => e.reason);
}

describe('traces through looping rules end with a verdict', () => {
  it('a goto cycle is caught when it enters a chain again', () => {
    const lab = labWith(filterWith({ C0: [count(), jump('C1', 'goto')], C1: [count(), jump('C0', 'goto')] }));
    const t = tracePacket(lab, 'router', SYN);
    expect(drops(t.events).join('\n')).toMatch(/goto loop: chain C0 entered again through gotos/);
    expect(t.outcome.kind).not.toBe('delivered');
  });

  it('a jump cycle exhausts the jump stack', () => {
    const lab = labWith(filterWith({ C0: [jump('C1')], C1: [jump('C0')] }));
    const t = tracePacket(lab, 'router', SYN);
    expect(drops(t.events).join('\n')).toMatch(/jump stack exhausted/);
  });

  it('a chain that goes to itself', () => {
    const lab = labWith(filterWith({ C0: [jump('C0', 'goto')] }));
    expect(drops(tracePacket(lab, 'router', SYN).events).join('\n')).toMatch(/goto loop: chain C0/);
  });

  it('jumps and gotos mixed: back into a chain after a return', () => {
    const lab = labWith(filterWith({ C0: [jump('C1'), jump('C2', 'goto')], C1: [count()], C2: [jump('C1'), jump('C0', 'goto')] }));
    expect(drops(tracePacket(lab, 'router', SYN).events).join('\n')).toMatch(/goto loop: chain C0/);
  });

  it('nesting that multiplies evaluations stops at the bound with the reason', () => {
    // each of 12 levels jumps three times into the next: 3^12 = 531441 chain entries
    const chains: Record<string, Rule[]> = {};
    for (let i = 0; i < 12; i++) chains[`C${i}`] = [jump(`C${i + 1}`), jump(`C${i + 1}`), jump(`C${i + 1}`)];
    chains.C12 = [count()];
    const t = filterWith(chains);
    const events: TraceEvent[] = [];
    const res = runChain(t, 'INPUT', { src: 1, dst: 2, proto: 6, sport: 1, dport: 2, len: 60, ttl: 64, tos: 0, mark: 0, fragment: false, nftrace: false } as never, {
      host: 'router',
      table: 'filter',
      hook: 'INPUT',
      extContext: () => ({}) as never,
      emit: (e) => events.push(e),
      evaluationLimit: 5000,
    });
    expect(res.verdict).toBe('DROP');
    expect(res.decidedBy).toMatch(/rule evaluation limit/);
    expect(drops(events).join('\n')).toMatch(/rule evaluation limit reached \(5000 rules in one run of filter INPUT\)/);
    expect(RULE_EVALUATION_LIMIT).toBeGreaterThan(1000000);
  });

  it('the CLI refuses to run such a lab and says why (the file was edited)', async () => {
    const sb = new Sandbox();
    writeFileSync(sb.state, JSON.stringify(labWith(filterWith({ C0: [jump('C1', 'goto')], C1: [jump('C0', 'goto')] }))));
    const r = await sb.sh('trace -i eth0 -p tcp -s 50.60.70.1 -d 50.60.70.80 --dport 22');
    expect(r.rc).toBe(1);
    expect(r.stderr).toMatch(/chains jump in a loop \(INPUT -> C0 -> C1 -> C0\)/);
  });
});
