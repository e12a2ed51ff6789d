/**
 * Appended records (lab file version 4, src/state/lab-file.ts): a change to a big lab is appended
 * to the file read, as the lines that changed and a new header, instead of the whole file being
 * written again. Whatever the commands, the lab read back is the lab written whole; a record cut
 * short by a crash is passed over; edits by hand are found as in a whole file; a file that is not
 * as it was read, or is of an older version, is written whole. A big file is read in parts: only
 * what a command uses is read, and what it reads is the same as when read whole. A chain made (-N)
 * or rules added to a long chain (-A, -I) leave the rest of the table, and the chain, in the file.
 */
import { existsSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { decodeLab, encodeLab, encodeLabFile, LAZY_MIN, setAppendPolicy } from '../src/state/lab-file.js';
import { copyTable, findChain, type Tables } from '../src/ruleset/tables.js';
import { execute } from '../src/ruleset/execute.js';
import { parseIptables } from '../src/cli/commands/iptables.js';
import { parseLabText, readLab, setReadInParts, stampBelieved, writeLabAtomic } from '../src/state/store.js';
import { crc32 } from 'node:zlib';
import { SimError } from '../src/errors.js';
import { Sandbox } from './helpers/cli.js';
import { generator } from './helpers/random.js';

type Gen = ReturnType<typeof generator>;

const APPEND_ALWAYS = [0, Infinity] as const;
const NEVER = [Infinity, 1] as const;
const DEFAULT = [1 << 20, 2] as const;

afterEach(() => {
  setAppendPolicy(...DEFAULT);
  setReadInParts(1 << 20);
});

/** runs a command with the given append policy, reading the file in parts (whatever its size) or whole */
async function runWith(policy: readonly [number, number], sb: Sandbox, argv: string[], stdin = '', inParts = false) {
  setAppendPolicy(...policy);
  setReadInParts(inParts ? 0 : Infinity);
  try {
    return await sb.run(argv, stdin);
  } finally {
    setAppendPolicy(...DEFAULT);
    setReadInParts(1 << 20);
  }
}

/** the file's last line is an appended record's header */
const endsWithRecord = (f: Buffer): boolean => /,"line":\d+\}$/.test(f.toString('latin1', Math.max(0, f.length - 40)).trimEnd());

const USERS = ['U0', 'U1', 'U2'];

function rule(g: Gen, chain: string): string {
  const p = [`-A ${chain}`];
  if (g.chance(0.5)) p.push(`-s 192.168.1.${g.int(4)}/32`);
  if (g.chance(0.6)) p.push(`-p tcp --dport ${g.pick([22, 80, 443])}`);
  if (g.chance(0.3)) p.push(`-m comment --comment "c${g.int(1000)}"`);
  const later = USERS.slice(USERS.indexOf(chain) + 1);
  p.push(later.length && g.chance(0.3) ? `-j ${g.pick(later)}` : `-j ${g.pick(['ACCEPT', 'DROP', 'RETURN'])}`);
  return p.join(' ');
}

/** a random command on the built-in lab's router: rules, chains, policies, counters, traces, sysctls */
function command(g: Gen): { argv: string[]; stdin?: string } {
  const u = g.pick(USERS);
  switch (g.int(12)) {
    case 0:
      return { argv: ['iptables', '-N', u] };
    case 1:
    case 2:
      return { argv: ['iptables', ...splitWords(rule(g, g.pick(USERS)))] };
    case 3:
      return { argv: ['iptables', '-I', 'INPUT', '1', '-j', u] };
    case 4:
      return { argv: ['iptables', '-D', g.pick(['INPUT', u]), '1'] };
    case 5:
      return { argv: ['iptables', '-F', u] };
    case 6:
      return { argv: ['iptables', '-X', u] };
    case 7:
      return { argv: ['iptables', '-P', 'FORWARD', g.pick(['ACCEPT', 'DROP'])] };
    case 8:
      return { argv: ['iptables', '-Z'] };
    case 9: {
      // a long chain (a frames line), changed rule by rule later
      const lines = ['*filter', `:${u} - [0:0]`];
      for (let i = 0, n = LAZY_MIN + g.int(20); i < n; i++) lines.push(rule(g, u));
      lines.push('COMMIT', '');
      return { argv: ['iptables-restore', '--noflush'], stdin: lines.join('\n') };
    }
    case 10:
      return { argv: ['sysctl', '-w', `net.ipv4.ip_forward=${g.int(2)}`] };
    default:
      return { argv: ['trace', '--from', 'pc1', '-p', 'tcp', '-d', '50.60.70.80', '--dport', String(g.pick([22, 80, 443]))] };
  }
}

function splitWords(s: string): string[] {
  return s.match(/"[^"]*"|\S+/g)!.map((w) => w.replace(/^"(.*)"$/, '$1'));
}

