/**
 * trace --batch's byte writer (src/cli/commands/trace-batch-out.ts) against resultJson(), the
 * string it stands for: every outcome kind, protocols with and without ports, TCP flags, and
 * names and reasons that need escaping or are not ASCII; lines long enough to grow the buffer and
 * enough of them to be handed over in several pieces.
 */
import { describe, expect, it } from 'vitest';
import type { BatchResult, Decision } from '../src/engine/batch.js';
import type { HostOutcome } from '../src/engine/host.js';
import { newPacket, type Packet } from '../src/engine/packet.js';
import { explainHostOutcome } from '../src/engine/simulate.js';
import { resultJson } from '../src/cli/commands/trace-batch.js';
import { ResultWriter } from '../src/cli/commands/trace-batch-out.js';

const ODD = ['eth0', 'wg"0', 'back\\slash', 'tab\there', 'nl\nx', 'é-accent', '漢字', 'pair \ud83d\ude00', 'lone \ud83d', 'lone \ude00 low', 'del\x7f', '', '\x00'];

function packets(): Packet[] {
  const out: Packet[] = [];
  for (const proto of [6, 17, 1, 47, 0, 255]) {
    for (const ports of [true, false]) {
      const p = newPacket({ proto, src: 0x32463c01, dst: proto === 47 ? 0 : 0xffffffff });
      if (ports) {
        p.sport = proto === 255 ? 65535 : 40000;
        p.dport = proto === 0 ? 0 : 8080;
      }
      if (proto === 6) p.tcpFlags = ports ? 0x3f : undefined;
      if (proto === 1) {
        p.icmpType = ports ? 3 : undefined;
        p.icmpCode = ports ? 13 : undefined;
      }
      out.push(p);
    }
  }
  const flags = newPacket({ proto: 6, src: 1, dst: 2, sport: 1, dport: 2 });
  flags.tcpFlags = 0x12;
  out.push(flags);
  const none = newPacket({ proto: 6, src: 1, dst: 2, sport: 1, dport: 2 });
  none.tcpFlags = 0;
  out.push(none);
  return out;
}

function outcomes(pkt: Packet, name: string): HostOutcome[] {
  return [
    { kind: 'deliver', pkt },
    { kind: 'transmit', pkt, dev: name, nexthop: 0x0a000001 },
    { kind: 'drop', pkt, reason: `rule 1 of filter ${name} dropped it`, replies: [] },
    { kind: 'error', pkt, errno: 'ENETUNREACH', reason: name },
  ];
}

function written(results: [number, string, BatchResult][]): string {
  const chunks: Buffer[] = [];
  const w = new ResultWriter((b) => chunks.push(Buffer.from(b)));
  for (const [line, host, r] of results) w.result(line, host, r.outcome, r.decisions, r.reject);
  w.line(JSON.stringify({ line: 7, error: 'trace: bad --dport `é\t"x"\'' }));
  w.flush();
  return Buffer.concat(chunks).toString('utf8');
}

describe('trace --batch output bytes', () => {
  it('are resultJson() lines, whatever the names and reasons hold', () => {
    const results: [number, string, BatchResult][] = [];
    let line = 0;
    for (const [k, pkt] of packets().entries()) {
      // one name longer than the writer's buffer
      for (const name of k ? ODD : [...ODD, 'x'.repeat(300_000)]) {
        for (const host of ['router', name]) {
          for (const o of outcomes(pkt, name)) {
            const decisions: Decision[] = [
              { table: 'nat', hook: 'PREROUTING', chain: name, rule: 1, target: 'DNAT' },
              { table: 'filter', hook: 'FORWARD', chain: 'KUBE-FORWARD', rule: 4294967295, target: name },
            ];
            const r: BatchResult = { outcome: o, explanation: explainHostOutcome(host, o), decisions: line % 3 ? decisions : [] };
            if (o.kind === 'drop' && line % 2) r.reject = name;
            results.push([line === 5 ? 1234567890 : line, host, r]);
            line++;
          }
        }
      }
    }
    const expected = results.map(([l, , r]) => resultJson(l, r) + '\n').join('') + `${JSON.stringify({ line: 7, error: 'trace: bad --dport `é\t"x"\'' })}\n`;
    expect(written(results)).toBe(expected);
  });
});
