/**
 * Concurrent invocations as separate processes through the launcher (bin/iptables-sim over a
 * private build): writers serialize on the lab lock, so none of fifty appends is lost; readers do
 * not lock but only ever see a whole file, so a listing never shows a table half restored.
 * iptables-nft takes -w/-W and waits on nothing; here every writer waits for the lab lock anyway.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseLabText } from '../../src/state/store.js';
import { buildCli, type Built } from './harness.js';
import { tempDir } from '../helpers/tmp.js';

let built: Built;
beforeAll(() => {
  built = buildCli();
}, 120000);

interface Res {
  rc: number | null;
  stdout: string;
  stderr: string;
}

function cli(state: string, args: string[], stdin?: string): Promise<Res> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [built.bin, ...args], { env: { ...process.env, IPTABLES_SIM_STATE: state }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (rc) => resolve({ rc, stdout, stderr }));
    p.stdin.end(stdin ?? '');
  });
}

const fresh = () => join(tempDir('iptsim-conc-'), 'lab.json');

describe('concurrent invocations', () => {
  it('50 parallel `iptables -A` end with exactly 50 rules and a valid file', async () => {
    const state = fresh();
    const runs = await Promise.all(
      Array.from({ length: 50 }, (_, i) => {
        // half of them with -w / -W as scripts written for iptables-legacy pass them
        const wait = i % 4 === 0 ? ['-w'] : i % 4 === 1 ? ['-w', '5', '-W', '100000'] : [];
        return cli(state, ['iptables', ...wait, '-A', 'INPUT', '-s', `10.0.${i}.1`, '-j', 'ACCEPT']);
      }),
    );
    for (const r of runs) expect(r.rc, r.stderr).toBe(0);
    const lab = parseLabText(readFileSync(state, 'utf8'), state);
    const rules = lab.hosts.router!.tables.filter!.chains.find((c) => c.name === 'INPUT')!.rules;
    expect(rules).toHaveLength(50);
    const sources = new Set(rules.map((r) => r.src!.addr));
    expect(sources.size).toBe(50);
    const listed = await cli(state, ['iptables', '-S', 'INPUT']);
    expect(listed.stdout.split('\n').filter((l) => l.startsWith('-A INPUT'))).toHaveLength(50);
    // no lock or temporary file is left behind
    expect(readdirSync(join(state, '..')).sort()).toEqual(['lab.json']);
  }, 180000);

  it('restores and listings in parallel never show a half-applied table', async () => {
    const state = fresh();
    const ruleset = (tag: string, n: number) =>
      `*filter\n:INPUT ACCEPT [0:0]\n:T${tag} - [0:0]\n${Array.from({ length: n }, (_, i) => `-A INPUT -s 10.${i >> 8}.${i & 255}.0/24 -m comment --comment ${tag} -j T${tag}\n`).join('')}COMMIT\n*nat\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -o eth0 -m comment --comment ${tag} -j MASQUERADE\nCOMMIT\n`;
    const sets = { A: ruleset('A', 300), B: ruleset('B', 150) };
    expect((await cli(state, ['iptables-restore'], sets.A)).rc).toBe(0);
    const jobs: Promise<Res>[] = [];
    for (let i = 0; i < 12; i++) jobs.push(cli(state, ['iptables-restore'], i % 2 ? sets.A : sets.B));
    for (let i = 0; i < 18; i++) jobs.push(cli(state, i % 3 ? ['iptables', '-S'] : ['iptables-save']));
    const results = await Promise.all(jobs);
    let listings = 0;
    for (const r of results) {
      expect(r.rc, r.stderr).toBe(0);
      if (!r.stdout) continue;
      listings++;
      const a = (r.stdout.match(/^-A INPUT .*--comment A /gm) ?? []).length;
      const b = (r.stdout.match(/^-A INPUT .*--comment B /gm) ?? []).length;
      // all of A's filter rules or all of B's, never a mixture or a prefix
      expect([a, b], r.stdout.slice(0, 300)).toSatisfy(([x, y]: number[]) => (x === 300 && y === 0) || (x === 0 && y === 150));
      if (r.stdout.includes('*nat')) {
        const natA = r.stdout.includes('-o eth0 -m comment --comment A -j MASQUERADE');
        expect(natA, 'nat and filter come from the same restore').toBe(a === 300);
      }
    }
    expect(listings).toBe(18);
    parseLabText(readFileSync(state, 'utf8'), state);
  }, 180000);
});
