/**
 * Datagrams put on a link as raw frames, with sources no socket would give them (DHCP's 0.0.0.0,
 * another network's address, a multicast address) and to broadcast destinations, against the
 * real kernel (fixtures/kernel/*.json steps recorded by record-trace.py's `frame`): the router's
 * one-packet trace (`--host router trace -i IFACE -s SRC ... --format xtables`) must give the
 * kernel's chain/rule/verdict sequence, and the router's conntrack table afterwards the kernel's
 * entries.
 */
import { describe, expect, it } from 'vitest';
import { Sandbox } from './helpers/cli.js';
import { entryKey, firstPacket, frameTraceArgs, kernelScenarios, probeTraceArgs, render, replayCommand, segments } from './helpers/kernel-trace.js';


for (const { file, sc } of kernelScenarios()) {
  if (!sc.steps.some((s) => s.frame)) continue;
  describe(`fixtures/kernel/${file}`, () => {
    it("every frame takes the kernel's way through the router and leaves its conntrack entries", async () => {
      const sb = new Sandbox();
      const got: string[] = [];
      const want: string[] = [];
      for (const step of sc.steps) {
        await replayCommand(sb, step);
        // (a probe before a frame leaves its connections in the router's table)
        if (step.probe) await sb.run(probeTraceArgs(step.probe));
        const f = step.frame;
        if (!f) continue;
        const isFirst = (pkt: string) => pkt.includes(`SPORT=${f.sport} `);
        const r = await sb.run([...frameTraceArgs(f), '--format', 'xtables']);
        expect(r.stderr).toBe('');
        const at = `${f.client} ${f.src}:${f.sport} -> ${f.dst}:${f.port}/${f.proto}`;
        got.push(at, render(firstPacket(segments(r.stdout.split('\n')), isFirst)));
        want.push(at, render(firstPacket(segments(step.traces?.router ?? []), isFirst)));
        const ct = await sb.run(['--host', 'router', 'conntrack', '-L']);
        got.push(`${at}: conntrack`, ...ct.stdout.split('\n').filter((l) => l.trim()).map(entryKey).sort());
        want.push(`${at}: conntrack`, ...(step.conntrack?.router ?? []).map(entryKey).sort());
      }
      expect(got).toEqual(want);
    });
  });
}