describe('appended records', () => {
  for (let set = 0; set < 6; set++) {
    const seed = 0x2f1a77c3 ^ (set * 104729);
    it(`random commands #${set} (seed ${seed >>> 0}): the lab read back is the lab written whole${set % 3 ? ', read in parts' : ''}`, async () => {
      const g = generator(seed);
      const appended = new Sandbox();
      const whole = new Sandbox();
      // the policy the CLI has, but for files of any size: appends, and now and then the whole file
      const policy = [0, set % 2 ? 2 : 4] as const;
      let appends = 0;
      let rewrites = 0;
      for (const u of USERS) {
        await runWith(NEVER, appended, ['iptables', '-N', u]);
        await runWith(NEVER, whole, ['iptables', '-N', u]);
      }
      for (let i = 0; i < 40; i++) {
        const { argv, stdin } = command(g);
        const before = existsSync(appended.state) ? readFileSync(appended.state) : Buffer.alloc(0);
        const a = await runWith(policy, appended, argv, stdin, set % 3 !== 0);
        const b = await runWith(NEVER, whole, argv, stdin);
        expect(a, `${argv.join(' ')}: ${a.stderr}`).toEqual(b);
        const after = readFileSync(appended.state);
        if (after.length > before.length && before.length && after.subarray(0, before.length).equals(before)) {
          appends++;
          expect(endsWithRecord(after)).toBe(true);
        } else if (!after.equals(before)) rewrites++;
        expect(endsWithRecord(readFileSync(whole.state))).toBe(false);
        expect(appended.lab(), argv.join(' ')).toEqual(whole.lab());
        expect(decodeLab(after, () => {}).trusted).toBe(true);
      }
      expect(appends).toBeGreaterThan(3);
      expect(rewrites).toBeGreaterThan(0);
    });
  }
});

/** a lab file with a few appended records, and the file as it was before the last one */
async function withRecords(): Promise<{ sb: Sandbox; before: Buffer; after: Buffer }> {
  const sb = new Sandbox();
  await runWith(NEVER, sb, ['iptables', '-N', 'U0']);
  for (const port of [22, 80, 443]) expect((await runWith(APPEND_ALWAYS, sb, ['iptables', '-A', 'U0', '-p', 'tcp', '--dport', String(port), '-j', 'ACCEPT'])).rc).toBe(0);
  const before = readFileSync(sb.state);
  expect((await runWith(APPEND_ALWAYS, sb, ['iptables', '-A', 'INPUT', '-j', 'U0'])).rc).toBe(0);
  const after = readFileSync(sb.state);
  expect(after.subarray(0, before.length).equals(before)).toBe(true);
  return { sb, before, after };
}

const asData = (f: Buffer): unknown => JSON.parse(JSON.stringify(parseLabText(f, 'x')));

describe('a record cut short', () => {
  it('is passed over wherever it was cut: the lab is the one before it, and the next change is written whole', async () => {
    const { sb, before, after } = await withRecords();
    const expected = asData(before);
    const g = generator(7);
    const cuts = [before.length + 1, after.length - 2];
    for (let i = 0; i < 12; i++) cuts.push(before.length + 1 + g.int(after.length - before.length - 3));
    for (const cut of cuts) {
      const torn = after.subarray(0, cut);
      expect(asData(torn), `cut at ${cut}`).toEqual(expected);
      expect(decodeLab(torn, () => {}).trusted, `cut at ${cut}`).toBe(true);
    }
    // all but the last newline: the record is whole
    expect(asData(after.subarray(0, after.length - 1))).toEqual(asData(after));
    // a command on the torn file: its lab is the one before the record, and the file is whole again
    writeFileSync(sb.state, after.subarray(0, cuts[3]));
    expect((await runWith(APPEND_ALWAYS, sb, ['iptables', '-A', 'INPUT', '-j', 'ACCEPT'])).rc).toBe(0);
    const now = readFileSync(sb.state);
    expect(endsWithRecord(now)).toBe(false);
    const lab = readLab(sb.state);
    expect(lab.hosts.router!.tables.filter!.chains.find((c) => c.name === 'INPUT')!.rules.map((r) => r.target)).toEqual([{ kind: 'verdict', verdict: 'ACCEPT' }]);
  });

  it('after a whole file: the whole file is the lab', async () => {
    const sb = new Sandbox();
    await runWith(NEVER, sb, ['iptables', '-N', 'U0']);
    const before = readFileSync(sb.state);
    await runWith(APPEND_ALWAYS, sb, ['iptables', '-A', 'U0', '-j', 'ACCEPT']);
    const after = readFileSync(sb.state);
    expect(after.subarray(0, before.length).equals(before)).toBe(true);
    for (const cut of [before.length + 1, after.length - 2]) expect(asData(after.subarray(0, cut))).toEqual(asData(before));
  });
});

describe('a big file with records, cut anywhere', () => {
  it('is refused when cut in its first part, and is the lab before the record it was cut in otherwise', async () => {
    const { sb, file: base } = await manyChains();
    const files = [base];
    for (const port of [1, 2, 3]) {
      expect((await runWith(APPEND_ALWAYS, sb, ['iptables', '-A', `C${port}`, '-p', 'udp', '--dport', String(port), '-j', 'DROP'])).rc).toBe(0);
      files.push(readFileSync(sb.state));
    }
    const last = files[files.length - 1]!;
    for (let k = 1; k < files.length; k++) expect(last.subarray(0, files[k - 1]!.length).equals(files[k - 1]!)).toBe(true);
    const labs = files.map((f) => asData(f));
    const g = generator(5);
    for (let i = 0; i < 40; i++) {
      const cut = 1 + g.int(last.length - 1);
      const torn = last.subarray(0, cut);
      // the records that are whole in the cut file (all but the final newline will do)
      let whole = 0;
      while (whole + 1 < files.length && cut >= files[whole + 1]!.length - 1) whole++;
      if (cut < base.length - 1) expect(() => parseLabText(torn, 'x'), `cut at ${cut}`).toThrow(SimError);
      else expect(asData(torn), `cut at ${cut}`).toEqual(labs[whole]);
    }
  });
});

