/**
 * The launcher (bin/iptables-sim over a private build), its three bundles and their code caches:
 * the iptables tools typed one by one (iptables, iptables-save, iptables-restore, their ip6tables
 * twins and -nft names) and plain traces each run a bundle of what they need alone, from a cache of
 * what they run, smaller than the bundle of everything and the cache of all the build's warm-up
 * (reading a bundle and taking in its cache cost by their size), which every other command uses.
 * Either way a command gives what main() gives.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCli, type Built } from './robustness/harness.js';
import { tempDir } from './helpers/tmp.js';
import { normStamp, Sandbox } from './helpers/cli.js';
import { IPTABLES_TOOLS } from '../src/cli/iptables-tools.js';
import { TOOLS } from '../src/cli/dispatch.js';
import { TOOL_NAMES } from '../src/cli/tool-run.js';
import { readLab } from '../src/state/store.js';

let built: Built;
beforeAll(() => {
  built = buildCli();
}, 120000);

/**
 * runs the launcher (as `as`, by default itself) on `args` in a directory of its own, with its lab
 * there (`--state iptables` is a file there): what it printed (its debug lines apart), its exit
 * status, the caches it read and what V8 said of each, and the lab it left
 */
function launch(args: string[], as = built.bin, env: Record<string, string> = {}) {
  const cwd = tempDir('iptsim-launch-');
  const state = join(cwd, 'lab.json');
  const r = spawnSync(process.execPath, [as, ...args], { cwd, env: { ...process.env, IPTABLES_SIM_STATE: state, IPTABLES_SIM_DEBUG_CACHE: '1', ...env }, encoding: 'utf8' });
  const debug = /^iptables-sim: code cache (\S+): (\w+)\n/gm;
  const caches = [...r.stderr.matchAll(debug)].map((m) => ({ cache: m[1]!.slice(m[1]!.lastIndexOf('/') + 1), verdict: m[2]! }));
  const lab = existsSync(state) ? (JSON.parse(JSON.stringify(readLab(state))) as unknown) : undefined;
  return { rc: r.status, stdout: r.stdout, stderr: r.stderr.replace(debug, ''), caches, lab };
}

/** which cache the launcher used for `args` (the first it read), and what V8 said of it */
function cacheUsed(args: string[], as = built.bin): { cache: string; verdict: string; rc: number | null } {
  const r = launch(args, as);
  expect(r.caches.length, r.stderr).toBeGreaterThan(0);
  return { ...r.caches[0]!, rc: r.rc };
}

/**
 * `argv` through the launcher (with `env`) reads `caches`, and gives what main() gives in-process on
 * a lab of its own for `mainArgv`
 */
async function asMain(argv: string[], caches: string[], env: Record<string, string> = {}, mainArgv = argv): Promise<void> {
  const { caches: used, ...got } = launch(argv, built.bin, env);
  expect(used.map((c) => c.cache)).toEqual(caches);
  const box = new Sandbox();
  const want = await box.run(mainArgv);
  // (iptables-save's stamps: the two runs may fall in different seconds)
  expect({ ...got, stdout: normStamp(got.stdout) }).toEqual({ ...want, stdout: normStamp(want.stdout), lab: box.lab() });
}

