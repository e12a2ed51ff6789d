/**
 * Long chains read rule by rule (src/state/lab-file.ts, src/ruleset/lazy-rules.ts): a trace walks
 * a chain still in the lab file by the frames stored next to its rules, decoding only the rules
 * whose frame can match. Against the same lab decoded in full, on random rule sets and packets:
 * the same events, outcome and counters, and the same file written back. Edits made by hand to a
 * long chain's rules or frames are found and checked like any other.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { tracePacket, type PacketSpec } from '../src/engine/simulate.js';
import { SimError } from '../src/errors.js';
import { parseDotted } from '../src/net/ipv4.js';
import type { Lab } from '../src/net/lab.js';
import { saveTable, TextOut } from '../src/output/listing.js';
import { lazyRules } from '../src/ruleset/lazy-rules.js';
import { jumpTarget } from '../src/ruleset/rule.js';
import type { Chain, Tables } from '../src/ruleset/tables.js';
import { decodeLab, encodeLab, LAZY_MIN } from '../src/state/lab-file.js';
import { parseLabText, readLab } from '../src/state/store.js';
import { normStamp, Sandbox } from './helpers/cli.js';
import { parseIptables } from '../src/cli/commands/iptables.js';
import { execute } from '../src/ruleset/execute.js';
import { copyTable, findChain, referenceCounts, ruleAt } from '../src/ruleset/tables.js';
import { generator } from './helpers/random.js';
import { MemorySession } from '../src/script/session.js';

type Gen = ReturnType<typeof generator>;

const ADDRS = ['50.60.70.1', '50.60.70.80', '203.0.113.10', '8.8.8.8', '192.168.1.1', '192.168.1.2', '192.168.1.3', '10.96.0.1', '10.96.0.2', '10.96.1.9', '0.0.0.0'];
const PORTS = [22, 53, 80, 443];

/** a rule's frame and a few matches: prefixes of every length, negations, protocols, interfaces */
function ruleSpec(g: Gen, later: string[], ins: boolean): string {
  const p: string[] = [];
  const neg = () => (g.chance(0.2) ? '! ' : '');
  if (g.chance(0.4)) p.push(`${neg()}-s ${g.pick(ADDRS)}/${g.pick([32, 32, 24, 16, 8, 1, 0])}`);
  if (g.chance(0.6)) p.push(`${neg()}-d ${g.pick(ADDRS)}/${g.pick([32, 32, 32, 24, 16, 0])}`);
  if (ins && g.chance(0.15)) p.push(`${neg()}-i ${g.pick(['eth0', 'eth1', 'eth+'])}`);
  let proto: string | undefined;
  if (g.chance(0.6)) {
    proto = g.pick(['tcp', 'udp', 'icmp']);
    const inv = g.chance(0.15);
    p.push(`${inv ? '! ' : ''}-p ${proto}`);
    if (inv) proto = undefined;
  }
  if (g.chance(0.3)) p.push(`-m comment --comment "c${g.int(50)}"`);
  if ((proto === 'tcp' || proto === 'udp') && g.chance(0.5)) p.push(`-m ${proto} ${neg()}--dport ${g.pick(PORTS)}`);
  if (g.chance(0.05)) p.push(`-m statistic --mode nth --every 2 --packet ${g.int(2)}`);
  let t: string;
  if (later.length && g.chance(0.2)) t = `-${g.chance(0.8) ? 'j' : 'g'} ${g.pick(later)}`;
  else if (g.chance(0.1)) t = '-j RETURN';
  else t = g.pick(['-j ACCEPT', '-j DROP', '-j ACCEPT', '-j LOG --log-prefix "x "', '']);
  return [...p, t].join(' ').trimEnd();
}

/** a filter table whose chains are mostly long enough to be kept rule by rule */
function ruleset(g: Gen): string {
  const out = ['*filter', ':INPUT ACCEPT [0:0]', `:FORWARD ${g.pick(['ACCEPT', 'DROP'])} [0:0]`, ':OUTPUT ACCEPT [0:0]'];
  const users = ['U0', 'U1', 'U2', 'U3'];
  for (const u of users) out.push(`:${u} - [0:0]`);
  for (const b of ['INPUT', 'FORWARD', 'OUTPUT']) {
    const n = g.chance(0.5) ? LAZY_MIN + g.int(60) : g.int(20);
    for (let i = 0; i < n; i++) out.push(`-A ${b} ${ruleSpec(g, b === 'OUTPUT' ? [] : users, b !== 'OUTPUT')}`);
  }
  users.forEach((u, k) => {
    const n = g.chance(0.7) ? LAZY_MIN + g.int(100) : g.int(LAZY_MIN);
    for (let i = 0; i < n; i++) out.push(`-A ${u} ${ruleSpec(g, users.slice(k + 1), true)}`);
  });
  out.push('COMMIT');
  return out.join('\n') + '\n';
}

function packet(g: Gen): PacketSpec {
  const proto = g.pick([6, 17, 1]);
  const iface = g.pick(['eth0', 'eth1', undefined]);
  const spec: PacketSpec = { iface, proto, dst: parseDotted(g.pick(ADDRS))! };
  if (iface !== undefined || g.chance(0.5)) spec.src = parseDotted(g.pick(ADDRS))!;
  if (proto !== 1) {
    spec.sport = 40000 + g.int(10);
    spec.dport = g.pick(PORTS);
  }
  if (proto === 6) spec.tcpFlags = 0x02;
  return spec;
}