describe('edits made by hand to a file with records', () => {
  it('to the newest header: checked in full and taken', async () => {
    const { after } = await withRecords();
    const text = after.toString('utf8');
    const last = text.lastIndexOf('\n', text.length - 2) + 1;
    const edited = text.slice(0, last) + text.slice(last).replace('"name":"home network (seed post)"', '"name":"edited"');
    expect(edited).not.toBe(text);
    const d = decodeLab(Buffer.from(edited), () => {});
    expect(d.trusted).toBe(false);
    expect(parseLabText(Buffer.from(edited), 'x').name).toBe('edited');
  });

  it('that break the newest header: refused, not passed over for an older one', async () => {
    const { after } = await withRecords();
    const text = after.toString('utf8');
    const last = text.lastIndexOf('\n', text.length - 2) + 1;
    const broken = text.slice(0, last) + text.slice(last).replace('"hosts":{', '"hosts":{{');
    expect(() => parseLabText(Buffer.from(broken), 'x')).toThrow(/cannot be read as a lab/);
  });

  it('to a rule line, its length changed: the lines are found by their numbers and the edit taken', async () => {
    const { after } = await withRecords();
    const lines = after.toString('utf8').split('\n');
    // U0's live line: the last one written with its three rules
    let no = lines.length;
    while (--no > 0 && !(lines[no - 1]!.startsWith('[') && lines[no - 1]!.includes('"dpts":[443,443]')));
    expect(no).toBeGreaterThan(1);
    const rules = JSON.parse(lines[no - 1]!);
    rules[0].target = { kind: 'verdict', verdict: 'DROP' };
    rules[0].matches = [{ name: 'comment', data: { comment: 'edited by hand, and longer than it was' } }];
    lines[no - 1] = JSON.stringify(rules);
    const lab = parseLabText(Buffer.from(lines.join('\n')), 'x');
    const u0 = lab.hosts.router!.tables.filter!.chains.find((c) => c.name === 'U0')!;
    expect(u0.rules[0]!.matches).toEqual([{ name: 'comment', data: { comment: 'edited by hand, and longer than it was' } }]);
    expect(u0.rules[0]!.target).toEqual({ kind: 'verdict', verdict: 'DROP' });
  });
});

describe('written whole instead', () => {
  it('when the file changed on disk since it was read', async () => {
    const { sb } = await withRecords();
    setAppendPolicy(...APPEND_ALWAYS);
    const lab = readLab(sb.state);
    lab.name = 'changed';
    // the same bytes, written again: another file now (another time stamp)
    const bytes = readFileSync(sb.state);
    await new Promise((r) => setTimeout(r, 5));
    writeFileSync(sb.state, bytes);
    writeLabAtomic(sb.state, lab);
    const f = readFileSync(sb.state);
    expect(endsWithRecord(f)).toBe(false);
    expect(readLab(sb.state).name).toBe('changed');
  });

  it('when it is of version 3 (whose readers would take its first header for the lab)', async () => {
    const sb = new Sandbox();
    await runWith(NEVER, sb, ['iptables', '-N', 'U0']);
    // the same file as version 3 wrote it
    const f = readFileSync(sb.state, 'utf8');
    const nl = f.indexOf('\n');
    const body = f.slice(0, nl).replace('"version":4,', '"version":3,');
    const rest = body.slice(body.indexOf('",') + 2);
    const v3 = `{"checksum":"crc32:${(crc32(Buffer.from(rest)) >>> 0).toString(16).padStart(8, '0')}",${rest}${f.slice(nl)}`;
    writeFileSync(sb.state, v3);
    expect(decodeLab(Buffer.from(v3), () => {}).trusted).toBe(true);
    expect((await runWith(APPEND_ALWAYS, sb, ['iptables', '-A', 'U0', '-j', 'ACCEPT'])).rc).toBe(0);
    const now = readFileSync(sb.state, 'utf8');
    expect(now.startsWith(v3)).toBe(false);
    expect(now).toMatch(/^\{"checksum":"crc32:[0-9a-f]{8}","format":"iptables-sim-lab","version":4,/);
  });

  it('when the file would grow past the policy: the appended records are folded into one file', async () => {
    const { sb } = await withRecords();
    expect((await runWith([0, 1], sb, ['iptables', '-A', 'U0', '-j', 'ACCEPT'])).rc).toBe(0);
    const f = readFileSync(sb.state);
    expect(endsWithRecord(f)).toBe(false);
    expect(f.toString('utf8').split('\n').length).toBe(1 + 2 + 1);
  });
});

/**
 * A file read in parts through a buffer that holds the file's bytes only where `need` put them (the
 * rest is '#'): what reads a byte it did not ask for reads nonsense, and fails.
 */
function inParts(f: Buffer) {
  const buf = Buffer.alloc(f.length, 0x23);
  const got = new Uint8Array(f.length);
  const need = (at: number, end: number): void => {
    at = Math.max(0, at);
    end = Math.min(end, f.length);
    if (end > at) {
      f.copy(buf, at, at, end);
      got.fill(1, at, end);
    }
  };
  const read = (): number => got.reduce((n, v) => n + v, 0);
  return { buf, need, read };
}

/** a lab of 400 short chains, a long one (a frames line) and INPUT jumping to one of them */
async function manyChains(): Promise<{ sb: Sandbox; file: Buffer }> {
  const sb = new Sandbox();
  const lines = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':LONG - [0:0]'];
  for (let i = 0; i < 400; i++) lines.push(`:C${i} - [0:0]`);
  lines.push('-A INPUT -p tcp --dport 22 -j C7', '-A INPUT -j LONG');
  for (let i = 0; i < 400; i++) for (const port of [22, 80, 443]) lines.push(`-A C${i} -p tcp --dport ${port} -m comment --comment "c${i}-${port}" -j ACCEPT`);
  for (let i = 0; i < LAZY_MIN + 36; i++) lines.push(`-A LONG -s 10.0.${i}.0/24 -m comment --comment "long ${i}" -j DROP`);
  lines.push('COMMIT', '');
  expect((await runWith(NEVER, sb, ['iptables-restore'], lines.join('\n'))).rc).toBe(0);
  return { sb, file: readFileSync(sb.state) };
}

