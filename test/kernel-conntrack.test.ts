/**
 * Conntrack tables against the real kernel: after every probe of every recorded scenario
 * (fixtures/kernel/*.json), each host's `conntrack -L` must hold the kernel's entries: the same
 * original and reply tuples (so the same NAT bindings), the same [ASSURED]/[UNREPLIED] status, the
 * same marks, on the same hosts (a namespace without conntrack users tracks nothing).
 *
 * Compared without the TCP state and the seconds left: the recorder's clients close their
 * connections (FIN, so the kernel lists TIME_WAIT) while `trace --from` ends a connection after
 * the answer (ESTABLISHED).
 */
import { describe, expect, it } from 'vitest';
import { Sandbox, splitShell } from './helpers/cli.js';
import { entryKey, frameTraceArgs, kernelScenarios, probeTraceArgs } from './helpers/kernel-trace.js';


for (const { file, sc } of kernelScenarios()) {
  if (!sc.steps.some((s) => s.conntrack)) continue;
  describe(`fixtures/kernel/${file}`, () => {
    it("every host's conntrack table after every probe holds the kernel's entries", async () => {
      const sb = new Sandbox();
      const got: string[] = [];
      const want: string[] = [];
      for (const step of sc.steps) {
        if (step.cmd && step.host) await sb.run(['--host', step.host, ...splitShell(step.cmd)], step.stdin);
        // (a frame before a probe leaves its entry in the router's table)
        if (step.frame) await sb.run(frameTraceArgs(step.frame));
        if (!step.probe) continue;
        const p = step.probe;
        await sb.run(probeTraceArgs(p));
        for (const [host, lines] of Object.entries(step.conntrack ?? {})) {
          const r = await sb.run(['--host', host, 'conntrack', '-L']);
          const at = `after ${p.client} -> ${p.dst}:${p.port}/${p.proto} on ${host}:`;
          got.push(at, ...r.stdout.split('\n').filter((l) => l.trim()).map(entryKey).sort());
          want.push(at, ...lines.map(entryKey).sort());
        }
      }
      expect(got).toEqual(want);
    });
  });
}
