/**
 * Crash safety (opt-in: `npm run test:slow`). Writers are killed with SIGKILL at random moments
 * (while starting, parsing, holding the lock, writing the temporary file, renaming); after each
 * kill the lab file is the previous lab or the new one, whole and valid, and the next writer is
 * not held up by the dead one's lock. Then a 1,000,000-line restore runs to the end.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseLabText } from '../../../src/state/store.js';
import { buildCli, type Built } from '../harness.js';
import { tempDir } from '../../helpers/tmp.js';

let built: Built;
beforeAll(() => {
  built = buildCli();
}, 120000);

function run(state: string, args: string[], stdin: string | undefined, killAfterMs?: number): Promise<{ rc: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [built.bin, ...args], { env: { ...process.env, IPTABLES_SIM_STATE: state }, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (rc, signal) => resolve({ rc, signal, stderr }));
    p.stdin.on('error', () => {});
    p.stdin.end(stdin ?? '');
    if (killAfterMs !== undefined) setTimeout(() => p.kill('SIGKILL'), killAfterMs);
  });
}

/** a restore whose rules carry `tag`, big enough that writing the lab takes a while */
function ruleset(tag: number, n = 4000): string {
  let s = `*filter\n:INPUT ACCEPT [0:0]\n`;
  for (let i = 0; i < n; i++) s += `-A INPUT -s 10.${i >> 8}.${i & 255}.0/24 -m comment --comment gen${tag} -j ACCEPT\n`;
  return `${s}COMMIT\n`;
}

/** which generation the lab holds (every rule must agree) */
function generation(state: string): number {
  const lab = parseLabText(readFileSync(state, 'utf8'), state);
  const rules = lab.hosts.router!.tables.filter!.chains.find((c) => c.name === 'INPUT')!.rules;
  const tags = new Set(rules.map((r) => (r.matches.find((m) => m.name === 'comment')?.data as { comment: string }).comment));
  expect(tags.size, 'rules of one generation only').toBe(1);
  expect(rules).toHaveLength(4000);
  return Number([...tags][0]!.slice(3));
}

describe('SIGKILL at any moment', () => {
  it('leaves the previous lab or the new one, never a broken file, and never a lock that blocks', async () => {
    const state = join(tempDir('iptsim-kill-'), 'lab.json');
    expect((await run(state, ['iptables-restore'], ruleset(0))).rc).toBe(0);
    // how long a whole write takes here, to spread the kills over all of it
    const t0 = Date.now();
    expect((await run(state, ['iptables-restore'], ruleset(1))).rc).toBe(0);
    const full = Date.now() - t0;
    let current = 1;
    let killed = 0;
    let completed = 0;
    for (let i = 2; i < 42; i++) {
      const at = Math.floor(((i * 7919) % 97) / 96 * full * 1.1);
      const r = await run(state, ['iptables-restore'], ruleset(i), at);
      const g = generation(state);
      if (r.signal === 'SIGKILL') {
        killed++;
        expect([current, i], `killed after ${at} ms`).toContain(g);
      } else {
        completed++;
        expect(r.rc, r.stderr).toBe(0);
        expect(g).toBe(i);
      }
      current = g;
    }
    expect(killed).toBeGreaterThan(10);
    // the next writer goes ahead at once: a dead owner's lock is broken, not waited out
    const after = await run(state, ['iptables', '-A', 'INPUT', '-j', 'DROP'], undefined);
    expect(after.rc, after.stderr).toBe(0);
    const names = readdirSync(join(state, '..'));
    expect(names.filter((n) => n.endsWith('.tmp')), 'temporary files of killed writers are cleaned up').toEqual([]);
    expect(names.filter((n) => n.includes('.lock')), 'no lock left behind').toEqual([]);
    expect(completed + killed).toBe(40);
  }, 900000);

  it('killed while holding the lock: waiters take over without a stale timeout', async () => {
    const state = join(tempDir('iptsim-kill-'), 'lab.json');
    expect((await run(state, ['iptables', '-N', 'X'], undefined)).rc).toBe(0);
    // a writer stopped inside its critical section (SIGSTOP), then killed while waiters queue
    const big = spawn(process.execPath, [built.bin, 'iptables-restore'], { env: { ...process.env, IPTABLES_SIM_STATE: state }, stdio: ['pipe', 'ignore', 'ignore'] });
    big.stdin.end(ruleset(9, 20000));
    for (let i = 0; i < 400 && !existsSync(`${state}.lock`); i++) await new Promise((r) => setTimeout(r, 5));
    big.kill('SIGSTOP');
    const waiters = Array.from({ length: 5 }, (_, i) => run(state, ['iptables', '-A', 'X', '-s', `10.9.9.${i}`], undefined));
    await new Promise((r) => setTimeout(r, 300));
    big.kill('SIGKILL');
    const res = await Promise.all(waiters);
    for (const r of res) expect(r.rc, r.stderr).toBe(0);
    const lab = parseLabText(readFileSync(state, 'utf8'), state);
    expect(lab.hosts.router!.tables.filter!.chains.find((c) => c.name === 'X')!.rules).toHaveLength(5);
  }, 300000);
});

describe('huge input', () => {
  it('a 1,000,000-line restore finishes and every rule is there', async () => {
    const dir = tempDir('iptsim-huge-');
    const file = join(dir, 'huge.rules');
    const lines = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]'];
    for (let i = 0; i < 999995; i++) lines.push(`-A INPUT -s 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32 -p tcp -m tcp --dport ${1 + (i % 65535)} -j ACCEPT`);
    lines.push('COMMIT');
    writeFileSync(file, lines.join('\n') + '\n');
    const state = join(dir, 'lab.json');
    const r = await run(state, ['iptables-restore', file], undefined);
    expect(r.rc, r.stderr).toBe(0);
    const lab = parseLabText(readFileSync(state, 'utf8'), state);
    expect(lab.hosts.router!.tables.filter!.chains.find((c) => c.name === 'INPUT')!.rules).toHaveLength(999995);
  }, 1800000);
});