function trace(lab: Lab, spec: PacketSpec): string {
  try {
    const t = tracePacket(lab, 'router', spec);
    return JSON.stringify({ outcome: t.outcome.kind, events: t.events }, (k, v) => (k === 'id' ? undefined : v));
  } catch (e) {
    if (e instanceof SimError) return `error: ${e.message}`;
    throw e;
  }
}

const chainsOf = (lab: Lab): Chain[] => Object.values(lab.hosts).flatMap((h) => Object.values(h.tables).flatMap((t) => t?.chains ?? []));
/** its rules are still in the file (a getter until decoded) */
const stillStored = (c: Chain): boolean => Object.getOwnPropertyDescriptor(c, 'rules')!.get !== undefined;

async function stored(rules: string): Promise<Sandbox> {
  const sb = new Sandbox();
  const r = await sb.run(['iptables-restore'], rules);
  expect(r.rc, r.stderr).toBe(0);
  return sb;
}

describe('long chains walked rule by rule', () => {
  for (let set = 0; set < 12; set++) {
    const seed = 0x2545f491 ^ (set * 40503);
    it(`random rule set #${set} (seed ${seed >>> 0}): as the lab decoded in full`, async () => {
      const g = generator(seed);
      const rules = ruleset(g);
      const sb = await stored(rules);
      const file = readFileSync(sb.state);
      const lazy = parseLabText(file, sb.state);
      const whole = JSON.parse(JSON.stringify(parseLabText(file, sb.state))) as Lab;
      const long = chainsOf(lazy).filter((c) => lazyRules(c) !== undefined);
      expect(long.length, 'chains kept rule by rule').toBeGreaterThan(0);
      for (let i = 0; i < 60; i++) {
        const spec = packet(g);
        expect(trace(lazy, spec), `packet ${i + 1} ${JSON.stringify(spec)}\n${rules}`).toBe(trace(whole, spec));
      }
      // the walk passed over rules without decoding their chains
      expect(long.some(stillStored), 'a long chain still undecoded').toBe(true);
      // written back (rules decoded one by one, encoded again where they changed): the same lab
      const back = encodeLab(lazy);
      expect(JSON.stringify(parseLabText(back, 'back'))).toBe(JSON.stringify(whole));
      expect(decodeLab(back, () => {}).trusted).toBe(true);
      expect(JSON.stringify(lazy)).toBe(JSON.stringify(whole));
    });
  }
});