const chainOf = (lab: ReturnType<typeof readLab>, name: string) => lab.hosts.router!.tables.filter!.chains.find((c) => c.name === name)!;

describe('a big file read in parts', () => {
  it('-N adds a chain without making the others, and it is written after them', async () => {
    const { file } = await manyChains();
    const run = (lab: ReturnType<typeof readLab>, words: string[]) => execute(lab.hosts.router!.tables as Tables, parseIptables(words, () => {}));
    const parts = inParts(file);
    const lab = parseLabText(parts.buf, 'x', { need: parts.need });
    // the reference: decoded in full (plain data, no chain left in the file)
    const whole = JSON.parse(JSON.stringify(parseLabText(file, 'y'))) as ReturnType<typeof readLab>;
    for (const words of [['-N', 'NEWC'], ['-A', 'NEWC', '-p', 'tcp', '-j', 'ACCEPT'], ['-N', 'NEWD']]) {
      run(lab, words);
      run(whole, words);
    }
    expect(findChain(lab.hosts.router!.tables.filter!, 'NEWC')!.rules).toHaveLength(1);
    expect(parts.read()).toBeLessThan(file.length / 2);
    // the table's chains were never all made (`chains` is still the getter that makes them)
    expect(Object.getOwnPropertyDescriptor(lab.hosts.router!.tables.filter!, 'chains')!.get).toBeDefined();
    const back = parseLabText(encodeLab(lab), 'z');
    expect(JSON.parse(JSON.stringify(back))).toEqual(JSON.parse(JSON.stringify(whole)));
    expect(back.hosts.router!.tables.filter!.chains.slice(-2).map((c) => c.name)).toEqual(['NEWC', 'NEWD']);
  });

  it('reads the header and the chains asked for, no other byte; written whole, all of it, the same bytes', async () => {
    const { file } = await manyChains();
    const parts = inParts(file);
    const lab = parseLabText(parts.buf, 'x', { need: parts.need });
    // the reference: decoded in full (plain data, no chain left in the file)
    const whole = JSON.parse(JSON.stringify(parseLabText(file, 'y'))) as ReturnType<typeof readLab>;
    // line 1 and what follows it up to 64 KiB (it is looked for a newline at a time), the last bytes
    const header = file.indexOf(0x0a) + 1;
    expect(parts.read()).toBeLessThanOrEqual(Math.ceil(header / 65536) * 65536 + 41);
    expect(parts.read()).toBeLessThan(file.length / 3);
    const t = lab.hosts.router!.tables.filter!;
    const named = (n: string) => findChain(t, n)!;
    expect(JSON.stringify(named('C7').rules)).toBe(JSON.stringify(chainOf(whole, 'C7').rules));
    expect(named('LONG').rules).toHaveLength(LAZY_MIN + 36);
    expect(parts.read()).toBeLessThan(file.length / 2);
    expect(encodeLab(lab).equals(file)).toBe(true);
    expect(parts.read()).toBe(file.length);
  });

  it('written whole again (compacted), reads the lines that are the lab and no line of an older record', async () => {
    const { sb } = await manyChains();
    // LONG's rules (and a header) written again ten times: the older ones are dead
    for (let port = 1; port <= 10; port++) expect((await runWith(APPEND_ALWAYS, sb, ['iptables', '-A', 'LONG', '-p', 'udp', '--dport', String(port), '-j', 'ACCEPT'])).rc).toBe(0);
    const file = readFileSync(sb.state);
    const parts = inParts(file);
    const lab = parseLabText(parts.buf, 'x', { need: parts.need });
    const whole = encodeLab(lab);
    expect(whole.equals(encodeLab(parseLabText(file, 'y')))).toBe(true);
    const dead = file.length - whole.length;
    expect(dead).toBeGreaterThan(4 * 65536);
    // (the newest header is looked for 64 KiB at a time from the end)
    expect(parts.read()).toBeLessThanOrEqual(file.length - dead + 65536);
  });

  it('a file whose lines moved, its length kept (edited by hand), is still read by scanning, as when read whole', async () => {
    const { file } = await manyChains();
    const text = file.toString('latin1');
    // C1's line one byte shorter, C2's one longer: every length in the header but theirs still fits
    const edited = Buffer.from(text.replace('"c1-22"', '"c1-2"').replace('"c2-22"', '"c2-222"'), 'latin1');
    expect(edited.length).toBe(file.length);
    const eager = JSON.parse(JSON.stringify(parseLabText(edited, 'y')));
    for (const first of ['C2', 'C1', 'C0']) {
      const parts = inParts(edited);
      const lab = parseLabText(parts.buf, 'x', { need: parts.need });
      // one chain read first, then all of them
      void findChain(lab.hosts.router!.tables.filter!, first)!.rules;
      expect(JSON.parse(JSON.stringify(lab)), `${first} read first`).toEqual(eager);
    }
    expect(chainOf(parseLabText(edited, 'z'), 'C2').rules[0]!.matches).toContainEqual({ name: 'comment', data: { comment: 'c2-222' } });
  });

  it('copied with its chains listed (iptables-restore --noflush in `run`), a file whose lines moved gives the copy its chains as read by scanning', async () => {
    const { file } = await manyChains();
    const text = file.toString('latin1');
    const edited = Buffer.from(text.replace('"c1-22"', '"c1-2"').replace('"c2-22"', '"c2-222"'), 'latin1');
    const eager = JSON.parse(JSON.stringify(parseLabText(edited, 'y').hosts.router!.tables.filter)) as unknown;
    const parts = inParts(edited);
    const t = parseLabText(parts.buf, 'x', { need: parts.need }).hosts.router!.tables.filter!;
    void t.chains;
    const copy = copyTable(t);
    expect(JSON.parse(JSON.stringify(copy))).toEqual(eager);
    expect(JSON.parse(JSON.stringify(t))).toEqual(eager);
  });

  it('through the CLI: commands on a lab read in parts print and leave what they do on one read whole', async () => {
    const a = await manyChains();
    const b = new Sandbox();
    writeFileSync(b.state, a.file);
    const commands = [
      ['iptables', '-S', 'C7'],
      ['iptables', '-A', 'C9', '-j', 'DROP'],
      ['trace', '--from', 'pc1', '-p', 'tcp', '-d', '192.168.1.1', '--dport', '22'],
      ['iptables', '-D', 'LONG', '3'],
      ['iptables', '-L', 'INPUT', '-n', '-v'],
      ['iptables', '-I', 'INPUT', '-j', 'C300'],
      // chains made on a table read from the file (none of the others made), used, removed
      ['iptables', '-N', 'NEWC'],
      ['iptables', '-N', 'NEWC'],
      ['iptables', '-A', 'NEWC', '-p', 'udp', '-j', 'C5'],
      ['iptables', '-A', 'C6', '-j', 'NEWC'],
      ['iptables', '-N', 'TMP'],
      ['iptables', '-X', 'TMP'],
      ['iptables-restore', '--noflush'],
      ['iptables', '-E', 'NEWC', 'RENAMED'],
      ['iptables', '-A', 'RENAMED', '-j', 'C6'],
      // a chain read from the file renamed (C5, which NEWC jumps to), then both names used
      ['iptables', '-E', 'C5', 'C5X'],
      ['iptables', '-S', 'C5'],
      ['iptables', '-A', 'C5X', '-j', 'ACCEPT'],
      ['iptables', '-N', 'C5'],
      ['iptables', '-L', 'C5X', '-n'],
      ['iptables', '-S'],
      ['iptables-save', '-c'],
    ];
    const stdin = ['*filter', ':NEWER - [0:0]', '-A NEWER -j RETURN', '-A INPUT -j NEWER', 'COMMIT', ''].join('\n');
    for (const argv of commands) {
      const input = argv[0] === 'iptables-restore' ? stdin : '';
      const x = await runWith(APPEND_ALWAYS, a.sb, argv, input, true);
      const y = await runWith(NEVER, b, argv, input);
      expect(x, argv.join(' ')).toEqual(y);
    }
    expect(endsWithRecord(readFileSync(a.sb.state))).toBe(true);
    expect(a.sb.lab()).toEqual(b.lab());
  });
});

