/**
 * Datagrams put on a link as raw frames, with sources no socket would give them (DHCP's 0.0.0.0,
 * another network's address, a multicast address) and to broadcast destinations, against the
 * real kernel (fixtures/kernel/*.json steps recorded by record-trace.py's `frame`): the router's
 * one-packet trace (`--host router trace -i IFACE -s SRC ... --format xtables`) must give the
 * kernel's chain/rule/verdict sequence, the router's answers (a REJECT's, ICMP fragmentation needed)
 * their way out of the router, and the router's conntrack table afterwards the kernel's entries
 * (a datagram NAT brought to a lab host's server was answered: the answer is traced too).
 */
import { describe, expect, it } from 'vitest';
import { Sandbox } from './helpers/cli.js';
import { entryKey, firstPacket, frameTraceArgs, kernelScenarios, probeTraceArgs, render, replayCommand, segments, type Segment } from './helpers/kernel-trace.js';

/** whose segments come in turn: the frame's own and the router's answers' ("frame answer frame") */
function order(segs: Segment[], isFirst: (packet: string) => boolean): string {
  const id = segs.find((s) => isFirst(s.packet))?.id;
  return segs.map((s) => (s.id === id ? 'frame' : 'answer')).filter((w, i, all) => w !== all[i - 1]).join(' ');
}

/**
 * The one-packet trace of the answer a lab host's server (record-trace.py's, on udp/80) sent to a
 * datagram that NAT brought to it: the reply tuple of the router's conntrack entry for `sport`,
 * arriving on the router's side of its source, or sent by the router's own server. Undefined when
 * the router has no such entry.
 */
function answerTraceArgs(conntrack: string[], sport: number): string[] | undefined {
  const line = conntrack.find((l) => l.startsWith('udp') && l.includes(` sport=${sport} `));
  const tuples = line && [...line.matchAll(/src=(\S+) dst=(\S+) sport=(\d+) dport=(\d+)/g)];
  if (!tuples || tuples.length < 2) return undefined;
  const [, src, dst, sp, dp] = tuples[1]!;
  const own = ['50.60.70.80', '192.168.1.1'].includes(src!) || src!.startsWith('127.');
  const dev = src!.startsWith('192.168.1.') ? 'eth1' : 'eth0';
  return ['--host', 'router', 'trace', ...(own ? [] : ['-i', dev]), '-p', 'udp', '-s', src!, '--sport', sp!, '-d', dst!, '--dport', dp!];
}

/** the segments of packets the router sent itself (OUT=, another id) about the frame */
function answers(segs: Segment[], isFirst: (packet: string) => boolean): Segment[] {
  const id = segs.find((s) => isFirst(s.packet))?.id;
  return segs.filter((s) => s.id !== id && s.packet.startsWith('OUT='));
}


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
        const gotSegs = segments(r.stdout.split('\n'));
        const wantSegs = segments(step.traces?.router ?? []);
        got.push(at, render(firstPacket(gotSegs, isFirst)));
        want.push(at, render(firstPacket(wantSegs, isFirst)));
        // the router's answers (a REJECT's, an ICMP error of the stack's) leave through its OUTPUT
        // and POSTROUTING; a REJECT's before the REJECT's own verdict, as it is sent while the rule
        // is evaluated
        if (answers(wantSegs, isFirst).length || answers(gotSegs, isFirst).length) {
          got.push(`${at}: answer`, render(answers(gotSegs, isFirst)), order(gotSegs, isFirst));
          want.push(`${at}: answer`, render(answers(wantSegs, isFirst)), order(wantSegs, isFirst));
        }
        // a datagram that NAT sent to a lab host's server was answered (the kernel's entry for it
        // is no longer [UNREPLIED]): the answer goes through the router as the kernel's did
        const answered = (step.conntrack?.router ?? []).some((l) => l.startsWith('udp') && l.includes(` sport=${f.sport} `) && !l.includes('[UNREPLIED]'));
        if (answered) {
          const before = await sb.run(['--host', 'router', 'conntrack', '-L']);
          const args = answerTraceArgs(before.stdout.split('\n'), f.sport);
          if (args) await sb.run(args);
        }
        const ct = await sb.run(['--host', 'router', 'conntrack', '-L']);
        got.push(`${at}: conntrack`, ...ct.stdout.split('\n').filter((l) => l.trim()).map(entryKey).sort());
        want.push(`${at}: conntrack`, ...(step.conntrack?.router ?? []).map(entryKey).sort());
      }
      expect(got).toEqual(want);
    });
  });
}