describe('the launcher’s bundles and code caches', () => {
  it('the iptables commands’ bundle and cache hold less than those of every command', () => {
    const size = (name: string) => statSync(join(built.dir, 'dist', name)).size;
    expect(size('iptables-sim.iptables.cache')).toBeGreaterThan(0);
    expect(size('iptables-sim.iptables.cache')).toBeLessThan(0.85 * size('iptables-sim.cache'));
    expect(size('iptables-sim.iptables.cjs')).toBeGreaterThan(0);
    expect(size('iptables-sim.iptables.cjs')).toBeLessThan(0.6 * size('iptables-sim.cjs'));
    expect(size('iptables-sim.trace.cjs')).toBeGreaterThan(0);
    expect(size('iptables-sim.trace.cjs')).toBeLessThan(0.45 * size('iptables-sim.cjs'));
    expect(size('iptables-sim.trace.cache')).toBeLessThan(0.5 * size('iptables-sim.cache'));
  });

  it('the iptables tools start from theirs, whatever global options come first', () => {
    for (const args of [['iptables', '-S'], ['--state', 'iptables', 'iptables', '-t', 'nat', '-A', 'POSTROUTING', '-j', 'MASQUERADE'], ['--host', 'router', '--no-color', 'ip6tables', '-S'], ['iptables-save'], ['--host', 'pc1', 'ip6tables-restore', '--test']]) {
      expect(cacheUsed(args), args.join(' ')).toEqual({ cache: 'iptables-sim.iptables.cache', verdict: 'accepted', rc: 0 });
    }
    // run by the name of an iptables tool (a symlink, or the shims' IPTABLES_SIM_ARGV0)
    expect(Object.keys(IPTABLES_TOOLS)).toHaveLength(12);
    for (const name of Object.keys(IPTABLES_TOOLS)) {
      const link = join(tempDir('iptsim-link-'), name);
      symlinkSync(built.bin, link);
      expect(cacheUsed(['-V'], link), name).toEqual({ cache: 'iptables-sim.iptables.cache', verdict: 'accepted', rc: 0 });
      const r = launch(['-V'], built.bin, { IPTABLES_SIM_ARGV0: name });
      expect(r.caches.map((c) => c.cache), name).toEqual(['iptables-sim.iptables.cache']);
      expect(r.rc).toBe(0);
    }
  });

  it.each([
    [['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', 'eth0', '-j', 'MASQUERADE']],
    [['iptables', '-S']],
    [['--no-color', '--json', 'iptables', '-L', '-n', '-v']],
    [['--host', 'pc1', 'iptables', '-A', 'OUTPUT', '-j', 'DROP']],
    [['--host=nohost', 'iptables', '-S']],
    [['iptables', '-A', 'INPUT', '--bogus']],
    [['iptables', '-h']],
    [['ip6tables', '-A', 'INPUT', '-s', '::1', '-j', 'ACCEPT']],
    [['iptables-nft', '-V']],
    [['ip6tables-nft', '-S']],
    [['iptables-save', '-c']],
    [['--host', 'pc1', 'iptables-nft-save', '-t', 'nat']],
    [['ip6tables-save', '--bogus']],
    [['iptables-restore', '--noflush']],
    [['iptables-restore', 'no-such-file']],
    [['ip6tables-nft-restore', '-h']],
  ])('%j runs in the iptables bundle alone, as main() runs it', (argv) => asMain(argv, ['iptables-sim.iptables.cache']));

  it.each([
    [['--help', 'iptables']],
    [['--version', 'iptables', '-S']],
    [['--bogus', 'iptables', '-S']],
    [['--host', '-S', 'iptables', '-S']],
    [['--state=', 'iptables', '-S']],
  ])('%j, which the iptables bundle does not take, runs in the full bundle as main() runs it', (argv) => asMain(argv, ['iptables-sim.iptables.cache', 'iptables-sim.cache']));

  it.each([
    [['trace', '--from', 'pc1', '-p', 'tcp', '-d', '203.0.113.10', '--dport', '80']],
    [['--host', 'internet', '--no-color', 'trace', '-p', 'udp', '-d', '50.60.70.80', '--dport', '53', '--brief']],
    // (not --json: its packet ids count the packets of the process, and main() here runs in a process that made others)
    [['trace', '--from', 'pc2', '-p', 'icmp', '-d', '192.168.1.1', '--all-paths']],
    [['trace', '--from', 'nohost', '-d', '192.168.1.1']],
  ])('%j runs in the trace bundle alone, as main() runs it', (argv) => asMain(argv, ['iptables-sim.trace.cache']));

  it.each([
    [['trace', '--from', 'pc1', '--from', 'pc2', '-d', '203.0.113.10']],
    [['trace', '--dport=80', '-d', '203.0.113.10']],
    [['trace', '-d', '203.0.113.10', '--dport']],
  ])('%j, which the trace bundle does not take, runs in the full bundle as main() runs it', (argv) => asMain(argv, ['iptables-sim.trace.cache', 'iptables-sim.cache']));

  it.each([
    [['trace', '--help']],
    [['trace', '-h']],
    [['trace', '--from', 'pc1', '-d', '203.0.113.10', '--diagram', 'seq.svg']],
    [['trace', '--from', 'pc1', '-d', '203.0.113.10', '--no-diagram']],
    [['--host', 'router', 'trace', '-i', 'eth0', '-s', '1.2.3.4', '-d', '50.60.70.80', '--batch=-']],
  ])('%j, an option only the full bundle reads, runs there alone, as main() runs it', (argv) => asMain(argv, ['iptables-sim.cache']));

  it('argv0 dispatch answers to the names of every tool, and the iptables bundle runs those it may', () => {
    expect([...TOOL_NAMES].sort()).toEqual(Object.keys(TOOLS).sort());
    for (const name of Object.keys(IPTABLES_TOOLS)) expect(TOOL_NAMES.has(name), name).toBe(true);
  });

  it.each([[['iptables', '-S']], [['trace', '--from', 'pc1', '-d', '203.0.113.10']]])(
    'run by another tool’s name, %j is that tool’s arguments, as in the full bundle',
    (argv) => asMain(argv, [argv[0] === 'trace' ? 'iptables-sim.trace.cache' : 'iptables-sim.iptables.cache', 'iptables-sim.cache'], { IPTABLES_SIM_ARGV0: 'sysctl' }, ['sysctl', ...argv]),
  );

  it('every other command from the cache of everything', () => {
    for (const args of [['sysctl', 'net.ipv4.ip_forward'], ['ip', 'route', 'show'], ['--host', 'iptables', 'lab', 'show'], ['--state', 'trace', 'lab', 'show'], ['xtables-nft-multi', 'iptables-save']]) {
      expect(cacheUsed(args).cache, args.join(' ')).toBe('iptables-sim.cache');
      expect(cacheUsed(args).verdict).toBe('accepted');
    }
  });

  it('a command commander parses does not load node:child_process (commander asks for it at load, for executable subcommands)', () => {
    const preload = join(tempDir('iptsim-preload-'), 'modules.cjs');
    // (the built-in modules the process loaded, at its exit)
    writeFileSync(preload, "process.on('exit', () => process.stderr.write('modules: ' + process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).join(',') + '\\n'));\n");
    const modules = (r: { stderr: string }) => /^modules: (.*)$/m.exec(r.stderr)?.[1]?.split(',') ?? [];
    const show = launch(['--no-color', 'lab', 'show'], built.bin, { NODE_OPTIONS: `-r ${preload}` });
    expect(show.rc, show.stderr).toBe(0);
    expect(show.caches.map((c) => c.cache)).toEqual(['iptables-sim.cache']);
    expect(modules(show)).toContain('NativeModule fs');
    expect(modules(show)).not.toContain('NativeModule child_process');
  });
});