describe('-D and -R by number in a long chain still in the file', () => {
  const long = (): string => {
    const lines = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':A - [0:0]', ':LONG - [0:0]', '-A INPUT -j LONG'];
    for (let i = 0; i < LAZY_MIN + 6; i++) lines.push(`-A LONG -d 10.0.0.${i} -p tcp -m tcp --dport ${1000 + i} ${i % 5 ? '-j ACCEPT' : '-j A'}`);
    return [...lines, 'COMMIT', ''].join('\n');
  };
  const run = (t: Tables, argv: string[]): unknown => {
    try {
      execute(t, parseIptables(argv, () => {}));
      return undefined;
    } catch (e) {
      return String(e);
    }
  };

  it('decode the rules they take away, each alone, and leave the chain in the file', async () => {
    const sb = await stored(long());
    let lab = readLab(sb.state);
    const whole = JSON.parse(JSON.stringify(readLab(sb.state))) as Lab;
    const commands = [['-D', 'LONG', '6'], ['-R', 'LONG', '3', '-s', '10.9.9.9', '-m', 'udp', '-p', 'udp', '-j', 'A'], ['-D', 'LONG', '70'], ['-D', 'LONG', '80'], ['-R', 'LONG', '80', '-j', 'ACCEPT']];
    for (const argv of commands) {
      // one command at a time on the lab read again, as the CLI runs them
      const parse = vi.spyOn(JSON, 'parse');
      try {
        expect(run(lab.hosts.router!.tables, argv), argv.join(' ')).toBe(run(whole.hosts.router!.tables, argv));
        // the frames line and single rules, not the chain's rules line
        expect(parse.mock.calls.filter(([text]) => String(text).startsWith('[')), argv.join(' ')).toEqual([]);
      } finally {
        parse.mockRestore();
      }
      expect(stillStored(findChain(lab.hosts.router!.tables.filter!, 'LONG')!), argv.join(' ')).toBe(true);
      // written as the rules decoded in full are, and read back the same (a lab of its own is
      // compared: turning one into JSON decodes its chains)
      const file = encodeLab(lab);
      expect(JSON.stringify(parseLabText(file, 'check')), argv.join(' ')).toBe(JSON.stringify(whole));
      lab = parseLabText(file, 'back');
    }
  });

  it('ruleAt(): each rule as the chain decoded in full has it, the chain left in the file', async () => {
    const sb = await stored(long());
    const t = readLab(sb.state).hosts.router!.tables.filter!;
    const want = (JSON.parse(JSON.stringify(readLab(sb.state))) as Lab).hosts.router!.tables.filter!.chains.find((c) => c.name === 'LONG')!.rules;
    const c = findChain(t, 'LONG')!;
    expect(want.map((_, i) => ruleAt(c, i))).toEqual(want);
    expect(stillStored(c)).toBe(true);
  });

  it('-D by number of the only jump to a chain: a deeper path below it and a rule its old hook refuses taken, as on the lab decoded in full', async () => {
    // INPUT -> LONG -> A -> B1 -> ... -> B13: sixteen chains deep, the most nf_tables takes
    const lines = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':A - [0:0]', ':LONG - [0:0]', '-A INPUT -j LONG'];
    for (let k = 1; k <= 14; k++) lines.push(`:B${k} - [0:0]`);
    lines.push('-A A -j B1');
    for (let k = 1; k < 13; k++) lines.push(`-A B${k} -j B${k + 1}`);
    for (let i = 0; i < LAZY_MIN + 6; i++) lines.push(`-A LONG -d 10.0.0.${i} ${i === 5 ? '-j A' : '-j ACCEPT'}`);
    const sb = await stored([...lines, 'COMMIT', ''].join('\n'));
    const lab = readLab(sb.state);
    const whole = JSON.parse(JSON.stringify(readLab(sb.state))) as Lab;
    // one deeper is refused while LONG jumps to A, and so is a rule that INPUT's hook does not allow
    expect(run(whole.hosts.router!.tables, ['-A', 'B13', '-j', 'B14'])).toMatch(/Too many links/);
    expect(run(whole.hosts.router!.tables, ['-A', 'A', '-m', 'owner', '--uid-owner', '0', '-j', 'ACCEPT'])).toMatch(/Invalid argument/);
    for (const argv of [['-D', 'LONG', '6'], ['-A', 'B13', '-j', 'B14'], ['-A', 'A', '-m', 'owner', '--uid-owner', '0', '-j', 'ACCEPT']]) {
      expect(run(lab.hosts.router!.tables, argv), argv.join(' ')).toBe(run(whole.hosts.router!.tables, argv));
      // (the -D decoded none of LONG's other rules; the graph, asked again after it, reads them all)
      if (argv[0] === '-D') expect(stillStored(findChain(lab.hosts.router!.tables.filter!, 'LONG')!)).toBe(true);
    }
    expect(findChain(whole.hosts.router!.tables.filter!, 'B13')!.rules).toHaveLength(1);
    expect(findChain(whole.hosts.router!.tables.filter!, 'A')!.rules).toHaveLength(2);
  });

  for (let set = 0; set < 4; set++) {
    const seed = 0x7e11ab1e ^ (set * 7919);
    it(`random -D, -R, -A, -I and -D by spec (seed ${seed >>> 0}): as the chain decoded in full, and as written and read back`, async () => {
      const g = generator(seed);
      const sb = await stored(long());
      const lab = readLab(sb.state);
      const whole = JSON.parse(JSON.stringify(readLab(sb.state))) as Lab;
      for (let k = 0; k < 12; k++) {
        const n = String(1 + g.int(LAZY_MIN + 8));
        const spec = ['-d', `10.0.0.${g.int(LAZY_MIN + 6)}`, '-p', 'tcp', '-m', 'tcp', '--dport', String(1000 + g.int(LAZY_MIN + 6)), '-j', g.pick(['ACCEPT', 'A'])];
        const argv = g.pick([['-D', 'LONG', n], ['-R', 'LONG', n, ...spec], ['-A', 'LONG', ...spec], ['-I', 'LONG', n, ...spec], ['-D', 'LONG', ...spec]]);
        expect(run(lab.hosts.router!.tables, argv), argv.join(' ')).toBe(run(whole.hosts.router!.tables, argv));
        if (g.chance(0.3)) {
          // written and read again, as the CLI does between commands
          const back = parseLabText(encodeLab(lab), 'back');
          expect(JSON.stringify(back), argv.join(' ')).toBe(JSON.stringify(whole));
          Object.assign(lab, back);
        }
      }
      expect(JSON.stringify(lab)).toBe(JSON.stringify(whole));
    });
  }
});

/** a FORWARD chain of 100 service rules, the packet's the 80th */
async function services(): Promise<Sandbox> {
  const lines = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD DROP [0:0]', ':OUTPUT ACCEPT [0:0]', ':SVC - [0:0]', '-A FORWARD -j SVC'];
  for (let i = 0; i < 100; i++) lines.push(`-A SVC -d 10.96.0.${i}/32 -p tcp -m comment --comment "svc ${i}" -m tcp --dport 80 -j ACCEPT`);
  lines.push('COMMIT');
  return stored(lines.join('\n') + '\n');
}

const TRACE = 'trace -i eth1 -s 192.168.1.2 -d 10.96.0.80 -p tcp --dport 80';
const lines = (b: Buffer | string): string[] => b.toString().split('\n');

/**
 * Edits the rules line of SVC in `sb`'s lab file by hand: rule `n`'s destination ports become a
 * string (nonsense to the tcp match). Returns the file's new text.
 */
function spoilRule(sb: Sandbox, n: number): string {
  const l = lines(readFileSync(sb.state));
  const at = l.findIndex((x) => x.includes('"svc 0"'));
  const was = `"svc ${n}"}},{"name":"tcp","data":{"spts":[0,65535],"dpts":`;
  l[at] = l[at]!.replace(`${was}[80,80]`, `${was}"80:80"`);
  const text = l.join('\n');
  writeFileSync(sb.state, text);
  return text;
}

