/**
 * The kernel's own trace of a connection's first packet through the router (recorded with
 * xtables-monitor --trace in network namespaces shaped like the built-in lab) against
 * `iptables-sim --host router trace ... --format xtables` after the same commands.
 * Compared: the chain/rule/verdict sequence with rule handles and -S text, and the packet as each
 * base chain saw it (interfaces, addresses, ports, TTL, flags, mark). Not compared: packet ids,
 * MACs, lengths, IP ids.
 * The packet handed to the router is the probe's: it arrives on the client's side with the source
 * routing gave the client (`saddr`, recorded) and, when another host forwarded it on the way, the
 * TTL it arrived with.
 */
import { describe, expect, it } from 'vitest';
import { Sandbox, splitShell } from './helpers/cli.js';
import { firstPacket, kernelScenarios, render, segments } from './helpers/kernel-trace.js';

const ADDR: Record<string, { iface: string; addr: string }> = {
  internet: { iface: 'eth0', addr: '50.60.70.1' },
  pc1: { iface: 'eth1', addr: '192.168.1.2' },
  pc2: { iface: 'eth1', addr: '192.168.1.3' },
};

for (const { file, sc } of kernelScenarios()) {
  const probes = sc.steps.filter((s) => s.probe && (s.traces?.router?.length ?? 0) > 0);
  // (a scenario that traces nothing on the router, such as 115-conntrack-cli, has nothing to check here)
  if (!probes.length) continue;
  describe(`fixtures/kernel/${file}`, () => {
    // This runner replays earlier probes as single packets, which leave their TCP connections
    // open; a TCP probe reusing an earlier one's client port meets the kernel's closed connection
    // only in the whole-lab runners (kernel-lab, kernel-conntrack), which check it.
    const key = (p: (typeof probes)[number]) => `${p.probe!.client} ${p.probe!.proto} ${p.probe!.sport}`;
    const reuses = (i: number) => probes[i]!.probe!.proto === 'tcp' && probes.slice(0, i).some((q) => key(q) === key(probes[i]!));
    const cases = probes.map((p, i) => [`${p.probe!.client} -> ${p.probe!.dst}:${p.probe!.port}/${p.probe!.proto}`, i] as const);
    it.skip.each(cases.filter(([, i]) => reuses(i)))('first packet of %s through the router (reuses an earlier probe\'s port)', () => {});
    it.each(cases.filter(([, i]) => !reuses(i)))(
      'first packet of %s through the router',
      async (_name, i) => {
        const sb = new Sandbox();
        // replay the router's commands and earlier probes' first packets in order (nth counters, conntrack)
        let probeNo = -1;
        for (const step of sc.steps) {
          if (step.cmd && step.host === 'router') {
            const r = await sb.run(splitShell(step.cmd), step.stdin);
            expect(r.rc, `${step.cmd}: ${r.stderr}`).toBe(step.rc);
          }
          if (!step.probe || !((step.traces?.router?.length ?? 0) > 0)) continue;
          probeNo++;
          const p = step.probe;
          const from = ADDR[p.client];
          // an echo request has no ports in xtables-monitor's packet line: it is the first packet
          // traced coming in (from another host), or the first one traced at all (from the router);
          // the router's echo reply, traced in OUTPUT, is not the request
          const isFirst = (pkt: string) => (p.proto === 'icmp' ? !from || pkt.startsWith('IN=') : pkt.includes(`SPORT=${p.sport} `) && (p.proto === 'udp' || / SYN$/.test(pkt)));
          const kernelFirst = firstPacket(segments(step.traces!.router!), isFirst);
          // the packet as it arrived, where the kernel traced it: the client's own NAT may have
          // rewritten what the probe asked for (otherwise: the source routing gave the client,
          // which a route's `src` can make another than its own)
          const arrived = from && kernelFirst[0]?.packet.startsWith('IN=') ? kernelFirst[0].packet : '';
          const field = (name: string) => new RegExp(`\\b${name}=(\\S+)`).exec(arrived)?.[1];
          const saddr = (p as typeof p & { saddr?: string | null }).saddr;
          const dst = field('DST') ?? p.dst;
          const dport = field('DPORT') ?? String(p.port);
          const args = ['--host', 'router', 'trace', '-p', p.proto, '--sport', String(p.sport), '-d', dst, ...(p.proto === 'icmp' ? [] : ['--dport', dport]), '--format', 'xtables'];
          if (from) args.push('-i', from.iface, '-s', field('SRC') ?? saddr ?? from.addr);
          // a packet another host forwarded on its way here arrives with that host's TTL decrement
          const arrivalTtl = /\bTTL=(\d+)/.exec(kernelFirst[0]?.packet ?? '')?.[1];
          if (from && arrivalTtl && arrivalTtl !== '64') args.push('--ttl', arrivalTtl);
          const got = await sb.run(args);
          if (probeNo !== i) continue;
          expect(got.stderr).toBe('');
          const want = render(kernelFirst);
          const mine = render(firstPacket(segments(got.stdout.split('\n')), isFirst));
          expect(mine).toBe(want);
          return;
        }
      },
    );
  });
}
