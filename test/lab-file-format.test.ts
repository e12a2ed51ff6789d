/**
 * The lab file's layout (src/state/lab-file.ts): a header line with each table's chains in
 * columns, then one line of rules per non-empty chain (and a frames line after a long chain's),
 * decoded when first read and copied byte for byte when nobody read them; edits made by hand are
 * found and checked, whichever line they are on. Older layouts (format 1 and 2) are read.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { join } from 'node:path';
import { crc32ForTests, decodeLab, encodeLab, LAZY_MAX, LAZY_MIN } from '../src/state/lab-file.js';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { parseLabText, readLab, writeLabAtomic } from '../src/state/store.js';
import type { Lab } from '../src/net/lab.js';
import { anyChainCreated, copyTable, findChain, newTable, type Chain } from '../src/ruleset/tables.js';
import { builtinLab } from '../src/net/builtin-lab.js';
import { Sandbox } from './helpers/cli.js';

async function labWithRules(): Promise<Sandbox> {
  const sb = new Sandbox();
  for (const c of [
    'iptables -N A',
    'iptables -A INPUT -p tcp --dport 22 -j A',
    'iptables -A A -m mark --mark 0x1/0xff -j ACCEPT',
    'iptables -A OUTPUT -d 10.0.0.0/8 -j DROP',
    'iptables -t nat -A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 192.168.1.2:80',
  ]) {
    expect((await sb.sh(c)).rc).toBe(0);
  }
  return sb;
}

const lines = (b: Buffer | string): string[] => b.toString().split('\n');

describe('lab file layout', () => {
  it('one header line, then one line per non-empty chain; decoding gives the lab back', async () => {
    const sb = await labWithRules();
    const file = readFileSync(sb.state);
    const l = lines(file);
    // header + INPUT, A, OUTPUT, nat PREROUTING + the final newline
    expect(l).toHaveLength(1 + 4 + 1);
    expect(l[0]).toMatch(/^\{"checksum":"crc32:[0-9a-f]{8}","format":"iptables-sim-lab","version":4,/);
    expect(JSON.parse(l[0]!).hosts.router.tables.filter.chains).toMatchObject({ names: 'INPUT\nFORWARD\nOUTPUT\nA', kinds: 'AaAu' });
    expect(JSON.parse(l[1]!)[0].target).toEqual({ kind: 'jump', chain: 'A' });
    const lab = readLab(sb.state);
    expect(JSON.parse(JSON.stringify(lab))).toEqual(sb.lab());
    expect(encodeLab(lab).equals(file)).toBe(true);
  });

  it('rules are decoded when first read; chains nobody read are copied byte for byte', async () => {
    const sb = await labWithRules();
    const file = readFileSync(sb.state);
    const d = decodeLab(file, () => {
      throw new Error('not edited');
    });
    const lab = d.data as Lab;
    const filter = lab.hosts.router!.tables.filter!;
    const input = filter.chains.find((c) => c.name === 'INPUT')!;
    expect(Object.getOwnPropertyDescriptor(input, 'rules')!.get).toBeDefined();
    input.rules[0]!.pkts = 7;
    expect(Object.getOwnPropertyDescriptor(input, 'rules')!.get).toBeUndefined();
    const out = lines(encodeLab(lab));
    const before = lines(file);
    expect(out[1]).not.toBe(before[1]);
    expect(out.slice(2)).toEqual(before.slice(2));
  });

  it('a rule line edited by hand is checked in full when its chain is read: a good edit is taken', async () => {
    const sb = await labWithRules();
    const l = lines(readFileSync(sb.state));
    const i = l.findIndex((x) => x.includes('"addr":167772160'));
    l[i] = l[i]!.replace('"addr":167772160', '"addr":184549376'); // OUTPUT -d 10.0.0.0/8 -> 11.0.0.0/8
    writeFileSync(sb.state, l.join('\n'));
    const r = await sb.sh('iptables -S OUTPUT');
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('-A OUTPUT -d 11.0.0.0/8 -j DROP');
  });

  it('a rule line edited into nonsense is refused when read, naming the place, and the file is kept', async () => {
    const sb = await labWithRules();
    const l = lines(readFileSync(sb.state));
    const i = l.findIndex((x) => x.includes('"name":"mark"'));
    l[i] = l[i]!.replace(/"mark":1\b/, '"mark":"one"');
    const text = l.join('\n');
    writeFileSync(sb.state, text);
    const r = await sb.sh('iptables -S A');
    expect(r.rc).not.toBe(0);
    expect(r.stderr).toContain(`${sb.state}: the lab file is damaged`);
    expect(r.stderr).toMatch(/A\.rules\[0\]: the mark match's mark is "one", expected a number/);
    expect(readFileSync(sb.state, 'utf8')).toBe(text);
  });

  it('a file cut short is refused even by commands that would not read the lost chain', async () => {
    const sb = await labWithRules();
    const text = readFileSync(sb.state, 'utf8');
    writeFileSync(sb.state, text.slice(0, text.length - 3));
    const r = await sb.sh('iptables -S INPUT');
    expect(r.rc).not.toBe(0);
    expect(r.stderr).toMatch(/damaged|cannot be read/);
  });

  it('a version 1 file (one JSON document) is read, and written back as version 4', async () => {
    const sb = await labWithRules();
    const v1 = { ...sb.lab()!, version: 1 };
    writeFileSync(sb.state, JSON.stringify(v1, null, 2));
    expect(parseLabText(readFileSync(sb.state), sb.state).hosts.router!.tables.filter!.chains[0]!.rules).toHaveLength(1);
    expect((await sb.sh('iptables -A INPUT -j ACCEPT')).rc).toBe(0);
    expect(readFileSync(sb.state, 'utf8')).toMatch(/^\{"checksum":"crc32:[0-9a-f]{8}","format":"iptables-sim-lab","version":4,/);
    expect((await sb.sh('iptables -S INPUT')).stdout).toBe('-P INPUT ACCEPT\n-A INPUT -p tcp -m tcp --dport 22 -j A\n-A INPUT -j ACCEPT\n');
  });

  // written by the format 2 code (iptables-sim before format 3) from the lab of labWithRules()
  const V2 = join(__dirname, '..', 'fixtures', 'lab-files', 'v2.jsonl');

  it('a version 2 file is read lazily as it was, and written back as version 4', async () => {
    const sb = await labWithRules();
    const v2 = readFileSync(V2);
    expect(v2.toString()).toMatch(/^\{"checksum":"fnv1a:[0-9a-f]{8}","format":"iptables-sim-lab","version":2,/);
    const d = decodeLab(v2, () => {
      throw new Error('not edited');
    });
    expect(d.trusted).toBe(true);
    const input = (d.data as Lab).hosts.router!.tables.filter!.chains.find((c) => c.name === 'INPUT')!;
    expect(Object.getOwnPropertyDescriptor(input, 'rules')!.get).toBeDefined();
    const parsed = JSON.parse(JSON.stringify(parseLabText(v2, 'v2'))) as Lab;
    const expected = { ...sb.lab()!, version: 2 };
    // the file predates the inert sysctls (src/net/sysctl.ts): a lab that old holds fewer keys
    for (const [name, h] of Object.entries(expected.hosts)) {
      for (const k of Object.keys(h.sysctls)) if (!(k in parsed.hosts[name]!.sysctls)) delete h.sysctls[k];
    }
    expect(parsed).toEqual(expected);
    writeFileSync(sb.state, v2);
    // ... and reads them as their defaults
    expect((await sb.sh('sysctl net.ipv4.tcp_syncookies net.ipv4.conf.eth0.accept_redirects')).stdout).toBe('net.ipv4.tcp_syncookies = 1\nnet.ipv4.conf.eth0.accept_redirects = 1\n');
    expect((await sb.sh('iptables -A INPUT -j ACCEPT')).rc).toBe(0);
    expect(readFileSync(sb.state, 'utf8')).toMatch(/^\{"checksum":"crc32:[0-9a-f]{8}","format":"iptables-sim-lab","version":4,/);
    // the lines copied unread carry CRC-32 checksums (versions 3 and 4): nothing reads as edited
    const back = decodeLab(readFileSync(sb.state), () => {
      throw new Error('read as edited');
    });
    expect(back.trusted).toBe(true);
    back.decodeAll();
    expect((await sb.sh('iptables-save')).stdout.replace(/^#.*\n/gm, '')).toBe(
      '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:A - [0:0]\n-A INPUT -p tcp -m tcp --dport 22 -j A\n-A INPUT -j ACCEPT\n-A OUTPUT -d 10.0.0.0/8 -j DROP\n-A A -m mark --mark 0x1/0xff -j ACCEPT\nCOMMIT\n' +
        '*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.168.1.2:80\nCOMMIT\n',
    );
  });

  it('a version 2 rule line edited by hand (its length kept) is still found after a write that did not read it', async () => {
    const sb = new Sandbox();
    const l = lines(readFileSync(V2));
    const i = l.findIndex((x) => x.includes('"name":"mark"'));
    l[i] = l[i]!.replace('"mask":255', '"mask":"5"');
    writeFileSync(sb.state, l.join('\n'));
    const w = await sb.sh('sysctl -w net.ipv4.ip_forward=0');
    expect(w.stderr).toBe('');
    expect(readFileSync(sb.state, 'utf8')).toMatch(/^\{"checksum":"crc32:/);
    const r = await sb.sh('iptables -S A');
    expect(r.rc).not.toBe(0);
    expect(r.stderr).toMatch(/A\.rules\[0\]: the mark match's mask is "5", expected a number/);
  });

  it('a version 2 rule line edited by hand is still found', async () => {
    const sb = new Sandbox();
    const l = lines(readFileSync(V2));
    const i = l.findIndex((x) => x.includes('"name":"mark"'));
    l[i] = l[i]!.replace(/"mark":1\b/, '"mark":"1"');
    writeFileSync(sb.state, l.join('\n'));
    const r = await sb.sh('iptables -S A');
    expect(r.rc).not.toBe(0);
    expect(r.stderr).toMatch(/A\.rules\[0\]: the mark match's mark is "1", expected a number/);
  });

  it('chains that do not fit the columns (fields of their own, another order) are kept as they are', async () => {
    const sb = await labWithRules();
    const lab = readLab(sb.state);
    const [input, forward, output] = lab.hosts.router!.tables.filter!.chains;
    (input as unknown as Record<string, unknown>).note = 'mine';
    delete (forward as { created?: boolean }).created;
    const rules = output!.rules;
    delete (output as { rules?: unknown }).rules;
    (output as { rules?: unknown }).rules = rules;
    (output as { pkts: number }).pkts = 2 ** 40;
    const text = encodeLab(lab);
    const cols = JSON.parse(lines(text)[0]!).hosts.router.tables.filter.chains;
    expect(cols.kinds).toBe('ggAu');
    expect(cols.names).toBe('\n\nOUTPUT\nA');
    const back = parseLabText(text, 'x');
    expect(JSON.parse(JSON.stringify(back))).toEqual(JSON.parse(JSON.stringify(lab)));
    // their rules come last, as for every chain read from a file
    expect(Object.keys(lab.hosts.router!.tables.filter!.chains[0]!).at(-1)).toBe('note');
    expect(Object.keys(back.hosts.router!.tables.filter!.chains[0]!)).toEqual(['name', 'policy', 'created', 'pkts', 'bytes', 'handle', 'note', 'rules']);
  });

  it('names are one string joined by newlines, or a list when a name holds one', async () => {
    const sb = await labWithRules();
    const lab = readLab(sb.state);
    lab.hosts.router!.tables.filter!.chains[3]!.name = 'A\nB';
    const text = encodeLab(lab);
    expect(JSON.parse(lines(text)[0]!).hosts.router.tables.filter.chains.names).toEqual(['INPUT', 'FORWARD', 'OUTPUT', 'A\nB']);
    expect(parseLabText(text, 'x').hosts.router!.tables.filter!.chains[3]!.name).toBe('A\nB');
    // a names string that does not have a name for each chain is refused
    const l = lines(readFileSync(sb.state));
    l[0] = l[0]!.replace('"names":"INPUT\\nFORWARD\\nOUTPUT\\nA"', '"names":"INPUT\\nFORWARD\\nOUTPUT"');
    writeFileSync(sb.state, l.join('\n'));
    const r = await sb.sh('iptables -S');
    expect(r.rc).not.toBe(0);
    expect(r.stderr).toMatch(/hosts\.router\.tables\.filter: the list of chains is damaged \(names and kinds differ in number\)/);
  });

  it('a chain of LAZY_MIN rules gets a frames line after its rules; shorter ones do not', async () => {
    const sb = new Sandbox();
    const rules = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]'];
    for (let i = 0; i < LAZY_MIN; i++) rules.push(`-A INPUT -s 10.0.0.${i} -j ACCEPT`);
    for (let i = 0; i < LAZY_MIN - 1; i++) rules.push(`-A OUTPUT -d 10.0.0.${i} -j ACCEPT`);
    rules.push('COMMIT');
    expect((await sb.run(['iptables-restore'], rules.join('\n') + '\n')).rc).toBe(0);
    const l = lines(readFileSync(sb.state));
    expect(l).toHaveLength(1 + 3 + 1);
    expect(JSON.parse(l[2]!)).toMatchObject({ matches: [], targets: [] });
    expect(JSON.parse(l[3]!)).toHaveLength(LAZY_MIN - 1);
    const num = JSON.parse(l[0]!).hosts.router.tables.filter.chains.num as number[];
    expect([num[3], num[4], num[13], num[14]]).toEqual([Buffer.byteLength(l[1]!), Buffer.byteLength(l[2]!), Buffer.byteLength(l[3]!), 0]);
  });

  it('the file is UTF-8: comments beyond ASCII (latin1, BMP, astral) in long and short chains, and in the header', async () => {
    const sb = new Sandbox();
    const odd = ['café', 'Grüße ÿ', '漢字', 'emoji 😀'];
    const rules = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':ÉTÉ - [0:0]'];
    for (let i = 0; i < LAZY_MIN; i++) rules.push(`-A INPUT -s 10.0.0.${i} -m comment --comment "${odd[i % odd.length]} ${i}" -j ACCEPT`);
    rules.push('-A OUTPUT -m comment --comment "ascii only" -j ACCEPT', '-A ÉTÉ -m comment --comment "naïve" -j ACCEPT', 'COMMIT');
    expect((await sb.run(['iptables-restore'], rules.join('\n') + '\n')).rc).toBe(0);
    const file = readFileSync(sb.state);
    const l = lines(file);
    expect(l[0]).toContain('ÉTÉ');
    expect(l[1]).toContain('"comment":"emoji 😀 3"');
    expect(l.some((x) => x.includes('"comment":"naïve"'))).toBe(true);
    // the lengths in the header and the frames line are bytes, the checksums those of the UTF-8
    const save = await sb.sh('iptables-save -t filter');
    expect(save.rc).toBe(0);
    expect(save.stdout).toContain('-A INPUT -s 10.0.0.1/32 -m comment --comment "Grüße ÿ 1" -j ACCEPT\n');
    expect(save.stdout).toContain('-A ÉTÉ -m comment --comment "naïve" -j ACCEPT\n');
    expect(encodeLab(readLab(sb.state)).equals(file)).toBe(true);
  });

  it('a chain of more than LAZY_MAX rules is one JSON text without a frames line, as in version 2', () => {
    const lab = builtinLab();
    const input = newTable('filter');
    input.chains[0]!.rules = Array.from({ length: LAZY_MAX + 1 }, (_, i) => ({ matches: [], pkts: 0, bytes: 0, handle: i + 1 }));
    lab.hosts.router!.tables.filter = input;
    const l = lines(encodeLab(lab));
    expect(l).toHaveLength(1 + 1 + 1);
    expect(JSON.parse(l[1]!)).toHaveLength(LAZY_MAX + 1);
    expect(parseLabText(encodeLab(lab), 'x').hosts.router!.tables.filter!.chains[0]!.rules).toHaveLength(LAZY_MAX + 1);
  });

  it("checksums are zlib's CRC-32; the JavaScript one (for a Node without zlib.crc32) agrees", () => {
    const data = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) & 255));
    // (the JavaScript one reads bytes one by one up to a 4-byte boundary of the buffer, then two
    // words a turn, then a last word, then bytes: every start modulo 8, every length up to 40)
    const short = Array.from({ length: 8 * 41 }, (_, k) => data.subarray(8 + (k & 7), 8 + (k & 7) + (k >> 3)));
    const long = Array.from({ length: 8 }, (_, off) => data.subarray(off, 4001 + off));
    for (const b of [...short, ...long, Buffer.from('lab'), data]) expect(crc32ForTests(b)).toBe(zlibCrc32(b) >>> 0);
    expect(data.byteOffset & 3, 'the test buffer starts on a word boundary').toBe(0);
    expect(crc32ForTests(Buffer.from('123456789'))).toBe(0xcbf43926);
  });

  it('writing what was read, untouched, gives the same bytes', async () => {
    const sb = await labWithRules();
    const before = readFileSync(sb.state);
    writeLabAtomic(sb.state, readLab(sb.state));
    expect(readFileSync(sb.state).equals(before)).toBe(true);
  });
});

describe('tables read from the file make their chains when asked for', () => {
  /** 40 user chains (every fourth empty), INPUT jumping to each */
  async function manyChains(): Promise<Sandbox> {
    const sb = new Sandbox();
    const r = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD DROP [0:0]', ':OUTPUT ACCEPT [0:0]'];
    for (let i = 0; i < 40; i++) r.push(`:C${i} - [0:0]`);
    for (let i = 0; i < 40; i++) {
      r.push(`-A INPUT -s 10.0.0.${i} -j C${i}`);
      if (i % 4) r.push(`-A C${i} -p tcp --dport ${i + 1} -j ACCEPT`);
    }
    r.push('COMMIT');
    expect((await sb.run(['iptables-restore'], r.join('\n') + '\n')).rc).toBe(0);
    return sb;
  }
  const stillColumns = (t: object): boolean => Object.getOwnPropertyDescriptor(t, 'chains')!.get !== undefined;

  it('findChain() finds them by name (one by one, then through an index) without making the others', async () => {
    const sb = await manyChains();
    const lab = readLab(sb.state);
    const whole = JSON.parse(JSON.stringify(readLab(sb.state))) as Lab;
    const t = lab.hosts.router!.tables.filter!;
    for (const name of ['C39', 'C0', 'INPUT', 'nope', ...Array.from({ length: 30 }, (_, i) => `C${(i * 7) % 40}`), 'C39', 'nope']) {
      const c = findChain(t, name);
      const want = whole.hosts.router!.tables.filter!.chains.find((x) => x.name === name);
      expect(c && JSON.parse(JSON.stringify(c)), name).toEqual(want);
      // the same object each time
      expect(findChain(t, name)).toBe(c);
    }
    expect(stillColumns(t)).toBe(true);
    expect(anyChainCreated(t)).toBe(true);
    // a nat table whose base chains the kernel does not have yet
    expect((await sb.sh('iptables -t nat -N X')).rc).toBe(0);
    const nat = readLab(sb.state).hosts.router!.tables.nat!;
    expect(anyChainCreated(nat)).toBe(false);
    expect(stillColumns(nat)).toBe(true);
    expect(nat.chains.some((c) => c.created)).toBe(false);
    // all of them: the ones made already among them
    const made = findChain(t, 'C5');
    expect(t.chains).toHaveLength(43);
    expect(stillColumns(t)).toBe(false);
    expect(t.chains[8]).toBe(made);
  });

  it('names are searched one by one for the first sixteen, then indexed; a copy of the table (restore --noflush) uses the same', async () => {
    const sb = await manyChains();
    const t = readLab(sb.state).hosts.router!.tables.filter!;
    const searches = vi.spyOn(Array.prototype, 'lastIndexOf');
    try {
      const first = [...Array.from({ length: 15 }, (_, i) => `C${i + 1}`), 'nope'];
      for (const name of first) expect(findChain(t, name)?.name).toBe(name === 'nope' ? undefined : name);
      expect(searches).toHaveBeenCalledTimes(16);
      const copy = copyTable(t);
      for (const name of ['C1', 'C20', 'C21', 'C22', 'C23', 'INPUT', 'nope2']) expect(findChain(copy, name)?.name).toBe(name === 'nope2' ? undefined : name);
      expect(findChain(t, 'C30')?.name).toBe('C30');
      expect(searches).toHaveBeenCalledTimes(16);
      expect(findChain(copy, 'C1')).not.toBe(findChain(t, 'C1'));
    } finally {
      searches.mockRestore();
    }
  });

  it("a chain's rules, once read or set, are a plain property, its keys in the order they were", async () => {
    const sb = await manyChains();
    const whole = JSON.parse(JSON.stringify(readLab(sb.state))) as Lab;
    const want = (name: string): Chain => whole.hosts.router!.tables.filter!.chains.find((x) => x.name === name)!;
    const t = readLab(sb.state).hosts.router!.tables.filter!;
    const plain = (c: Chain): void => {
      expect(Object.getOwnPropertyDescriptor(c, 'rules')).toEqual({ value: c.rules, writable: true, enumerable: true, configurable: true });
    };
    // read (rules the last key), then set
    const a = findChain(t, 'C1')!;
    expect(Object.keys(a).at(-1)).toBe('rules');
    expect(a.rules).toEqual(want('C1').rules);
    plain(a);
    expect(Object.keys(a)).toEqual(Object.keys(want('C1')));
    const b = findChain(t, 'C2')!;
    b.rules = [];
    plain(b);
    expect(Object.keys(b)).toEqual(Object.keys(want('C2')));
    // a field added after the rules stays after them, read or set
    const c = findChain(t, 'C3')!;
    (c as unknown as Record<string, unknown>).note = 'mine';
    expect(c.rules).toEqual(want('C3').rules);
    plain(c);
    expect(Object.keys(c)).toEqual([...Object.keys(want('C3')), 'note']);
    const d = findChain(t, 'C5')!;
    (d as unknown as Record<string, unknown>).note = 'mine';
    d.rules = [];
    plain(d);
    expect(Object.keys(d)).toEqual([...Object.keys(want('C5')), 'note']);
  });

  it('chains made and changed are written with the others as read, the same each time', async () => {
    const sb = await manyChains();
    const lab = readLab(sb.state);
    const t = lab.hosts.router!.tables.filter!;
    const expected = JSON.parse(JSON.stringify(readLab(sb.state))) as Lab;
    const e = expected.hosts.router!.tables.filter!.chains;
    const change = (c: Chain | undefined, k: number): void => {
      if (k === 0) c!.rules = []; // its line goes
      if (k === 1) c!.rules = [...c!.rules, ...c!.rules]; // a line where there was none
      if (k === 2) (c as unknown as Record<string, unknown>).note = 'mine'; // a 'g' chain
      if (k === 3) c!.pkts = 7;
      if (k === 4) c!.rules[0]!.pkts = 3;
    };
    [['C1', 0], ['C2', 1], ['C5', 2], ['FORWARD', 3], ['C39', 4]].forEach(([n, k]) => {
      change(findChain(t, n as string), k as number);
      change(e.find((c) => c.name === n), k as number);
    });
    (findChain(t, 'C4') as unknown as Record<string, unknown>).rules = [{ matches: [], pkts: 0, bytes: 0 }];
    e.find((c) => c.name === 'C4')!.rules = [{ matches: [], pkts: 0, bytes: 0 }];
    expect(stillColumns(t)).toBe(true);
    const text = encodeLab(lab);
    expect(encodeLab(lab).equals(text)).toBe(true);
    expect(decodeLab(text, () => {}).trusted).toBe(true);
    expect(JSON.parse(JSON.stringify(parseLabText(text, 'x')))).toEqual({ ...expected, version: 4 });
    // and as the same lab made whole and written
    void t.chains;
    expect(JSON.parse(JSON.stringify(parseLabText(encodeLab(lab), 'y')))).toEqual({ ...expected, version: 4 });
  });
});