describe('a long chain in the lab file', () => {
  it('has its frames on the line after its rules; a trace decodes the rules it needs and writes both lines back as they were, the counters in the header', async () => {
    const sb = await services();
    const before = lines(readFileSync(sb.state));
    const at = before.findIndex((l) => l.includes('"svc 0"'));
    const aux = JSON.parse(before[at + 1]!);
    expect(aux.frames).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(aux).toMatchObject({ matches: ['comment', 'tcp'], targets: [] });
    const lab = readLab(sb.state);
    const svc = lab.hosts.router!.tables.filter!.chains.find((c) => c.name === 'SVC')!;
    tracePacket(lab, 'router', { iface: 'eth1', proto: 6, src: parseDotted('192.168.1.2')!, dst: parseDotted('10.96.0.80')!, sport: 40000, dport: 80, tcpFlags: 2 });
    expect(stillStored(svc)).toBe(true);
    const written = encodeLab(lab);
    const after = lines(written);
    // the 80th rule's counters changed: its text did not, the header has them (a version 5 header)
    expect(after[at]).toBe(before[at]);
    expect(after[at + 1]).toBe(before[at + 1]);
    const head = JSON.parse(after[0]!);
    expect(head.version).toBe(5);
    const cols = head.hosts.router.tables.filter.chains;
    const index = cols.names.split('\n').indexOf('SVC');
    expect(cols.counts).toEqual({ [index]: [80, 1, 60] });
    const back = parseLabText(written, 'x').hosts.router!.tables.filter!.chains.find((c) => c.name === 'SVC')!.rules;
    expect(back.map((r) => r.pkts)).toEqual(back.map((_, i) => (i === 80 ? 1 : 0)));
    expect(back[80]!.bytes).toBe(60);
    // a rule decoded alone is the object the chain holds once decoded whole
    expect(svc.rules[80]!.pkts).toBe(1);
  });

  it('a rule edited by hand is found when the walk decodes it: a good edit is taken', async () => {
    const sb = await services();
    const l = lines(readFileSync(sb.state));
    const at = l.findIndex((x) => x.includes('"svc 0"'));
    // the 80th rule drops (its comment two longer, its verdict two shorter: the layout still fits)
    const c = l[at]!.indexOf('"svc 80"');
    const v = l[at]!.indexOf('"verdict":"ACCEPT"', c);
    l[at] = l[at]!.slice(0, c) + '"svc 80xx"' + l[at]!.slice(c + 8, v) + '"verdict":"DROP"' + l[at]!.slice(v + 18);
    writeFileSync(sb.state, l.join('\n'));
    const r = await sb.sh(TRACE);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/svc 80xx.*DROP/);
  });

  it('a rule edited into nonsense is refused when the walk reaches it, and the file is kept', async () => {
    const sb = await services();
    const text = spoilRule(sb, 80);
    const r = await sb.sh(TRACE);
    expect(r.rc).not.toBe(0);
    expect(r.stderr).toContain(`${sb.state}: the lab file is damaged`);
    expect(r.stderr).toMatch(/SVC\.rules\[80\]/);
    expect(readFileSync(sb.state, 'utf8')).toBe(text);
  });

  it('frames edited by hand are found before the walk trusts them', async () => {
    const sb = await services();
    const l = lines(readFileSync(sb.state));
    const at = l.findIndex((x) => x.includes('"svc 0"'));
    const aux = JSON.parse(l[at + 1]!) as { frames: string };
    const raw = Buffer.from(aux.frames, 'base64');
    // rule 80's destination in its frame: 10.96.0.80 -> 10.96.0.81 (the walk would pass it over)
    const words = new Uint32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
    const stride = words.length / 100;
    const dst = parseDotted('10.96.0.80')!;
    const k = Array.from(words.subarray(80 * stride, 81 * stride)).indexOf(dst);
    expect(k).toBeGreaterThan(0);
    words[80 * stride + k] = dst + 1;
    l[at + 1] = JSON.stringify({ ...aux, frames: Buffer.from(words.buffer).toString('base64') });
    writeFileSync(sb.state, l.join('\n'));
    const r = await sb.sh(TRACE);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/svc 80".*ACCEPT/);
  });

  it('a rule edited by hand that the walk passes over is written back as it was, and found by the next full read', async () => {
    const sb = await services();
    spoilRule(sb, 3);
    expect((await sb.sh(TRACE)).rc).toBe(0);
    expect(readFileSync(sb.state, 'utf8')).toContain('"dpts":"80:80"');
    const r = await sb.sh('iptables -S SVC');
    expect(r.rc).not.toBe(0);
    expect(r.stderr).toMatch(/SVC\.rules\[3\]/);
  });
});

describe('iptables -E of a lab read from the file', () => {
  it('decodes only the chains whose lines name the chain renamed, and renames their jumps', async () => {
    const sb = await stored(
      ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':A - [0:0]', ':B - [0:0]', ':C - [0:0]',
        '-A INPUT -j A', '-A FORWARD -g A', '-A OUTPUT -j C', '-A B -j ACCEPT', '-A C -j RETURN', 'COMMIT', ''].join('\n'),
    );
    const lab = readLab(sb.state);
    execute(lab.hosts.router!.tables, parseIptables(['-E', 'A', 'Z'], () => {}));
    const filter = lab.hosts.router!.tables.filter!;
    // INPUT and FORWARD jump to A: decoded and renamed; OUTPUT, B and C do not name it
    expect(filter.chains.filter(stillStored).map((c) => c.name)).toEqual(['OUTPUT', 'B', 'C']);
    const whole = JSON.parse(JSON.stringify(readLab(sb.state))) as Lab;
    execute(whole.hosts.router!.tables, parseIptables(['-E', 'A', 'Z'], () => {}));
    expect(JSON.stringify(lab)).toBe(JSON.stringify(whole));
    expect(JSON.stringify(lab)).toContain('"chain":"Z"');
    expect(JSON.stringify(lab)).not.toContain('"chain":"A"');
  });
});

