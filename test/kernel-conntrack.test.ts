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
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Sandbox, splitShell } from './helpers/cli.js';
import { probeTraceArgs, type KernelScenario } from './helpers/kernel-trace.js';

const dir = join(__dirname, '..', 'fixtures', 'kernel');

const TCP_STATES = /^(NONE|SYN_SENT|SYN_RECV|ESTABLISHED|FIN_WAIT|CLOSE_WAIT|LAST_ACK|TIME_WAIT|CLOSE|SYN_SENT2)$/;

/** "tcp      6 119 TIME_WAIT src=... [ASSURED] mark=0 use=1" -> "tcp 6 src=... [ASSURED] mark=0" */
export function entryKey(line: string): string {
  const w = line.trim().split(/\s+/);
  // protocol name and number, then the seconds left, then (tcp, sctp, dccp) the state
  const rest = w.slice(3).filter((x, i) => !(i === 0 && TCP_STATES.test(x)));
  return [w[0], w[1], ...rest.filter((x) => !x.startsWith('use='))].join(' ');
}

for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
  const sc = JSON.parse(readFileSync(join(dir, file), 'utf8')) as KernelScenario;
  if (!sc.steps.some((s) => s.conntrack)) continue;
  describe(`fixtures/kernel/${file}`, () => {
    it("every host's conntrack table after every probe holds the kernel's entries", async () => {
      const sb = new Sandbox();
      const got: string[] = [];
      const want: string[] = [];
      for (const step of sc.steps) {
        if (step.cmd && step.host) await sb.run(['--host', step.host, ...splitShell(step.cmd)], step.stdin);
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
