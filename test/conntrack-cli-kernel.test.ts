/**
 * conntrack-tools 1.4.7 against the real one: every `@HOST conntrack ...` step of a recorded
 * kernel scenario (fixtures/kernel/*.json, e.g. 115-conntrack-cli.scn: -L with each filter, -C,
 * -D, -F, errors) is run on the emulator after the same commands and probes, and must give the
 * kernel's exit status, stderr and entries. The entries are compared as sorted lines with the
 * seconds left taken out: the kernel lists in the order of its hash table, and its clock runs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Sandbox, splitShell } from './helpers/cli.js';
import { probeTraceArgs, type KernelScenario } from './helpers/kernel-trace.js';

const dir = join(__dirname, '..', 'fixtures', 'kernel');

/** "[ipv4     2 ]tcp      6 118 TIME_WAIT ..." -> the same without the seconds left */
export function withoutTimeout(line: string): string {
  return line.replace(/^((?:ipv4 +2 +)?\S+ +\d+ +)\d+ /, '$1');
}

const listing = (out: string): string[] => out.split('\n').filter((l) => l !== '').map(withoutTimeout).sort();

for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
  const sc = JSON.parse(readFileSync(join(dir, file), 'utf8')) as KernelScenario;
  if (!sc.steps.some((s) => s.cmd?.startsWith('conntrack'))) continue;
  describe(`fixtures/kernel/${file}`, () => {
    it('every conntrack command gives the exit status, messages and entries the real one gave', async () => {
      const sb = new Sandbox();
      const got: unknown[] = [];
      const want: unknown[] = [];
      for (const step of sc.steps) {
        if (step.cmd && step.host) {
          const r = await sb.run(['--host', step.host, ...splitShell(step.cmd)]);
          if (step.cmd.startsWith('conntrack')) {
            const at = `@${step.host} ${step.cmd}`;
            got.push({ at, rc: r.rc, stderr: r.stderr, stdout: listing(r.stdout) });
            want.push({ at, rc: step.rc, stderr: step.stderr, stdout: listing(step.stdout ?? '') });
          }
        }
        if (!step.probe) continue;
        await sb.run(probeTraceArgs(step.probe));
      }
      expect(got).toEqual(want);
    });
  });
}