describe('iptables -E of a lab read from the file: the table', () => {
  const lines = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':A - [0:0]', ':B - [0:0]', ':C - [0:0]',
    '-A INPUT -j A', '-A OUTPUT -j C', '-A B -j ACCEPT', '-A C -j RETURN', 'COMMIT', ''].join('\n');
  const rename = (t: Tables, from: string, to: string): void => void execute(t, parseIptables(['-E', from, to], () => {}));

  it('keeps its other chains unmade, and finds the chain by its new name only', async () => {
    const sb = await stored(lines);
    const lab = readLab(sb.state);
    const tables = lab.hosts.router!.tables;
    rename(tables, 'A', 'Z');
    const filter = tables.filter!;
    expect(Object.getOwnPropertyDescriptor(filter, 'chains')!.get, 'the chains not all made').toBeDefined();
    expect(findChain(filter, 'Z')?.name).toBe('Z');
    expect(findChain(filter, 'A')).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(filter, 'chains')!.get, 'nor made to look them up').toBeDefined();
    // the old name is free again, the new one taken
    execute(tables, parseIptables(['-N', 'A'], () => {}));
    expect(() => rename(tables, 'B', 'Z')).toThrow(/File exists/);
    rename(tables, 'Z', 'Y');
    expect([findChain(filter, 'Y')?.name, findChain(filter, 'Z'), findChain(filter, 'A')?.rules]).toEqual(['Y', undefined, []]);
    const whole = JSON.parse(JSON.stringify(readLab(sb.state))) as Lab;
    for (const [from, to] of [['A', 'Z'], ['Z', 'Y']] as const) rename(whole.hosts.router!.tables, from, to);
    execute(whole.hosts.router!.tables, parseIptables(['-N', 'A'], () => {}));
    expect(JSON.stringify(lab)).toBe(JSON.stringify(whole));
  });

  it('renamed in a copy (a restore works on one), not in the table copied', async () => {
    const sb = await stored(lines);
    const filter = readLab(sb.state).hosts.router!.tables.filter!;
    expect(findChain(filter, 'A')?.name).toBe('A');
    const copy = copyTable(filter);
    rename({ filter: copy }, 'A', 'Z');
    // a copy of the copy has its names
    const again = copyTable(copy);
    expect([findChain(again, 'A'), findChain(again, 'Z')?.name]).toEqual([undefined, 'Z']);
    expect([findChain(copy, 'Z')?.name, findChain(copy, 'A')]).toEqual(['Z', undefined]);
    expect([findChain(filter, 'A')?.name, findChain(filter, 'Z')]).toEqual(['A', undefined]);
    // asked for enough names to index them all: from its own names too
    for (let i = 0; i < 20; i++) expect(findChain(filter, `N${i}`)).toBeUndefined();
    expect([findChain(filter, 'A')?.name, findChain(filter, 'Z')]).toEqual(['A', undefined]);
    // each answered from its own names, none by making all its chains
    for (const t of [filter, copy, again]) expect(Object.getOwnPropertyDescriptor(t, 'chains')!.get).toBeDefined();
  });
});

describe('run: the snapshot of a lab read from the file (a command that may change any chain)', () => {
  it('leaves the chains still in the file undecoded, and a failed command still undone', async () => {
    const sb = await services();
    const replay = async (lab: Lab): Promise<Lab> => {
      const session = new MemorySession(lab);
      const run = (argv: string[]) => {
        session.prepare('router', 'tables');
        return session.update((l) => ({ save: true, value: execute(l.hosts.router!.tables, parseIptables(argv, () => {})) }));
      };
      // refused (the chain exists): undone; then a new chain
      await expect(run(['-N', 'SVC'])).rejects.toThrow();
      await run(['-N', 'NEW']);
      return session.lab;
    };
    const lab = await replay(readLab(sb.state));
    const filter = lab.hosts.router!.tables.filter!;
    expect(filter.chains.filter((c) => c.name === 'SVC' || c.name === 'FORWARD').map(stillStored)).toEqual([true, true]);
    // what the same replay does to the lab decoded in full
    const whole = await replay(JSON.parse(JSON.stringify(readLab(sb.state))) as Lab);
    expect(JSON.stringify(lab)).toBe(JSON.stringify(whole));
    expect(filter.chains.map((c) => c.name)).toContain('NEW');
  });
});

