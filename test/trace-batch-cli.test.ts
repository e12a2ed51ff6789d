/**
 * `trace --batch FILE` through the CLI: one JSON line per packet line, errors per line with the
 * one-packet trace's messages, the lab left as it was, the same output for the same lab and file,
 * and results that are those of the one-packet trace.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normStamp, Sandbox, splitShell } from './helpers/cli.js';
import { BufferIo } from '../src/cli/io.js';
import { main } from '../src/cli/main.js';

/** the seed's home network with port forwarding, masquerading and a filter: every outcome shows */
const SETUP = [
  'iptables -t nat -A PREROUTING -i eth0 -p tcp --dport 8080 -j DNAT --to-destination 192.168.1.2:80',
  'iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE',
  'iptables -A INPUT -p tcp --dport 22 -j REJECT --reject-with tcp-reset',
  'iptables -A INPUT -p udp --dport 53 -j DROP',
  'iptables -A FORWARD -i eth0 -o eth1 -p tcp --dport 23 -j DROP',
];

const PACKETS = [
  '# port forwarding from the internet',
  '-i eth0 -p tcp -s 50.60.70.1 --sport 40001 -d 50.60.70.80 --dport 8080',
  '',
  '-i eth1 -p tcp -s 192.168.1.3 --sport 5555 -d 203.0.113.10 --dport 443',
  '-i eth1 -s 192.168.1.2 -d 192.168.1.1 --dport 22',
  '-i eth0 -p udp -s 50.60.70.1 -d 50.60.70.80 --dport 53',
  '-p tcp -d 203.0.113.10 --dport 80',
  '-p icmp -d 192.168.1.3',
  '   -i eth0 -p tcp -s 50.60.70.1 -d 192.168.1.2 --dport 23   ',
  '-d 10.1.2.3 --dport 80 --mark 0x10 --ttl 1 -i eth1 -s 192.168.1.2',
];

async function lab(): Promise<Sandbox> {
  const s = new Sandbox();
  for (const c of SETUP) expect((await s.sh(c)).rc).toBe(0);
  return s;
}

