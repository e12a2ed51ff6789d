/**
 * Whole connections through the lab against the real kernel: every probe of every recorded
 * scenario (fixtures/kernel/*.json: a client program in one namespace connecting through the
 * seed's home network) must get the kernel's result from `trace --from ... --json`: the verdict,
 * the host whose socket accepted, and the peer address and port that socket saw.
 */
import { describe, expect, it } from 'vitest';
import { Sandbox } from './helpers/cli.js';
import { frameTraceArgs, kernelScenarios, probeTraceArgs, replayCommand } from './helpers/kernel-trace.js';


/**
 * The errors the recorder's client reports as "fail oserror-N" (its "unreachable" is
 * ENETUNREACH/EHOSTUNREACH, "refused" ECONNREFUSED). SPEC's verdicts have no word for them: the
 * emulator says `unreachable` and gives the errno: EPERM is a send() its own netfilter refused,
 * the others come from an ICMP destination-unreachable code (icmp_err_convert[]).
 */
const OSERROR: Record<string, string> = { 1: 'EPERM', 13: 'EACCES', 22: 'EINVAL', 64: 'ENONET', 90: 'EMSGSIZE', 92: 'ENOPROTOOPT', 95: 'EOPNOTSUPP', 112: 'EHOSTDOWN' };
const PLAIN_ERRNO = new Set(['ENETUNREACH', 'EHOSTUNREACH', 'ECONNREFUSED']);

/** "ok pc1 saw 50.60.70.1:40401" | "fail timeout" -> comparable text */
export function kernelResult(r: string): string {
  const ok = /^ok (\S+) saw (\S+)$/.exec(r);
  if (ok) return `established by ${ok[1]} seen-from ${ok[2]}`;
  const os = /^fail oserror-(\d+)$/.exec(r);
  if (os && OSERROR[os[1]!]) return `unreachable (errno: ${OSERROR[os[1]!]})`;
  return r.replace(/^fail /, '');
}

for (const { file, sc } of kernelScenarios()) {
  describe(`fixtures/kernel/${file}`, () => {
    it('every probe gets the kernel result', async () => {
      const sb = new Sandbox();
      const got: string[] = [];
      const want: string[] = [];
      for (const step of sc.steps) {
        await replayCommand(sb, step);
        // (a frame before a probe leaves its entry in the router's table)
        if (step.frame) await sb.run(frameTraceArgs(step.frame));
        if (!step.probe) continue;
        const p = step.probe;
        const r = await sb.run(['--json', ...probeTraceArgs(p)]);
        expect(r.stderr).toBe('');
        const j = JSON.parse(r.stdout) as { verdict: string; server: { host: string } | null; peer: { address: string; port: number } | null; explanation: string; errno?: string };
        const line = `${p.client} -> ${p.dst}:${p.port}/${p.proto}`;
        const verdict = j.errno && !PLAIN_ERRNO.has(j.errno) ? `${j.verdict} (errno: ${j.errno})` : j.verdict;
        got.push(`${line} => ${j.verdict === 'established' ? `established by ${j.server!.host} seen-from ${j.peer!.address}:${j.peer!.port}` : verdict}   (${j.explanation})`);
        want.push(`${line} => ${kernelResult(step.result!)}`);
      }
      // compare without the explanations, show them when something differs
      expect(got.map((g) => g.replace(/ {3}\(.*$/s, ''))).toEqual(want);
    });
  });
}
