/**
 * Hostile iptables-restore input: every line of every table of the shared corpus damaged (in the
 * context of its own table, so jumps and chains around it are real), random lines, odd bytes read
 * from a file (NUL, invalid UTF-8, control characters), very long lines, and deep jump nesting.
 * Each input runs in a separate process with a deadline. A restore of one table either commits
 * it or fails with iptables-restore's message and leaves the lab file byte for byte as it was.
 */
import { copyFileSync, writeFileSync } from 'node:fs';

import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, CliRunner, fileBytes, problemsOf, sameBytes, type Built } from './harness.js';
import { corpusBlocks, mutate, prng, type TableBlock } from './inputs.js';
import { tempDir } from '../helpers/tmp.js';

const DEADLINE_MS = 20000;
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
/** every STRIDE-th line of the corpus by default; `npm run test:slow` damages every line (stride 1) */
const STRIDE = Number(process.env.FUZZ_CORPUS_STRIDE ?? 8);
/** iptables-restore exits 0-4 (xtables.h) */
// (136: a hashlimit byte rate that makes iptables divide by zero kills it with SIGFPE, measured)
const ALLOWED = [0, 1, 2, 3, 4, 136];

let built: Built;
let runner: CliRunner;
let dir: string;
let base: string;

beforeAll(async () => {
  built = buildCli();
  runner = new CliRunner(built, DEADLINE_MS);
  dir = tempDir('iptsim-fuzz-restore-');
  base = join(dir, 'base.json');
  const r = await runner.run(['iptables', '-N', 'OLD'], { state: base, cwd: dir });
  if (r.rc !== 0) throw new Error(r.stderr);
}, 120000);

afterAll(() => runner?.stop());

let n = 0;
/** restores `input` (a string on stdin, or bytes from a file) on a fresh copy of the lab */
async function restore(input: string | Buffer, args: string[] = [], atomic = true): Promise<string[]> {
  const state = join(dir, `lab-${++n}.json`);
  copyFileSync(base, state);
  const before = fileBytes(state);
  let argv = ['iptables-restore', ...args];
  let stdin: string | undefined;
  if (Buffer.isBuffer(input)) {
    const file = join(dir, `input-${n}.rules`);
    writeFileSync(file, input);
    argv = [...argv, file];
  } else stdin = input;
  let o;
  try {
    o = await runner.run(argv, { state, cwd: dir, stdin });
  } catch (e) {
    return [(e as Error).message];
  }
  const p = problemsOf(o, ALLOWED);
  if (o.rc !== 0 && atomic && !sameBytes(before, fileBytes(state))) p.push('failed but changed the lab file');
  if (p.length) p.push(`stderr: ${o.stderr.slice(0, 600)}`);
  return p;
}

const text = (b: TableBlock, lines = b.lines) => `*${b.table}\n${lines.join('\n')}\nCOMMIT\n`;