describe('a lab whose tables come from two files read in parts', () => {
  it('is written whole when a record would take lines of the other file not looked at', async () => {
    const a = await manyChains();
    const b = await manyChains();
    // b's own rule, so that its table differs from a's
    expect((await runWith(NEVER, b.sb, ['iptables', '-A', 'C3', '-j', 'DROP'])).rc).toBe(0);
    const fileB = readFileSync(b.sb.state);
    const pa = inParts(a.file);
    const pb = inParts(fileB);
    const lab = parseLabText(pa.buf, 'a', { need: pa.need, origin: 'a' });
    lab.hosts.router!.tables.filter = parseLabText(pb.buf, 'b', { need: pb.need, origin: 'b' }).hosts.router!.tables.filter;
    setAppendPolicy(...APPEND_ALWAYS);
    const out = encodeLabFile(lab, () => true);
    const written = out.appendAt === undefined ? Buffer.concat(out.parts) : Buffer.concat([a.file, ...out.parts]);
    expect(JSON.parse(JSON.stringify(parseLabText(written, 'x')))).toEqual(JSON.parse(JSON.stringify(parseLabText(fileB, 'y'))));
  });
});

describe('labs read in parts by one process', () => {
  const openFds = (): number => readdirSync('/proc/self/fd').length;

  it('keep a few files open; an older lab reads on by opening its file again', async () => {
    const { sb, file } = await manyChains();
    setReadInParts(0);
    const had = openFds();
    const labs = Array.from({ length: 12 }, () => readLab(sb.state));
    expect(openFds() - had).toBeLessThanOrEqual(8);
    // the oldest lab's file was closed: reading a chain opens it again, and it is the same lab
    const c = findChain(labs[0]!.hosts.router!.tables.filter!, 'C300')!;
    expect(JSON.stringify(c.rules)).toBe(JSON.stringify(chainOf(parseLabText(file, 'y'), 'C300').rules));
    expect(openFds() - had).toBeLessThanOrEqual(8);
  });

  it('an older lab whose file was replaced since says so', async () => {
    const { sb } = await manyChains();
    setReadInParts(0);
    const old = readLab(sb.state);
    for (let i = 0; i < 8; i++) readLab(sb.state);
    // written whole: another file renamed over it
    setAppendPolicy(...NEVER);
    writeLabAtomic(sb.state, readLab(sb.state));
    expect(() => findChain(old.hosts.router!.tables.filter!, 'C300')!.rules).toThrow(/was replaced while iptables-sim was reading it/);
  });
});

