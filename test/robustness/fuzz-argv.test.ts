/**
 * Hostile command lines for every tool the CLI emulates: random words, real options with values
 * at and past their limits, odd bytes, and our own fixture commands and the upstream extension
 * tests damaged one word at a time. Each input runs in a separate process with a deadline and
 * must end with an exit status iptables (or the tool) uses and a message, never the catch-all
 * "internal error"; a command that fails leaves the lab file byte for byte as it was.
 */
import { copyFileSync, readFileSync } from 'node:fs';

import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, CliRunner, fileBytes, problemsOf, sameBytes, type Built } from './harness.js';
import { fixtureCommands, iptablesArgv, mutate, otherArgv, prng, upstreamRules } from './inputs.js';
import { tempDir } from '../helpers/tmp.js';

/** a generous bound per input: the slowest real one takes milliseconds */
const DEADLINE_MS = 10000;
const RUNS = Number(process.env.FUZZ_RUNS ?? 400);

/** exit statuses: iptables 0-4 (xtables.h), procps sysctl 255 for usage errors */
// (136: a hashlimit byte rate that makes iptables divide by zero kills it with SIGFPE, measured)
const ALLOWED = [0, 1, 2, 3, 4, 136, 255];

let built: Built;
let runner: CliRunner;
let dir: string;
let base: string;

beforeAll(async () => {
  built = buildCli();
  runner = new CliRunner(built, DEADLINE_MS);
  dir = tempDir('iptsim-fuzz-');
  base = join(dir, 'base.json');
  // a lab with something in it, so deleting, renaming and listing have work to do
  const setup = [
    ['iptables', '-N', 'A'],
    ['iptables', '-N', 'B'],
    ['iptables', '-A', 'A', '-p', 'tcp', '--dport', '22', '-j', 'B'],
    ['iptables', '-A', 'INPUT', '-s', '10.0.0.0/8', '-j', 'A'],
    ['iptables', '-A', 'B', '-m', 'comment', '--comment', 'x', '-j', 'RETURN'],
    ['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', 'eth0', '-j', 'MASQUERADE'],
    ['iptables', '-t', 'mangle', '-A', 'PREROUTING', '-j', 'MARK', '--set-mark', '1'],
    ['trace', '--from', 'pc1', '-p', 'tcp', '-d', '50.60.70.1', '--dport', '80'],
    ['ipset', 'create', 's1', 'hash:net', 'counters', 'initval', '0x1'],
    ['ipset', 'add', 's1', '10.0.0.0/8'],
    ['iptables', '-A', 'FORWARD', '-m', 'set', '--match-set', 's1', 'src', '-j', 'DROP'],
  ];
  for (const argv of setup) {
    const r = await runner.run(argv, { state: base, cwd: dir });
    if (r.rc !== 0) throw new Error(`set-up ${argv.join(' ')}: ${r.stderr}`);
  }
}, 120000);

afterAll(() => runner?.stop());

/** how many KEY[=VALUE] words a sysctl command line has (after "--" every word is one; getopt takes a lone "-" for one too) */
function sysctlKeys(args: string[]): number {
  const end = args.indexOf('--');
  const before = end < 0 ? args : args.slice(0, end);
  return before.filter((w) => !w.startsWith('-') || w === '-').length + (end < 0 ? 0 : args.length - end - 1);
}

let n = 0;
/** runs one command line on a fresh copy of the lab and returns what is wrong with the outcome */
async function check(argv: string[], stdin = ''): Promise<string[]> {
  const state = join(dir, `lab-${++n}.json`);
  copyFileSync(base, state);
  const before = fileBytes(state);
  let o;
  try {
    o = await runner.run(argv, { state, cwd: dir, stdin });
  } catch (e) {
    return [(e as Error).message];
  }
  // ipset -quiet fails without a word, as ipset does
  const quiet = argv[0] === 'ipset' && argv.some((w) => ['-q', '-quiet', '--quiet'].includes(w));
  const p = problemsOf(o, ALLOWED).filter((x) => !(quiet && x === 'failed without saying why'));
  // procps sysctl sets each KEY=VALUE on its own: a bad one after a good one is a partial change
  // there too; so does the kernel with the elements of an ipset range and the lines of a restore
  const atomic = argv[0] === 'sysctl' ? sysctlKeys(argv.slice(1)) <= 1 : argv[0] !== 'ipset';
  if (o.rc !== 0 && atomic && !sameBytes(before, fileBytes(state))) p.push('failed but changed the lab file');
  if (p.length) p.push(`stderr: ${o.stderr.slice(0, 600)}`);
  return p;
}

const show = (argv: string[]) => JSON.stringify(argv).slice(0, 400);

describe('fuzz: command lines', () => {
  it('random iptables command lines', async () => {
    await fc.assert(
      fc.asyncProperty(iptablesArgv, async (argv) => {
        const p = await check(['iptables', ...argv]);
        expect(p, show(argv)).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  }, 1_800_000);

  it('iptables-save, iptables-restore, sysctl, conntrack, ipset, lab and trace with random arguments', async () => {
    await fc.assert(
      fc.asyncProperty(otherArgv, fc.string({ maxLength: 200 }), async (argv, stdin) => {
        const p = await check(argv, stdin);
        expect(p, show(argv)).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  }, 1_800_000);

  it('every fixture command line and every upstream extension test, damaged', async () => {
    const lines = [...fixtureCommands(), ...upstreamRules().map((a) => ['iptables', ...a])];
    expect(lines.length).toBeGreaterThan(100);
    const rng = prng(7);
    const failures: string[] = [];
    for (const argv of lines) {
      const [tool, ...rest] = argv;
      const damaged = mutate(rest.join(' '), rng).split(' ');
      const p = await check([tool!, ...damaged]);
      if (p.length) failures.push(`${show([tool!, ...damaged])}: ${p.join('; ')}`);
      if (failures.length >= 5) break;
    }
    expect(failures).toEqual([]);
  }, 600_000);

  it('very long command lines', async () => {
    const many = Array.from({ length: 20000 }, (_, i) => ['-s', `10.${(i >> 8) & 255}.${i & 255}.1`]).flat();
    for (const argv of [
      ['iptables', '-A', 'INPUT', '-m', 'comment', '--comment', 'x'.repeat(1_000_000)],
      ['iptables', '-A', 'INPUT', '-s', Array.from({ length: 5000 }, (_, i) => `10.0.${i >> 8}.${i & 255}`).join(','), '-j', 'ACCEPT'],
      ['iptables', '-A', 'INPUT', ...many],
      ['iptables', ...Array.from({ length: 5000 }, () => '-m tcp').join(' ').split(' ')],
      ['iptables', '-N', 'x'.repeat(100000)],
      ['sysctl', `net.ipv4.ip_forward=${'1'.repeat(100000)}`],
    ]) {
      expect(await check(argv), show(argv)).toEqual([]);
    }
  });

  it('the lab file is byte-identical after a failed command and changed after a good one', async () => {
    const state = join(dir, 'identity.json');
    copyFileSync(base, state);
    const before = readFileSync(state);
    const bad = await runner.run(['iptables', '-A', 'INPUT', '-p', 'tcp', '--dport', '65536'], { state, cwd: dir });
    expect(bad.rc).toBe(2);
    expect(readFileSync(state).equals(before)).toBe(true);
    const good = await runner.run(['iptables', '-A', 'INPUT', '-j', 'ACCEPT'], { state, cwd: dir });
    expect(good.rc).toBe(0);
    expect(readFileSync(state).equals(before)).toBe(false);
  });
});
