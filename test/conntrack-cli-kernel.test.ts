/**
 * conntrack-tools 1.4.7 against the real one: every `@HOST conntrack ...` step of a recorded
 * kernel scenario (fixtures/kernel/*.json, e.g. 115-conntrack-cli.scn: -L with each filter, -C,
 * -D, -F, errors) is run on the emulator after the same commands and probes, and must give the
 * kernel's exit status, stderr and entries. The entries are compared as sorted lines with the
 * seconds left taken out: the kernel lists in the order of its hash table, and its clock runs.
 * (125-conntrack-change.scn: -G, -I, -A and -U.) And nfacct 1.0.2's commands (130-nfacct.scn), the
 * same way (its lines hold no time and come in the kernel's order, kept by the sort).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Sandbox, splitShell } from './helpers/cli.js';
import { probeTraceArgs, type KernelScenario } from './helpers/kernel-trace.js';

const dir = join(__dirname, '..', 'fixtures', 'kernel');

/** "[ipv4     2 ]tcp      6 118 TIME_WAIT ..." and `-o save`'s "-A -t 118 ..." -> the same without the seconds left */
export function withoutTimeout(line: string): string {
  return line.replace(/^((?:ipv4 +2 +)?\S+ +\d+ +)\d+ /, '$1').replace(/^(-[ADU] -t )\d+ /, '$1');
}

const listing = (out: string): string[] => out.split('\n').filter((l) => l !== '').map(withoutTimeout).sort();

/** the tools whose commands a scenario's steps are compared for: conntrack-tools and nfacct */
const compared = (cmd: string | undefined): boolean => !!cmd && /^(conntrack|nfacct)\b/.test(cmd);

for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
  const sc = JSON.parse(readFileSync(join(dir, file), 'utf8')) as KernelScenario;
  if (!sc.steps.some((s) => compared(s.cmd))) continue;
  describe(`fixtures/kernel/${file}`, () => {
    it('every conntrack and nfacct command gives the exit status, messages and entries the real one gave', async () => {
      const got: unknown[] = [];
      const want: unknown[] = [];
      await replay(sc, (step, r) => {
        if (compared(step.cmd)) {
          const at = `@${step.host} ${step.cmd}`;
          const ours = listing(r.stdout);
          const theirs = listing(step.stdout ?? '');
          // conntrack-tools 1.4.7 prints only some of the entries a -U updates when it updates
          // several (its replies get out of step with its requests): each line it printed must be
          // one of ours, and the count of updated entries the same
          const several = /^conntrack .*: ([2-9]|\d\d+) flow entries have been updated\.$/m.test(step.stderr ?? '');
          got.push({ at, rc: r.rc, stderr: r.stderr, stdout: several ? theirs.filter((l) => ours.includes(l)) : ours });
          want.push({ at, rc: step.rc, stderr: step.stderr, stdout: theirs });
        }
      });
      expect(got).toEqual(want);
    });
  });
}

type Step = KernelScenario['steps'][number];

/** runs a scenario's commands and probes on a fresh lab, handing each command's result to `seen`; the lab is returned */
async function replay(sc: KernelScenario, seen: (step: Step, r: { rc: number; stdout: string; stderr: string }) => void): Promise<Sandbox> {
  const sb = new Sandbox();
  for (const step of sc.steps) {
    if (step.cmd && step.host) seen(step, await sb.run(['--host', step.host, ...splitShell(step.cmd)], step.stdin));
    if (step.probe) await sb.run(probeTraceArgs(step.probe));
  }
  return sb;
}

describe('fixtures/kernel/137-conntrack-timeouts.json: timeouts set with sysctl', () => {
  it("counts entries down from the timeouts written before they were made or refreshed (the kernel's seconds left, give or take its clock)", async () => {
    const sc = JSON.parse(readFileSync(join(dir, '137-conntrack-timeouts.json'), 'utf8')) as KernelScenario;
    /** each entry's seconds left, by its text without them */
    const seconds = (out: string): Map<string, number> =>
      new Map(out.split('\n').filter((l) => /^\S+ +\d+ +\d+ /.test(l)).map((l) => [withoutTimeout(l), Number(l.split(/\s+/)[2])]));
    const lists: [Map<string, number>, Map<string, number>][] = [];
    await replay(sc, (step, r) => {
      if (step.cmd?.startsWith('conntrack -L')) lists.push([seconds(r.stdout), seconds(step.stdout ?? '')]);
    });
    expect(lists.length).toBe(3);
    for (const [ours, theirs] of lists) {
      expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
      for (const [entry, left] of theirs) expect(Math.abs(ours.get(entry)! - left), entry).toBeLessThanOrEqual(1);
    }
    // the values written, not the defaults: udp 17, TIME_WAIT 33, icmp 11 (30, 120 and 30 by default)
    expect([...lists[1]![1].values()].sort((a, b) => a - b)).toEqual([10, 15, 27, 31]);
  });
});

describe('fixtures/kernel/125-conntrack-change.json: conntrack -u FIXED_TIMEOUT', () => {
  it("keeps the entry's timeout when its packets pass, where the kernel refreshes the others' (485 and 28 seconds left there)", async () => {
    const sc = JSON.parse(readFileSync(join(dir, '125-conntrack-change.json'), 'utf8')) as KernelScenario;
    const last = sc.steps.filter((s) => s.cmd === 'conntrack -L').at(-1)!;
    const sb = await replay(sc, () => {});
    const ours = (await sb.run(['--host', 'router', 'conntrack', '-L'])).stdout;
    /** seconds left of the entry of source port `sport` */
    const left = (out: string, sport: number): number => Number(new RegExp(`^udp +17 (\\d+) .*sport=${sport} `, 'm').exec(out)![1]);
    const refreshed = (out: string) => [40038, 40039].map((p) => left(out, p) <= 30);
    expect(refreshed(last.stdout!)).toEqual([false, true]);
    expect(refreshed(ours)).toEqual(refreshed(last.stdout!));
  });
});