describe('iptables -Z of a lab read from the file', () => {
  it('decodes only the chains whose rules counted something, and zeroes what a full decode zeroes', async () => {
    // counters on some rules (iptables-restore -c); a comment that reads like counters; a long chain
    const lines = ['*filter', ':INPUT ACCEPT [1:2]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':A - [0:0]', ':B - [0:0]', ':C - [0:0]', ':LONG - [0:0]'];
    lines.push('[0:0] -A INPUT -j A', '[3:180] -A A -j ACCEPT', '[0:0] -A B -m comment --comment "pkts:5 bytes:7" -j ACCEPT', '[0:7] -A C -j RETURN');
    for (let i = 0; i < LAZY_MIN + 6; i++) lines.push(`[0:0] -A LONG -d 10.0.0.${i} -j ACCEPT`);
    const sb = new Sandbox();
    const r = await sb.run(['iptables-restore', '-c'], [...lines, 'COMMIT', ''].join('\n'));
    expect(r.rc, r.stderr).toBe(0);
    const zero = (lab: Lab): void => void execute(lab.hosts.router!.tables, parseIptables(['-Z'], () => {}));
    const read = readLab(sb.state);
    zero(read);
    const filter = read.hosts.router!.tables.filter!;
    // A and C counted (C's bytes alone); INPUT, B and LONG did not, and stay in the file
    expect(filter.chains.filter(stillStored).map((c) => c.name)).toEqual(['INPUT', 'B', 'LONG']);
    // the same lab decoded in full, zeroed: the same lab
    const whole = JSON.parse(JSON.stringify(readLab(sb.state))) as Lab;
    zero(whole);
    expect(JSON.stringify(read)).toBe(JSON.stringify(whole));
    expect(JSON.stringify(read)).not.toMatch(/"(pkts|bytes)":[1-9]/);
  });
});

describe('iptables-save of a lab read from the file', () => {
  it('decodes each chain for the listing without keeping its rules, and prints what a full decode prints', async () => {
    const sb = await services();
    const lab = readLab(sb.state);
    const filter = lab.hosts.router!.tables.filter!;
    const out = new TextOut();
    saveTable(out, 'filter', filter, true, new Date(0));
    // (the chains without rules have none to keep)
    expect(filter.chains.filter((c) => c.name === 'SVC' || c.name === 'FORWARD').map(stillStored)).toEqual([true, true]);
    // the same lab with every chain's rules decoded into it
    const full = readLab(sb.state);
    for (const c of full.hosts.router!.tables.filter!.chains) void c.rules;
    const reference = new TextOut();
    saveTable(reference, 'filter', full.hosts.router!.tables.filter!, true, new Date(0));
    expect(out.bytes().toString()).toBe(reference.bytes().toString());
    expect(out.bytes().toString()).toContain('-A SVC -d 10.96.0.99/32 -p tcp -m comment --comment "svc 99" -m tcp --dport 80 -j ACCEPT\n');
  });

  it('TextOut (also -L and -S): the text as one string, whatever the pieces and wherever a piece of 64 KiB ends', () => {
    const g = generator(0x7e57);
    for (let round = 0; round < 20; round++) {
      const out = new TextOut();
      let want = '';
      // several pieces' worth, of ASCII, two-, three- and four-byte characters
      while (want.length < 3 * 65536) {
        const text = ['a', 'é', '€', '😀', '\n'][g.int(5)]!.repeat(1 + g.int(g.chance(0.1) ? 70000 : 300));
        out.add(text);
        want += text;
      }
      expect(out.text() === want, `round ${round}`).toBe(true);
    }
    const small = new TextOut();
    small.add('-P INPUT ACCEPT\n');
    expect(small.text()).toBe('-P INPUT ACCEPT\n');
  });

  it('a rule edited into nonsense stops it before it prints anything', async () => {
    const sb = await services();
    spoilRule(sb, 99);
    const r = await sb.sh('iptables-save');
    expect(r.rc).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/SVC\.rules\[99\]/);
  });
});

/** a random iptables-restore --noflush input for ruleset()'s filter table: some lines fail */
function noflushInput(g: Gen): string {
  const out = ['*filter'];
  const users = ['U0', 'U1', 'U2', 'U3'];
  const made: string[] = [];
  for (let i = 0, n = 1 + g.int(6); i < n; i++) {
    const u = g.pick(users);
    switch (g.int(9)) {
      case 0:
        out.push(`:${u} - [0:0]`);
        break;
      case 1:
        out.push(`-A ${u} ${ruleSpec(g, users.slice(users.indexOf(u) + 1), true)}`);
        break;
      case 2:
        out.push(`-I INPUT 1 ${ruleSpec(g, users, true)}`);
        break;
      case 3:
        out.push(`-D ${g.pick(['FORWARD', u])} 1`);
        break;
      case 4:
        made.push(`N${i}`);
        out.push(`-N N${i}`, `-A FORWARD -j N${i}`);
        break;
      case 5:
        out.push(`-P FORWARD ${g.pick(['ACCEPT', 'DROP'])}`);
        break;
      case 6:
        out.push(`-F ${u}`);
        break;
      case 7:
        out.push(`-Z ${g.pick(['INPUT', u])}`);
        break;
      default:
        // a jump to a chain that does not exist, or a chain that is busy
        out.push(g.chance(0.5) ? '-A INPUT -j NOPE' : `-X ${u}`);
    }
  }
  out.push('COMMIT');
  return out.join('\n') + '\n';
}