describe('fuzz: iptables-restore input', () => {
  const blocks = corpusBlocks();

  it.skipIf(!blocks.length)(`every ${STRIDE === 1 ? '' : `${STRIDE}th `}line of every corpus table, damaged in its table`, async () => {
    const rng = prng(42);
    const failures: string[] = [];
    let tried = 0;
    let k = 0;
    for (const b of blocks) {
      for (let i = 0; i < b.lines.length && failures.length < 5; i++) {
        if (k++ % STRIDE) continue;
        const lines = [...b.lines];
        lines[i] = mutate(lines[i]!, rng);
        // the whole table for small ones; for big tables the declarations and the damaged line
        const input = lines.length <= 60 ? text(b, lines) : text(b, [...lines.filter((l) => l.startsWith(':')), lines[i]!]);
        const p = await restore(input);
        tried++;
        if (p.length) failures.push(`${b.source} *${b.table} line ${i + 1}: ${JSON.stringify(lines[i]).slice(0, 300)}: ${p.join('; ')}`);
      }
    }
    expect(tried).toBeGreaterThan(1000 / STRIDE);
    expect(failures).toEqual([]);
  }, 1_800_000);

  it('random lines inside a table', async () => {
    const line = fc.oneof(
      fc.string({ maxLength: 120 }),
      fc.string({ unit: 'binary', maxLength: 60 }),
      fc.constantFrom(':INPUT ACCEPT [0:0]', ':X - [0:0]', ':X', ':', ':INPUT', ':INPUT RETURN', '-A INPUT -j X', '-A X -j X', '-N X', '-X X', '-F', '-Z', '-P INPUT DROP', '-E X Y', '[1:2] -A INPUT', '[', '[1:', '[a:b] -A INPUT -j ACCEPT', '-A INPUT -p tcp --dport 22 -j ACCEPT', '-t nat -A INPUT', '-w', '-A INPUT "', '-A INPUT -m comment --comment "a \\" b"', '*filter', 'COMMIT', '# comment', '-6 -A INPUT', '-4 -A INPUT -j DROP', '-L', '-S', '-h', '-V'),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('filter', 'nat', 'mangle', 'raw', 'security'), fc.array(line, { maxLength: 12 }), fc.boolean(), async (table, lines, counters) => {
        // a COMMIT or a new table inside commits what came before, as iptables-restore does
        const oneTable = !lines.some((l) => l.startsWith('COMMIT') || l.startsWith('*'));
        const p = await restore(`*${table}\n${lines.join('\n')}\nCOMMIT\n`, counters ? ['-c'] : [], oneTable);
        expect(p, JSON.stringify(lines).slice(0, 500)).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });

  it('odd bytes from a file: NUL, invalid UTF-8, control characters, no final newline', async () => {
    const odd = [
      Buffer.from('*filter\n-A INPUT -m comment --comment "a\0b" -j ACCEPT\nCOMMIT\n'),
      Buffer.concat([Buffer.from('*filter\n-A INPUT -m comment --comment "'), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xe2, 0x82]), Buffer.from('" -j ACCEPT\nCOMMIT\n')]),
      Buffer.concat([Buffer.from('*filter\n:'), Buffer.from([0xc0, 0xaf, 0xed, 0xa0, 0x80]), Buffer.from(' - [0:0]\nCOMMIT\n')]),
      Buffer.from('*filter\n-A INPUT -i eth\x01 -j ACCEPT\n-A INPUT -s 1.2.3.4\x7f -j DROP\nCOMMIT\n'),
      Buffer.from('\0\0\0\0'),
      Buffer.from([0xef, 0xbb, 0xbf, ...Buffer.from('*filter\nCOMMIT\n')]),
      Buffer.from('*filter\r\n:INPUT ACCEPT [0:0]\r\nCOMMIT\r\n'),
      Buffer.from('*filter\n-A INPUT -j ACCEPT\nCOMMIT'),
      Buffer.from('*filter\n-A INPUT -j ACCEPT'),
      Buffer.from('*\nCOMMIT\n'),
      Buffer.from('*filter *nat\nCOMMIT\n'),
      Buffer.from('COMMIT\n'),
      Buffer.from(''),
      Buffer.from('\n\n\n'),
      Buffer.from(Array.from({ length: 4096 }, (_, i) => i & 255)),
    ];
    for (const b of odd) expect(await restore(b), JSON.stringify(b.toString('latin1')).slice(0, 200)).toEqual([]);
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), async (bytes) => {
        const input = Buffer.concat([Buffer.from('*filter\n'), Buffer.from(bytes), Buffer.from('\nCOMMIT\n')]);
        expect(await restore(input)).toEqual([]);
      }),
      { numRuns: Math.ceil(RUNS / 3) },
    );
  });

  it('long lines: a 100 kB rule, a 1 MB comment, 10240-byte line pieces', async () => {
    const inputs = [
      `*filter\n-A INPUT ${'-p tcp '.repeat(15000)}-j ACCEPT\nCOMMIT\n`,
      `*filter\n-A INPUT -m comment --comment "${'x'.repeat(1_000_000)}" -j ACCEPT\nCOMMIT\n`,
      `*filter\n-A INPUT -m comment --comment ${'y'.repeat(1023)} -j ACCEPT\nCOMMIT\n`,
      `*filter\n-A INPUT -m comment --comment ${'y'.repeat(1024)} -j ACCEPT\nCOMMIT\n`,
      `*filter\n-A INPUT -m comment --comment "${'z '.repeat(6000)}" -j ACCEPT\nCOMMIT\n`,
      `*filter\n:${'C'.repeat(100000)} - [0:0]\nCOMMIT\n`,
      `*${'t'.repeat(100000)}\nCOMMIT\n`,
      `*filter\n${'-A INPUT -j ACCEPT\n'.repeat(20000)}COMMIT\n`,
    ];
    for (const input of inputs) expect(await restore(input), input.slice(0, 80)).toEqual([]);
  });

  it('deep nesting: long chains of jumps, loops, a chain jumped into from every other', async () => {
    const chain = (k: number, to: (i: number) => number | undefined, kind = 'j') => {
      let s = '*filter\n:INPUT ACCEPT [0:0]\n';
      for (let i = 0; i < k; i++) s += `:C${i} - [0:0]\n`;
      s += '-A INPUT -j C0\n';
      for (let i = 0; i < k; i++) {
        const t = to(i);
        if (t !== undefined) s += `-A C${i} -${kind} C${t}\n`;
      }
      return `${s}COMMIT\n`;
    };
    for (const input of [
      chain(15, (i) => (i < 14 ? i + 1 : undefined)),
      chain(16, (i) => (i < 15 ? i + 1 : undefined)),
      chain(2000, (i) => (i < 1999 ? i + 1 : undefined)),
      chain(2000, (i) => (i < 1999 ? i + 1 : undefined), 'g'),
      chain(2000, (i) => (i + 1) % 2000),
      chain(500, () => 0, 'g'),
      chain(300, (i) => (i * 7 + 3) % 300),
    ]) {
      expect(await restore(input), input.slice(0, 120)).toEqual([]);
    }
    // every chain jumps to every later one: a dense acyclic graph is accepted or refused quickly
    let dense = '*filter\n:INPUT ACCEPT [0:0]\n';
    for (let i = 0; i < 60; i++) dense += `:D${i} - [0:0]\n`;
    for (let i = 0; i < 60; i++) for (let j = i + 1; j < Math.min(60, i + 12); j++) dense += `-A D${i} -j D${j}\n`;
    dense += '-A INPUT -j D0\nCOMMIT\n';
    expect(await restore(dense)).toEqual([]);
  });
});