function lines(out: string): Record<string, unknown>[] {
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('trace --batch', () => {
  it('writes one JSON object per packet line, in order, with the line number', async () => {
    const s = await lab();
    writeFileSync(join(s.dir, 'p.txt'), PACKETS.join('\n') + '\n');
    const r = await s.sh('trace --batch p.txt');
    expect(r.stderr).toBe('');
    expect(r.rc).toBe(0);
    const out = lines(r.stdout);
    expect(out.map((o) => o.line)).toEqual([2, 4, 5, 6, 7, 8, 9, 10]);
    expect(out[0]).toEqual({
      line: 2,
      outcome: 'transmit',
      explanation: 'router sends the packet out of eth1 towards 192.168.1.2 as tcp 50.60.70.1:40001 -> 192.168.1.2:80 [SYN].',
      proto: 6,
      src: '50.60.70.1',
      sport: 40001,
      dst: '192.168.1.2',
      dport: 80,
      out: 'eth1',
      nexthop: '192.168.1.2',
      rules: [{ table: 'nat', chain: 'PREROUTING', rule: 1, target: 'DNAT' }],
    });
    expect(out[1]).toMatchObject({ outcome: 'transmit', src: '50.60.70.80', sport: 5555, out: 'eth0', rules: [{ table: 'nat', chain: 'POSTROUTING', rule: 1, target: 'MASQUERADE' }] });
    expect(out[2]).toMatchObject({ outcome: 'drop', reject: 'tcp-reset', reason: 'rule 1 of filter INPUT rejected it (tcp-reset)', rules: [{ table: 'filter', chain: 'INPUT', rule: 1, target: 'REJECT' }] });
    expect(out[3]).toMatchObject({ outcome: 'drop', reason: 'rule 2 of filter INPUT dropped it', rules: [{ table: 'filter', chain: 'INPUT', rule: 2, target: 'DROP' }] });
    expect(out[3]).not.toHaveProperty('reject');
    expect(out[4]).toMatchObject({ outcome: 'transmit', src: '50.60.70.80', sport: 40000, dst: '203.0.113.10', dport: 80 });
    expect(out[5]).toMatchObject({ outcome: 'transmit', proto: 1, src: '192.168.1.1', dst: '192.168.1.3', out: 'eth1', rules: [] });
    expect(out[5]).not.toHaveProperty('sport');
    expect(out[6]).toMatchObject({ line: 9, outcome: 'drop', rules: [{ table: 'filter', chain: 'FORWARD', rule: 1, target: 'DROP' }] });
    expect(out[7]).toMatchObject({ line: 10, outcome: 'drop', reason: 'TTL expired while forwarding' });
  });

  it('gives each packet line the outcome and sentence the one-packet trace gives on the same lab', async () => {
    const s = await lab();
    const packets = PACKETS.filter((l) => l.trim() !== '' && !l.startsWith('#'));
    writeFileSync(join(s.dir, 'p.txt'), packets.join('\n'));
    const batch = lines((await s.sh('trace --batch p.txt')).stdout);
    const saved = join(s.dir, 'saved.json');
    copyFileSync(s.state, saved);
    for (const [i, p] of packets.entries()) {
      // each one-packet trace on the lab as the batch saw it (a trace changes the lab)
      copyFileSync(saved, s.state);
      const one = JSON.parse((await s.run(['--json', 'trace', ...splitShell(p)])).stdout) as { outcome: string; explanation: string };
      expect(batch[i], p).toMatchObject({ outcome: one.outcome, explanation: one.explanation });
    }
  });

  it('reports a line it cannot trace with the one-packet trace message, goes on, and exits 1', async () => {
    const s = await lab();
    const bad = [
      '-d 1.2.3 --dport 80',
      '-p tcp --dport 80',
      '-i eth7 -s 1.2.3.4 -d 5.6.7.8 --dport 80',
      '-i eth0 -d 5.6.7.8 --dport 80',
      '-p icmp -d 1.2.3.4 --dport 80',
      '--frobnicate -d 1.2.3.4 --dport 80',
      '-d 1.2.3.4 --dport 80 stray',
      '-d 1.2.3.4 --dport',
      '-d 1.2.3.4 --dport 70000',
    ];
    writeFileSync(join(s.dir, 'p.txt'), ['-d 203.0.113.10 --dport 80', ...bad, '-d 203.0.113.10 --dport 81'].join('\n'));
    const before = readFileSync(s.state);
    const r = await s.sh('trace --batch p.txt');
    expect(r.rc).toBe(1);
    expect(r.stderr).toBe('');
    const out = lines(r.stdout);
    expect(out).toHaveLength(bad.length + 2);
    expect(out[0]).toMatchObject({ line: 1, outcome: 'transmit' });
    expect(out.at(-1)).toMatchObject({ line: bad.length + 2, outcome: 'transmit', dport: 81 });
    for (const [i, p] of bad.entries()) {
      const one = await s.run(['trace', ...splitShell(p)]);
      expect(one.rc, p).not.toBe(0);
      // the one-packet trace's first line of complaint, without the program name
      const message = one.stderr.split('\n')[0]!.replace(/^iptables-sim: /, '');
      expect(out[i + 1], p).toEqual({ line: i + 2, error: message });
    }
    // the one-packet traces that failed changed nothing either
    expect(readFileSync(s.state).equals(before)).toBe(true);
  });

  it('refuses options of the whole batch inside a line', async () => {
    const s = new Sandbox();
    const r = await s.run(['trace', '--batch', '-'], '-d 1.2.3.4 --dport 80 --from pc1\n--seed=3 -d 1.2.3.4 --dport 80\n');
    expect(r.rc).toBe(1);
    expect(lines(r.stdout).map((o) => o.error)).toEqual([
      '--from is an option of the whole batch, not of one packet: a --batch line takes -i -p -s -d --sport --dport --tcp-flags --icmp-type --mark --len --ttl',
      '--seed is an option of the whole batch, not of one packet: a --batch line takes -i -p -s -d --sport --dport --tcp-flags --icmp-type --mark --len --ttl',
    ]);
  });

  it('leaves the lab as it was: counters, conntrack, nth counters, quotas, the generator', async () => {
    const s = await lab();
    for (const c of [
      'iptables -A FORWARD -m statistic --mode nth --every 2 --packet 0 -j ACCEPT',
      'iptables -A FORWARD -m quota --quota 100 -j ACCEPT',
      'iptables -t nat -I PREROUTING -p tcp --dport 9090 -m statistic --mode random --probability 0.5 -j DNAT --to-destination 192.168.1.3:80',
    ]) expect((await s.sh(c)).rc).toBe(0);
    // a one-packet trace first, so that the lab holds conntrack entries and extension state
    expect((await s.sh('trace -i eth1 -s 192.168.1.2 -d 203.0.113.10 --dport 80')).rc).toBe(0);
    const before = readFileSync(s.state);
    // (the timestamp lines may cross a second between the two saves)
    const save = normStamp((await s.sh('iptables-save -c')).stdout);
    const ct = (await s.sh('conntrack -L')).stdout;
    writeFileSync(join(s.dir, 'p.txt'), Array.from({ length: 50 }, (_, i) => `-i eth0 -s 50.60.70.1 --sport ${1000 + i} -d 50.60.70.80 --dport ${i % 2 ? 9090 : 8080}`).join('\n'));
    expect((await s.sh('trace --batch p.txt')).rc).toBe(0);
    expect(readFileSync(s.state).equals(before)).toBe(true);
    expect(normStamp((await s.sh('iptables-save -c')).stdout)).toBe(save);
    expect((await s.sh('conntrack -L')).stdout).toBe(ct);
  });

  it('classifies every packet as the first of its own connection against the lab as it is', async () => {
    const s = await lab();
    expect((await s.sh('iptables -A FORWARD -m statistic --mode nth --every 3 --packet 0 -j DROP')).rc).toBe(0);
    // the same packet three times: no conntrack entry and no nth count carried from line to line
    const p = '-i eth1 -s 192.168.1.2 --sport 1234 -d 203.0.113.10 --dport 80';
    const r = await s.run(['trace', '--batch', '-'], `${p}\n${p}\n${p}\n`);
    expect(lines(r.stdout).map((o) => o.outcome)).toEqual(['drop', 'drop', 'drop']);
    // while one-packet traces count: the second is not dropped
    expect(JSON.parse((await s.run(['--json', 'trace', ...splitShell(p)])).stdout).outcome).toBe('drop');
    expect(JSON.parse((await s.run(['--json', 'trace', ...splitShell(p.replace('1234', '1235'))])).stdout).outcome).toBe('transmit');
  });

  it('draws statistic random from the seeded generator, per line: same lab and file, same output; --seed picks other draws', async () => {
    const s = await lab();
    expect((await s.sh('iptables -t nat -I PREROUTING -p tcp --dport 9090 -m statistic --mode random --probability 0.5 -j DNAT --to-destination 192.168.1.3:80')).rc).toBe(0);
    expect((await s.sh('iptables -t nat -I PREROUTING 2 -p tcp --dport 9090 -j DNAT --to-destination 192.168.1.2:80')).rc).toBe(0);
    writeFileSync(join(s.dir, 'p.txt'), Array.from({ length: 64 }, (_, i) => `-i eth0 -s 50.60.70.1 --sport ${2000 + i} -d 50.60.70.80 --dport 9090`).join('\n'));
    const a = (await s.sh('trace --batch p.txt')).stdout;
    const b = (await s.sh('trace --batch p.txt')).stdout;
    expect(a).toBe(b);
    const dsts = (out: string) => lines(out).map((o) => o.dst);
    // both endpoints are drawn, as a fair coin would over 64 packets
    expect(new Set(dsts(a))).toEqual(new Set(['192.168.1.2', '192.168.1.3']));
    const seeded = (await s.sh('trace --batch p.txt --seed 12345')).stdout;
    expect((await s.sh('trace --batch p.txt --seed 12345')).stdout).toBe(seeded);
    expect(dsts(seeded)).not.toEqual(dsts(a));
    // the lab's generator is where it was: --seed only applies to the batch
    expect((await s.sh('trace --batch p.txt')).stdout).toBe(a);
  });

  it("draws a line's statistic random from its seed and line number alone: the lines before it change nothing", async () => {
    const s = await lab();
    expect((await s.sh('iptables -t nat -I PREROUTING -p tcp --dport 9090 -m statistic --mode random --probability 0.5 -j DNAT --to-destination 192.168.1.3:80')).rc).toBe(0);
    expect((await s.sh('iptables -t nat -I PREROUTING 2 -p tcp --dport 9090 -j DNAT --to-destination 192.168.1.2:80')).rc).toBe(0);
    const packet = (i: number) => `-i eth0 -s 50.60.70.1 --sport ${2000 + i} -d 50.60.70.80 --dport 9090`;
    writeFileSync(join(s.dir, 'all.txt'), Array.from({ length: 64 }, (_, i) => packet(i)).join('\n'));
    const all = lines((await s.sh('trace --batch all.txt')).stdout);
    // every other line a comment (no packet, no draw), or a packet that draws nothing (port 80)
    for (const other of [() => '# skipped', (i: number) => packet(i).replace('9090', '80')]) {
      writeFileSync(join(s.dir, 'half.txt'), Array.from({ length: 64 }, (_, i) => (i % 2 ? packet(i) : other(i))).join('\n'));
      const half = lines((await s.sh('trace --batch half.txt')).stdout).filter((o) => (o.line as number) % 2 === 0);
      expect(half).toEqual(all.filter((o) => (o.line as number) % 2 === 0));
    }
  });

  it('reads standard input with -, names the host with --host, and takes quoted words', async () => {
    const s = await lab();
    const r = await s.run(['--host', 'pc1', 'trace', '--batch', '-'], "-i eth0 -s '192.168.1.3' -d \"192.168.1.2\" --dport 80\n");
    expect(r.rc).toBe(0);
    expect(lines(r.stdout)[0]).toMatchObject({ line: 1, outcome: 'deliver', explanation: 'pc1 accepted the packet for local delivery to 192.168.1.2 port 80.' });
  });

  it.each([
    ['trace --batch p.txt -d 1.2.3.4', 'trace: -d is not used with --batch (each line of the file describes its packet)', 2],
    ['trace --batch p.txt --format text', 'trace: --batch writes JSON lines; --format text is for one packet or one connection', 2],
    ['trace --batch p.txt --from pc1', 'trace: --from is not used with --batch (each line of the file describes its packet)', 2],
    ['trace --batch missing.txt', 'cannot read missing.txt: ENOENT', 2],
    ['trace --batch .', 'cannot read .: EISDIR', 2],
    ['trace --batch p.txt --seed x', "trace: bad --seed `x'", 2],
    ['--host nowhere trace --batch p.txt', "no host `nowhere' in the lab", 2],
  ])('%s is refused', async (cmd, message, rc) => {
    const s = new Sandbox();
    writeFileSync(join(s.dir, 'p.txt'), '-d 1.2.3.4 --dport 80\n');
    const r = await s.sh(cmd);
    expect(r.rc).toBe(rc);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(message);
  });

  it('reads a file of many blocks as it reads the same text from standard input, in one', async () => {
    // lines that straddle the reader's 64 KiB blocks, two longer than a block (spaces between the
    // options), characters of several bytes, CRLF, comments and blank lines, no newline at the end
    const s = await lab();
    const text: string[] = [];
    for (let i = 0; i < 2400; i++) {
      const pad = ' '.repeat(i % 37);
      if (i === 700) text.push(`-i eth0 -p tcp${' '.repeat(70000)}-s 50.60.70.1 -d 50.60.70.80 --dport 8080`);
      else if (i === 1500) text.push(`-p udp -d 203.0.113.10${' '.repeat(140000)}--dport 53`);
      else if (i % 11 === 0) text.push(`-i eth漢${i % 7} -s 50.60.70.1 -d 50.60.70.80 --dport 80${pad}`);
      else if (i % 13 === 0) text.push(`# ${'é'.repeat(i % 50)}`);
      else if (i % 17 === 0) text.push('');
      else if (i % 19 === 0) text.push(`-i eth1 -p tcp -s 192.168.1.3 -d 203.0.113.10 --dport ${i}\r`);
      else text.push(`-i eth0 -p tcp -s 50.60.70.1 --sport ${1024 + i} -d 50.60.70.80 --dport ${i % 2 ? 8080 : 22}${pad}`);
    }
    const all = text.join('\n');
    expect(Buffer.byteLength(all)).toBeGreaterThan(4 * 65536);
    writeFileSync(join(s.dir, 'p.txt'), all);
    const fromFile = await s.sh('trace --batch p.txt');
    const fromStdin = await s.run(['trace', '--batch', '-'], all);
    expect(fromFile.rc).toBe(1);
    expect(fromFile.stderr).toBe('');
    expect(lines(fromFile.stdout).length).toBeGreaterThan(2000);
    expect(lines(fromFile.stdout).some((o) => String(o.error).includes('eth漢3'))).toBe(true);
    expect(fromFile.stdout).toBe(fromStdin.stdout);
    expect(fromFile.rc).toBe(fromStdin.rc);
  });

  it('refuses standard input it cannot read, as a file it cannot read', async () => {
    const s = new Sandbox();
    const io = new BufferIo('', { IPTABLES_SIM_STATE: s.state }, s.dir);
    io.readStdin = () => Promise.reject(Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' }));
    expect(await main(['trace', '--batch', '-'], io)).toBe(2);
    expect(io.stdout).toBe('');
    expect(io.stderr).toContain('cannot read -: EIO: i/o error, read');
  });

  it('says what it does in trace --help', async () => {
    const r = await new Sandbox().sh('trace --help');
    expect(r.stdout).toMatch(/--batch <file>\s+many packets/);
  });
});