describe('iptables-restore --noflush into a lab read from the file', () => {
  it('copies the table without decoding the chains it does not touch', async () => {
    const sb = await stored(['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':A - [0:0]', ':B - [0:0]', '-A A -j ACCEPT', '-A B -j DROP', 'COMMIT', ''].join('\n'));
    const t = readLab(sb.state).hosts.router!.tables.filter!;
    // A made before the copy (a chain object of the table copied from), B not
    expect(findChain(t, 'A')!.name).toBe('A');
    const copy = copyTable(t);
    execute({ filter: copy }, parseIptables(['-A', 'A', '-j', 'RETURN'], () => {}));
    expect(stillStored(findChain(copy, 'B')!)).toBe(true);
    expect(findChain(copy, 'A')!.rules.length).toBe(2);
    // the table copied from is as it was
    expect(findChain(t, 'A')!.rules.length).toBe(1);
  });

  it('copies a table whose chains were all made (`run` lists them) chain by chain, those still in the file staying there', async () => {
    const sb = await services();
    const read = (): Tables => readLab(sb.state).hosts.router!.tables;
    const t = read().filter!;
    void t.chains;
    // a trace's counters on the long chain: rules decoded one by one and changed, not yet written
    const svc = findChain(t, 'SVC')!;
    expect(stillStored(svc)).toBe(true);
    const lazy = lazyRules(svc)!;
    lazy.rule(80).pkts = 7;
    const copy = copyTable(t);
    expect(copy.chains.map((c) => [c.name, stillStored(c)])).toEqual([['INPUT', false], ['FORWARD', true], ['OUTPUT', false], ['SVC', false]]);
    // the changed rule went with the copy, as data; the chain still in the file is its own object
    expect(findChain(copy, 'SVC')!.rules[80]!.pkts).toBe(7);
    const forward = findChain(copy, 'FORWARD')!;
    expect(forward).not.toBe(findChain(t, 'FORWARD'));
    forward.rules.push({ ...forward.rules[0]!, handle: 999 });
    expect(findChain(t, 'FORWARD')!.rules).toHaveLength(1);
    // as a copy of the table decoded in full
    const whole = read().filter!;
    for (const c of whole.chains) void c.rules;
    whole.chains.find((c) => c.name === 'SVC')!.rules[80]!.pkts = 7;
    expect(JSON.parse(JSON.stringify(copyTable(read().filter!)))).toEqual(JSON.parse(JSON.stringify(read().filter!)));
    expect(JSON.parse(JSON.stringify(t))).toEqual(JSON.parse(JSON.stringify(whole)));
  });

  for (let set = 0; set < 10; set++) {
    const seed = 0x6c8e9cf5 ^ (set * 7919);
    it(`random rule set and input #${set} (seed ${seed >>> 0}): as into the lab decoded in full`, async () => {
      const g = generator(seed);
      const sb = await stored(ruleset(g));
      // the same lab as one JSON document: read without any chain left in the file
      const whole = new Sandbox();
      writeFileSync(whole.state, JSON.stringify(sb.lab()));
      for (let round = 0; round < 4; round++) {
        const input = noflushInput(g);
        const before = readFileSync(sb.state);
        const a = await sb.run(['iptables-restore', '--noflush'], input);
        const b = await whole.run(['iptables-restore', '--noflush'], input);
        expect(a, input).toEqual(b);
        if (a.rc !== 0) expect(readFileSync(sb.state).equals(before), 'a failed restore writes nothing').toBe(true);
        const save = async (s: Sandbox): Promise<string> => normStamp((await s.run(['iptables-save', '-c'])).stdout);
        expect(await save(sb), input).toBe(await save(whole));
      }
    });
  }
});

describe('reference counts of a few chains of a lab read from the file', () => {
  it('count them from the lines that name one of them, decoding none', async () => {
    const sb = await stored(
      ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':A - [0:0]', ':B - [0:0]', ':C - [0:0]',
        '-A INPUT -j A', '-A FORWARD -g A', '-A OUTPUT -j C', '-A B -m comment --comment "A" -j ACCEPT', '-A C -j RETURN', 'COMMIT', ''].join('\n'),
    );
    const t = readLab(sb.state).hosts.router!.tables.filter!;
    const parse = vi.spyOn(JSON, 'parse');
    try {
      expect(referenceCounts(t, ['A']).get('A')).toBe(2);
      // INPUT, FORWARD, and B (its comment names A) are read for their jumps, not decoded
      expect(parse).not.toHaveBeenCalled();
    } finally {
      parse.mockRestore();
    }
    // nor were the table's other chains made (its `chains` is still the getter that makes them all)
    expect(Object.getOwnPropertyDescriptor(t, 'chains')!.get).toBeDefined();
    expect(referenceCounts(t).get('A')).toBe(2);
    expect(referenceCounts(t).get('C')).toBe(1);
  });

  it('of every chain (iptables -L): read from the lines without decoding them, as the decoded rules give them', async () => {
    // a long chain (frames line) among short ones, jumps and gotos, a comment that reads like a jump
    const lines = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':A - [0:0]', ':B - [0:0]', ':C - [0:0]', ':LONG - [0:0]'];
    lines.push('-A INPUT -j A', '-A FORWARD -g A', '-A FORWARD -j LONG', '-A OUTPUT -j C', '-A C -j RETURN');
    for (let i = 0; i < LAZY_MIN + 6; i++) lines.push(`-A LONG -d 10.0.0.${i} -j ${['A', 'B', 'C', 'ACCEPT'][i % 4]}`);
    const sb = await stored([...lines, 'COMMIT', ''].join('\n'));
    const r = await sb.run(['iptables', '-A', 'B', '-m', 'comment', '--comment', '"target":{"kind":"jump","chain":"C"}', '-j', 'ACCEPT']);
    expect(r.rc, r.stderr).toBe(0);
    const t = readLab(sb.state).hosts.router!.tables.filter!;
    const want = new Map<string, number>();
    for (const c of JSON.parse(JSON.stringify(t.chains)) as Chain[]) for (const r of c.rules) if (jumpTarget(r)) want.set(jumpTarget(r)!, (want.get(jumpTarget(r)!) ?? 0) + 1);
    // (LONG: 70 rules, A B C ACCEPT in turn)
    expect(LAZY_MIN + 6).toBe(70);
    expect(want).toEqual(new Map([['A', 2 + 18], ['LONG', 1], ['C', 1 + 17], ['B', 18]]));
    const fresh = readLab(sb.state).hosts.router!.tables.filter!;
    const parse = vi.spyOn(JSON, 'parse');
    try {
      expect(referenceCounts(fresh)).toEqual(want);
      // (the long chain's frames line is read, to check its rules against their checksums)
      expect(parse.mock.calls.map(([text]) => String(text)[0])).toEqual(['{']);
    } finally {
      parse.mockRestore();
    }
    // no chain decoded (A has no rules to decode)
    expect(fresh.chains.filter((c) => !stillStored(c)).map((c) => c.name)).toEqual(['A']);
  });

  for (const stamped of [false, true]) {
    it(`search the file once for each name, not each chain's line (${stamped ? 'a stamped file' : 'lines checked'})`, async () => {
      const lines = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':A - [0:0]', ':B - [0:0]'];
      for (let i = 0; i < 60; i++) lines.push(`:C${i} - [0:0]`, `-A C${i} -d 10.0.0.${i} -j RETURN`);
      lines.push('-A C7 -j A', '-A C9 -g B', '-A C9 -j A', 'COMMIT', '');
      const sb = await stored(lines.join('\n'));
      const t = parseLabText(readFileSync(sb.state), sb.state, { checked: stamped }).hosts.router!.tables.filter!;
      const search = vi.spyOn(Buffer.prototype, 'indexOf');
      try {
        expect(referenceCounts(t, ['A', 'B'])).toEqual(new Map([['A', 2], ['B', 1]]));
        // the searches for the names' texts: over the file until each is found no more (A three
        // times, B twice), then in the two lines found (where a line searched for each of them
        // would make 60 and more)
        expect(search.mock.calls.filter(([needle]) => Buffer.isBuffer(needle)).length).toBe(7);
      } finally {
        search.mockRestore();
      }
    });
  }

  it('in a long chain, from the rules whose text names one of them, each decoded alone', async () => {
    const lines = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':A - [0:0]', ':B - [0:0]', ':LONG - [0:0]', '-A INPUT -j LONG'];
    for (let i = 0; i < LAZY_MIN + 6; i++) {
      const to = i === 5 || i === 40 ? 'A' : i % 3 ? 'B' : 'ACCEPT';
      lines.push(`-A LONG -d 10.0.0.${i} ${i === 60 ? '-m comment --comment A ' : ''}-j ${to}`);
    }
    const sb = await stored([...lines, 'COMMIT', ''].join('\n'));
    const t = readLab(sb.state).hosts.router!.tables.filter!;
    const parse = vi.spyOn(JSON, 'parse');
    try {
      expect(referenceCounts(t, ['A']).get('A')).toBe(2);
      // the frames line, then rules 5, 40 and 60 (its comment); not the other 67
      expect(parse.mock.calls.map(([text]) => String(text).slice(0, 2))).toEqual(['{"', '{"', '{"', '{"']);
    } finally {
      parse.mockRestore();
    }
    const long = findChain(t, 'LONG')!;
    expect(stillStored(long), 'no rule kept decoded').toBe(true);
    expect(referenceCounts(readLab(sb.state).hosts.router!.tables.filter!).get('A'), 'as every chain counted').toBe(2);
  });

  it('as the decoded rules give them, for every chain of random tables (a long chain, gotos, names in comments)', async () => {
    const g = generator(0x5eed1e55);
    for (let round = 0; round < 6; round++) {
      // (a user chain jumps only to those after it: no loops)
      const user = ['A', 'B', 'C', 'D', 'A-B', 'B-A'];
      const names = [...user, 'LONG'];
      const lines = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ...names.map((n) => `:${n} - [0:0]`)];
      const rule = (chain: string, i: number): string => {
        const later = user.slice(user.indexOf(chain) + 1);
        const to = later.length ? g.pick(later) : undefined;
        const comment = g.chance(0.3) ? `-m comment --comment "${g.pick(names)}" ` : '';
        const verdict = g.pick(to ? [`-j ${to}`, `-g ${to}`, '-j ACCEPT', '-j RETURN'] : ['-j ACCEPT', '-j RETURN']);
        return `-A ${chain} -d 10.0.${round}.${i} ${comment}${verdict}`;
      };
      for (const c of ['INPUT', 'FORWARD', 'OUTPUT', ...user]) for (let i = 0; i < g.int(4); i++) lines.push(rule(c, i));
      for (let i = 0; i < LAZY_MIN + g.int(20); i++) lines.push(rule('LONG', i));
      lines.push('-A OUTPUT -j LONG', 'COMMIT', '');
      const sb = await stored(lines.join('\n'));
      const want = new Map<string, number>();
      for (const c of sb.lab()!.hosts.router!.tables.filter!.chains) for (const r of c.rules) if (jumpTarget(r)) want.set(jumpTarget(r)!, (want.get(jumpTarget(r)!) ?? 0) + 1);
      for (const stamped of [false, true]) {
        for (const n of names) {
          const t = parseLabText(readFileSync(sb.state), sb.state, { checked: stamped }).hosts.router!.tables.filter!;
          expect(referenceCounts(t, [n]).get(n), `round ${round}, ${n}`).toBe(want.get(n));
        }
        const t = parseLabText(readFileSync(sb.state), sb.state, { checked: stamped }).hosts.router!.tables.filter!;
        const counts = referenceCounts(t, names);
        expect(names.map((n) => counts.get(n)), `round ${round}`).toEqual(names.map((n) => want.get(n)));
      }
    }
  });

  it('find a line edited by hand to name one of them in other words', async () => {
    const sb = await stored(['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':A - [0:0]', ':C - [0:0]', '-A INPUT -j A', '-A C -j RETURN', 'COMMIT', ''].join('\n'));
    const text = readFileSync(sb.state, 'utf8');
    const ret = '"target":{"kind":"verdict","verdict":"RETURN"}';
    expect(text).toContain(ret);
    // C now jumps to A, the name written with an escape: its line holds no "A" to be found; as
    // long as before (padded with blanks), so that the lines are still where the header says
    const jump = '"target":{"kind":"jump","chain":"\\u0041"}';
    expect(jump.length).toBeLessThan(ret.length);
    writeFileSync(sb.state, text.replace(ret, jump.replace('{', '{' + ' '.repeat(ret.length - jump.length))));
    const t = readLab(sb.state).hosts.router!.tables.filter!;
    expect(Object.getOwnPropertyDescriptor(t, 'chains')!.get, 'still read as written').toBeDefined();
    expect(referenceCounts(t, ['A']).get('A')).toBe(2);
  });
});