describe('rules added to a long chain still in the file (without decoding it)', () => {
  /** a rule LONG had from the start (manyChains()), as a command line gives it */
  const original = (i: number): string[] => ['-s', `10.0.${i}.0/24`, '-m', 'comment', '--comment', `long ${i}`, '-j', 'DROP'];

  /** a command on LONG (a chain with a frames line) and what reads it; `added`: rules added so far */
  function longCommand(g: Gen, n: number, added: string[][]): string[] {
    const rule = [`-s`, `10.${g.int(3)}.${g.int(200)}.0/24`, ...(g.chance(0.5) ? ['-p', 'tcp', '--dport', String(g.pick([22, 80]))] : []), '-m', 'comment', '--comment', `r${g.int(1000)}`, '-j', g.pick(['DROP', 'ACCEPT', 'RETURN', 'C5'])];
    // -D and -C with a rule that is there (or was: deleted since), or one of the first ones
    const there = (): string[] => (added.length && g.chance(0.6) ? g.pick(added) : original(g.int(LAZY_MIN + 40)));
    switch (g.int(13)) {
      case 10:
        return ['iptables', '-D', 'LONG', ...there()];
      case 11:
        return ['iptables', '-C', 'LONG', ...there()];
      case 12:
        return ['iptables', '-D', 'LONG', ...there(), '-v'];
      case 0:
      case 1:
        return ['iptables', '-A', 'LONG', ...rule];
      case 2:
      case 3:
        return ['iptables', '-I', 'LONG', String(1 + g.int(n + 2)), ...rule];
      case 4:
        return ['iptables', '-D', 'LONG', String(1 + g.int(n + 1))];
      case 5:
        return ['iptables', '-C', 'LONG', ...rule];
      case 6:
        return ['iptables', g.pick(['-S', '-L']), 'LONG', ...(g.chance(0.5) ? ['-v'] : []), ...(g.chance(0.5) ? [] : ['-n'])];
      case 7:
        return ['iptables', '-R', 'LONG', String(1 + g.int(n)), ...rule];
      case 8:
        return ['trace', '--from', 'pc1', '-p', 'tcp', '-d', '192.168.1.1', '--dport', String(g.pick([22, 80]))];
      default:
        return ['iptables', '-Z', 'LONG'];
    }
  }

  for (let set = 0; set < 3; set++) {
    const seed = 0x51ed270b ^ (set * 7877);
    it(`random commands #${set} (seed ${seed >>> 0}): as on the lab read and written whole`, async () => {
      const g = generator(seed);
      const a = await manyChains();
      // the reference: the same lab as one JSON document before every command (no chain left in a
      // file, so no rule is added to one without decoding it)
      const b = new Sandbox();
      writeFileSync(b.state, a.file);
      let n = LAZY_MIN + 36;
      const added: string[][] = [];
      for (let i = 0; i < 40; i++) {
        const argv = longCommand(g, n, added);
        const x = await runWith(set === 2 ? NEVER : APPEND_ALWAYS, a.sb, argv, '', set !== 1);
        writeFileSync(b.state, JSON.stringify(b.lab()));
        const y = await runWith(NEVER, b, argv);
        expect(x, argv.join(' ')).toEqual(y);
        if (y.rc === 0 && (argv[1] === '-A' || argv[1] === '-I')) {
          n++;
          added.push(argv.slice(argv[1] === '-I' ? 4 : 3));
        }
        if (y.rc === 0 && argv[1] === '-D') n--;
      }
      expect(a.sb.lab()).toEqual(b.lab());
      const save = async (s: Sandbox) => (await runWith(NEVER, s, ['iptables-save', '-c'])).stdout.replace(/^# .*\n/gm, '');
      expect(await save(a.sb)).toBe(await save(b));
    });
  }

  it('-A and -I leave the chain undecoded, and what is written reads back as the rules in their places', async () => {
    const { file } = await manyChains();
    const parts = inParts(file);
    const lab = parseLabText(parts.buf, 'x', { need: parts.need });
    // the reference: decoded in full (plain data, no chain left in the file)
    const whole = JSON.parse(JSON.stringify(parseLabText(file, 'y'))) as ReturnType<typeof readLab>;
    for (const words of [['-A', 'LONG', '-s', '10.9.9.0/24', '-j', 'DROP'], ['-I', 'LONG', '5', '-d', '10.8.8.8', '-j', 'ACCEPT'], ['-I', 'LONG', '-p', 'udp', '-m', 'udp', '--dport', '53', '-j', 'RETURN']]) {
      const run = (l: ReturnType<typeof readLab>) => execute(l.hosts.router!.tables as Tables, parseIptables(words, () => {}));
      run(lab);
      run(whole);
    }
    const long = findChain(lab.hosts.router!.tables.filter!, 'LONG')!;
    expect(Object.getOwnPropertyDescriptor(long, 'rules')!.get, 'LONG still undecoded').toBeDefined();
    const back = parseLabText(encodeLab(lab), 'z');
    expect(JSON.parse(JSON.stringify(back))).toEqual(JSON.parse(JSON.stringify(whole)));
    const rules = chainOf(back, 'LONG').rules;
    expect(rules).toHaveLength(LAZY_MIN + 36 + 3);
    expect(rules[0]!.matches.map((m) => m.name)).toEqual(['udp']);
    expect(rules[5]!.dst).toEqual({ addr: 0x0a080808, mask: 0xffffffff });
  });
});

describe('rules deleted from a long chain still in the file (without decoding it)', () => {
  /** LONG's frames line (the line after its rules), as JSON */
  const framesOf = (file: Buffer) => {
    const lines = file.toString('utf8').split('\n');
    return JSON.parse(lines[lines.findIndex((l) => l.includes('"long 0"')) + 1]!) as { matches: string[]; targets: string[] };
  };

  it('-C and -D with a rule find it decoding only the rules that hold its names; -D leaves the chain undecoded', async () => {
    const { file } = await manyChains();
    const parts = inParts(file);
    const lab = parseLabText(parts.buf, 'x', { need: parts.need });
    const whole = JSON.parse(JSON.stringify(parseLabText(file, 'y'))) as ReturnType<typeof readLab>;
    const parse = vi.spyOn(JSON, 'parse');
    let parsed: number;
    try {
      for (const words of [['-C', 'LONG', '-s', '10.0.7.0/24', '-m', 'comment', '--comment', 'long 7', '-j', 'DROP'], ['-D', 'LONG', '-s', '10.0.5.0/24', '-m', 'comment', '--comment', 'long 5', '-j', 'DROP']]) {
        execute(lab.hosts.router!.tables as Tables, parseIptables(words, () => {}));
      }
      parsed = parse.mock.calls.length;
    } finally {
      parse.mockRestore();
    }
    // every rule holds "DROP" and "comment": found by the rules before them (8 and 6), not by
    // decoding all LAZY_MIN + 36 of them (and the frames line, and the header of LONG's lines)
    expect(parsed).toBeLessThan(20);
    execute(whole.hosts.router!.tables as Tables, parseIptables(['-D', 'LONG', '-s', '10.0.5.0/24', '-m', 'comment', '--comment', 'long 5', '-j', 'DROP'], () => {}));
    const long = findChain(lab.hosts.router!.tables.filter!, 'LONG')!;
    expect(Object.getOwnPropertyDescriptor(long, 'rules')!.get, 'LONG still undecoded').toBeDefined();
    const written = encodeLab(lab);
    expect(JSON.parse(JSON.stringify(parseLabText(written, 'z')))).toEqual(JSON.parse(JSON.stringify(whole)));
    const names = (f: Buffer) => (({ matches, targets }) => ({ matches, targets }))(framesOf(f));
    expect(names(written)).toEqual(names(file));
    // gone (asked again: through the rules, decoded with the deletion in its place)
    expect(() => execute(lab.hosts.router!.tables as Tables, parseIptables(['-C', 'LONG', '-s', '10.0.5.0/24', '-m', 'comment', '--comment', 'long 5', '-j', 'DROP'], () => {}))).toThrow(/Bad rule/);
    expect(long.rules).toHaveLength(LAZY_MIN + 35);
  });

  it('-D of the only rule that uses an extension: the chain is decoded, its list of extensions without it', async () => {
    const { sb } = await manyChains();
    expect((await runWith(NEVER, sb, ['iptables', '-I', 'LONG', '3', '-p', 'udp', '-m', 'udp', '--dport', '53', '-m', 'comment', '--comment', 'dns', '-j', 'ACCEPT'])).rc).toBe(0);
    const file = readFileSync(sb.state);
    expect(framesOf(file).matches).toEqual(['comment', 'udp']);
    const parts = inParts(file);
    const lab = parseLabText(parts.buf, 'x', { need: parts.need });
    execute(lab.hosts.router!.tables as Tables, parseIptables(['-D', 'LONG', '-p', 'udp', '-m', 'udp', '--dport', '53', '-m', 'comment', '--comment', 'dns', '-j', 'ACCEPT'], () => {}));
    const written = encodeLab(lab);
    expect(framesOf(written).matches).toEqual(['comment']);
    expect(chainOf(parseLabText(written, 'z'), 'LONG').rules).toHaveLength(LAZY_MIN + 36);
  });
});

describe('the stamp of a big file whose lines were all checked (<lab>.checked)', () => {
  const stampOf = (sb: Sandbox) => `${sb.state}.checked`;
  /** the stamp written later than the file's last change, as it is when the write took a tick of the clock */
  const notRacy = (sb: Sandbox): void => {
    const st = statSync(sb.state);
    utimesSync(stampOf(sb), st.atime, new Date(st.ctimeMs + 1000));
  };
  const SVC_JUMP = ['iptables', '-A', 'C9', '-j', 'C10'];

  it('is written by a command that checked every line (a rule that jumps), with the file it wrote', async () => {
    const { sb } = await manyChains();
    expect(existsSync(stampOf(sb))).toBe(false);
    expect((await runWith(APPEND_ALWAYS, sb, SVC_JUMP, '', true)).rc).toBe(0);
    const st = statSync(sb.state, { bigint: true });
    expect(JSON.parse(readFileSync(stampOf(sb), 'utf8'))).toEqual({ dev: String(st.dev), ino: String(st.ino), size: String(st.size), mtimeNs: String(st.mtimeNs), ctimeNs: String(st.ctimeNs) });
    notRacy(sb);
    expect(stampBelieved(sb.state)).toBe(true);
    // and again by the next change, which believed it (its lines were all checked before)
    expect((await runWith(APPEND_ALWAYS, sb, ['iptables', '-N', 'NEWC'], '', true)).rc).toBe(0);
    notRacy(sb);
    expect(stampBelieved(sb.state)).toBe(true);
  });

  it('is not written, and an old one removed, by a change that did not check every line', async () => {
    const { sb } = await manyChains();
    expect((await runWith(APPEND_ALWAYS, sb, ['iptables', '-N', 'NEWC'], '', true)).rc).toBe(0);
    expect(existsSync(stampOf(sb))).toBe(false);
    expect((await runWith(APPEND_ALWAYS, sb, SVC_JUMP, '', true)).rc).toBe(0);
    expect(existsSync(stampOf(sb))).toBe(true);
    // (not believed: written in the same tick as the file, or a stamp of another file)
    utimesSync(stampOf(sb), 0, 0);
    expect((await runWith(APPEND_ALWAYS, sb, ['iptables', '-N', 'NEWD'], '', true)).rc).toBe(0);
    expect(existsSync(stampOf(sb))).toBe(false);
  });

  it('is not believed once the file changed, even back to the same bytes and times, nor in the tick it was written', async () => {
    const { sb } = await manyChains();
    expect((await runWith(APPEND_ALWAYS, sb, SVC_JUMP, '', true)).rc).toBe(0);
    notRacy(sb);
    expect(stampBelieved(sb.state)).toBe(true);
    const st = statSync(sb.state);
    // the same bytes written again, the times set back: only the ctime tells, and it does
    writeFileSync(sb.state, readFileSync(sb.state));
    utimesSync(sb.state, st.atime, st.mtime);
    expect(stampBelieved(sb.state)).toBe(false);
    expect((await runWith(APPEND_ALWAYS, sb, SVC_JUMP, '', true)).rc).toBe(0);
    notRacy(sb);
    expect(stampBelieved(sb.state)).toBe(true);
    // a stamp no later than the file's last change (the file may have changed after it in that tick)
    const now = statSync(sb.state);
    utimesSync(stampOf(sb), now.atime, new Date(now.ctimeMs - 1000));
    expect(stampBelieved(sb.state)).toBe(false);
    // not a stamp at all
    writeFileSync(stampOf(sb), 'not json');
    expect(stampBelieved(sb.state)).toBe(false);
  });

  it('believed, the lines are not read to believe the jump graph kept in the file; the change is the same', async () => {
    const { file } = await manyChains();
    const jump = (checked: boolean) => {
      const parts = inParts(file);
      const lab = parseLabText(parts.buf, 'x', { need: parts.need, checked });
      execute(lab.hosts.router!.tables as Tables, parseIptables(['-A', 'C11', '-j', 'C12'], () => {}));
      return { read: parts.read(), bytes: encodeLab(lab) };
    };
    const believed = jump(true);
    const checked = jump(false);
    expect(checked.read).toBe(file.length);
    expect(believed.read).toBeLessThan(file.length / 2);
    expect(believed.bytes.equals(checked.bytes)).toBe(true);
  });

  it('believed, a file edited by hand behind it is still found when the edited line is read', async () => {
    const { file } = await manyChains();
    // C11's comment changed, its line as long as before: only its checksum tells
    const edited = Buffer.from(file.toString('latin1').replace('"c11-22"', '"c11-99"'), 'latin1');
    const parts = inParts(edited);
    const lab = parseLabText(parts.buf, 'x', { need: parts.need, checked: true });
    const rules = findChain(lab.hosts.router!.tables.filter!, 'C11')!.rules;
    expect(rules[0]!.matches).toContainEqual({ name: 'comment', data: { comment: 'c11-99' } });
    // found edited: the lab was checked in full (every byte read), as a file without a stamp is
    expect(parts.read()).toBe(edited.length);
  });
});
