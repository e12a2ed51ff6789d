/**
 * trace --batch's shortcuts against the code they stand for.
 *
 * The line reader's fast path (fastSpec()) against packetSpec(parsePacketLine(splitWords())):
 * on random lines made of the options, good and bad values, quotes and stray words, it either
 * gives way or gives the same packet.
 *
 * The byte writer (src/cli/commands/trace-batch-out.ts) against resultJson(), the
 * string it stands for: every outcome kind, protocols with and without ports, TCP flags, and
 * names and reasons that need escaping or are not ASCII; lines long enough to grow the buffer and
 * enough of them to be handed over in several pieces.
 *
 * The file reader (LineBlocks) against the file decoded whole: blocks of whole lines whose text,
 * joined, is the file's, for lines and characters that straddle its blocks.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BatchResult, Decision } from '../src/engine/batch.js';
import type { HostOutcome } from '../src/engine/host.js';
import { newPacket, type Packet } from '../src/engine/packet.js';
import { explainHostOutcome } from '../src/engine/simulate.js';
import { fastSpec, fastSpecAt, LineBlocks, parsePacketLine, resultJson, splitWords } from '../src/cli/commands/trace-batch.js';
import { packetSpec } from '../src/cli/commands/trace.js';
import { SimError } from '../src/errors.js';
import { ResultWriter } from '../src/cli/commands/trace-batch-out.js';
import { generator } from './helpers/random.js';
import { tempDir } from './helpers/tmp.js';

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


const WORDS: Record<string, string[]> = {
  '-i': ['eth0', 'eth1', 'lo', 'eth9', '-p', '"eth0"', "'eth 0'", 'ëth0', 'eth0\\'],
  '-p': ['tcp', 'udp', 'icmp', 'TCP', 'Udp', '6', '17', '1', 'gre', 'sctp', '47', 'bogus', '', 'icmpx', 'tcp6', 'ud'],
  '-s': ['1.2.3.4', '50.60.70.1', '192.168.1.2', '01.2.3.4', '1.2.3.04', '1.2.3.256', '1.2.3', '1.2.3.4.', '1.2.3.4/24', 'x', '0.0.0.0', '255.255.255.255'],
  '-d': ['10.96.0.1', '192.168.1.1', '8.8.8.8', '127.0.0.1', '10.96.0.1/32', 'host', '1..2.3', '300.1.1.1'],
  '--sport': ['0', '1', '40000', '65535', '65536', '080', '00', '0x50', '-1', '+5', '1e3', '', '99999999999'],
  '--dport': ['0', '80', '443', '65535', '65536', '080', '0x50', ' 80', 'eighty'],
};
const OTHER = ['--tcp-flags SYN,ACK', '--icmp-type echo-reply', '--mark 0x10', '--len 100', '--ttl 1', '--dport=80', '-d10.96.0.1', '--source 1.2.3.4', 'stray', '--', '-x', '--format json', '-'];

/** the spec's fields in order, absent and undefined told apart */
const exact = (spec: object) => JSON.stringify(Object.entries(spec), (_, v: unknown) => (v === undefined ? '(undefined)' : v));

describe('trace --batch line reader', () => {
  it('reads the common lines as the general reader does, and leaves the others to it', () => {
    const { pick } = generator(0x5eed);
    let fast = 0;
    for (let n = 0; n < 20000; n++) {
      const parts: string[] = [];
      // a few distinct options, as packet files mostly have them, -d most of the time
      const opts = Object.keys(WORDS).filter((o) => o === '-d' ? pick([0, 1, 1, 1, 1, 1, 1, 1, 1, 1]) : pick([0, 1]));
      for (let k = opts.length - 1; k > 0; k--) {
        const j = pick([...Array(k + 1).keys()]);
        [opts[k], opts[j]] = [opts[j]!, opts[k]!];
      }
      // now and then an option twice, another option or a stray word
      if (pick([0, 0, 0, 0, 0, 0, 1])) opts.push(pick(Object.keys(WORDS)));
      if (pick([0, 0, 0, 0, 0, 0, 1])) opts.splice(pick([0, 1, 2]), 0, pick(OTHER));
      for (const opt of opts) {
        const values = WORDS[opt];
        if (!values) parts.push(opt);
        // mostly good values, so that most lines take the fast path
        else parts.push(`${opt}${pick([' ', ' ', ' ', '  ', '\t'])}${pick([0, 0, 0, 1]) ? pick(values) : values[pick([0, 1, 2])]}`);
      }
      const line = parts.join(pick([' ', ' ', '\t', '   ']));
      let general: string;
      try {
        general = exact(packetSpec(parsePacketLine(splitWords(line))));
      } catch (e) {
        if (!(e instanceof SimError)) throw e;
        general = `error: ${e.message}`;
      }
      const spec = fastSpec(line);
      // the batch reads its lines in place, inside the file's text
      const text = `-i eth0 -d 1.2.3.4\n${line}\n--dport 80`;
      const inPlace = fastSpecAt(text, 19, 19 + line.length);
      expect(inPlace === undefined ? 'none' : exact(inPlace), line).toBe(spec === undefined ? 'none' : exact(spec));
      if (spec === undefined) continue;
      fast++;
      expect(exact(spec), line).toBe(general);
    }
    // the fast path is taken often enough for the comparison to mean something
    expect(fast).toBeGreaterThan(3000);
  });
});

describe('LineBlocks', () => {
  const kanji = Buffer.from('漢');
  const cases: [string, Buffer][] = [
    ['empty', Buffer.alloc(0)],
    ['one line, no newline', Buffer.from('-d 1.2.3.4 --dport 80')],
    ['a character of three bytes across the first block', Buffer.concat([Buffer.from('x\n'), Buffer.alloc(65532, 0x61), kanji, Buffer.from('\nb\n')])],
    ['a first line longer than a block', Buffer.concat([Buffer.alloc(65535, 0x61), kanji, Buffer.from('\nb\n')])],
    ['a newline as the last byte of a block', Buffer.concat([Buffer.alloc(65535, 0x61), Buffer.from('\nb')])],
    ['a line of 200,000 bytes', Buffer.concat([Buffer.from('x\n'), Buffer.alloc(200000, 0x20), kanji, Buffer.from('\ny\n')])],
    // a lead byte cut off by a newline, a stray continuation byte: U+FFFD, as the whole file decodes them
    ['bytes that are no UTF-8', Buffer.concat([Buffer.alloc(65534, 0x62), Buffer.from([0xe6, 0x0a, 0x80, 0xff, 0x0a]), Buffer.alloc(70000, 0x63)])],
  ];
  it.each(cases)('%s: blocks of whole lines, joined the text of the file', (_name, bytes) => {
    const path = join(tempDir('iptsim-lines-'), 'p.txt');
    writeFileSync(path, bytes);
    const blocks: string[] = [];
    const lines = LineBlocks.open('p.txt', path);
    for (let b = lines.next(); b !== undefined; b = lines.next()) blocks.push(b);
    lines.close();
    expect(blocks.join('')).toBe(readFileSync(path, 'utf8'));
    for (const b of blocks.slice(0, -1)) expect(b.endsWith('\n')).toBe(true);
    // (a block ends at the last newline read)
    if (bytes.length > 65536 && bytes.subarray(0, 65536).includes(0x0a)) expect(blocks.length).toBeGreaterThan(1);
  });
});
