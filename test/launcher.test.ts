/**
 * The launcher (bin/iptables-sim over a private build) and its two code caches: the iptables
 * commands start from a cache of what they run alone, smaller than the cache of everything the
 * build's warm-up runs (V8 reads all of a cache at start-up), which every other command uses.
 */
import { spawnSync } from 'node:child_process';
import { statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCli, type Built } from './robustness/harness.js';
import { tempDir } from './helpers/tmp.js';

let built: Built;
beforeAll(() => {
  built = buildCli();
}, 120000);

/** which cache the launcher used for `args` (run as `as`, by default itself), and what V8 said of it */
function cacheUsed(args: string[], as = built.bin): { cache: string; verdict: string; rc: number | null } {
  // (in a directory of its own: `--state iptables` is a file there)
  const cwd = tempDir('iptsim-launch-');
  const r = spawnSync(process.execPath, [as, ...args], { cwd, env: { ...process.env, IPTABLES_SIM_STATE: join(cwd, 'lab.json'), IPTABLES_SIM_DEBUG_CACHE: '1' }, encoding: 'utf8' });
  const m = /^iptables-sim: code cache (\S+): (\w+)$/m.exec(r.stderr);
  expect(m, r.stderr).not.toBeNull();
  return { cache: m![1]!.slice(m![1]!.lastIndexOf('/') + 1), verdict: m![2]!, rc: r.status };
}

describe('the launcher’s code caches', () => {
  it('the iptables commands’ cache holds less than the cache of every command', () => {
    const size = (name: string) => statSync(join(built.dir, 'dist', name)).size;
    expect(size('iptables-sim.iptables.cache')).toBeGreaterThan(0);
    expect(size('iptables-sim.iptables.cache')).toBeLessThan(0.85 * size('iptables-sim.cache'));
  });

  it('iptables and ip6tables commands start from theirs, whatever global options come first', () => {
    for (const args of [['iptables', '-S'], ['--state', 'iptables', 'iptables', '-t', 'nat', '-A', 'POSTROUTING', '-j', 'MASQUERADE'], ['--host', 'router', '--no-color', 'ip6tables', '-S']]) {
      expect(cacheUsed(args), args.join(' ')).toEqual({ cache: 'iptables-sim.iptables.cache', verdict: 'accepted', rc: 0 });
    }
    // run by the name iptables or ip6tables (a symlink)
    for (const name of ['iptables', 'ip6tables']) {
      const link = join(tempDir('iptsim-link-'), name);
      symlinkSync(built.bin, link);
      expect(cacheUsed(['-S'], link), name).toEqual({ cache: 'iptables-sim.iptables.cache', verdict: 'accepted', rc: 0 });
    }
  });

  it('every other command from the cache of everything', () => {
    for (const args of [['iptables-save'], ['trace', '--from', 'pc1', '-p', 'tcp', '-d', '50.60.70.80', '--dport', '80'], ['--host', 'iptables', 'lab', 'show']]) {
      expect(cacheUsed(args).cache, args.join(' ')).toBe('iptables-sim.cache');
      expect(cacheUsed(args).verdict).toBe('accepted');
    }
  });
});
