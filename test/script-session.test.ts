/**
 * The lab a replay holds in memory: a command that throws, or says not to save, leaves it as it
 * was, whatever part of the lab its snapshot covers.
 */
import { describe, expect, it } from 'vitest';
import { builtinLab } from '../src/net/builtin-lab.js';
import type { Lab } from '../src/net/lab.js';
import { newTable } from '../src/ruleset/tables.js';
import { MemorySession } from '../src/script/session.js';

const boom = (lab: Lab, change: (lab: Lab) => void): { save: boolean; value: number } => {
  change(lab);
  throw new Error('refused after changing things');
};

function labWithFilter(): Lab {
  const lab = builtinLab();
  const t = newTable('filter');
  t.chains[0]!.rules.push({ matches: [], pkts: 0, bytes: 0, handle: 1 });
  t.chains.push({ name: 'USER', pkts: 0, bytes: 0, rules: [], handle: 2 });
  t.nextHandle = 3;
  lab.hosts.router!.tables.filter = t;
  return lab;
}

describe('MemorySession', () => {
  it('undoes an append that failed after pushing (append scope)', async () => {
    const s = new MemorySession(labWithFilter());
    const before = structuredClone(s.lab);
    s.prepare('router', { append: 'filter', chain: 'FORWARD' });
    await expect(
      s.update((lab) =>
        boom(lab, (l) => {
          const t = l.hosts.router!.tables.filter!;
          const c = t.chains[1]!;
          c.created = true;
          c.handle = t.nextHandle!++;
          c.rules.push({ matches: [], pkts: 0, bytes: 0, handle: t.nextHandle!++ });
        }),
      ),
    ).rejects.toThrow('refused');
    expect(s.lab).toEqual(before);
    expect(s.dirty).toBe(false);
  });

  it('removes a table the failed append created', async () => {
    const s = new MemorySession(builtinLab());
    s.prepare('router', { append: 'nat', chain: 'POSTROUTING' });
    await expect(s.update((lab) => boom(lab, (l) => (l.hosts.router!.tables.nat = newTable('nat'))))).rejects.toThrow();
    expect(s.lab.hosts.router!.tables.nat).toBeUndefined();
  });

  it('undoes any change to the tables (tables scope), rule lists included', async () => {
    const s = new MemorySession(labWithFilter());
    const before = structuredClone(s.lab);
    s.prepare('router', 'tables');
    await expect(
      s.update((lab) =>
        boom(lab, (l) => {
          const t = l.hosts.router!.tables.filter!;
          t.chains[0]!.rules.splice(0, 1);
          t.chains = t.chains.filter((c) => c.name !== 'USER');
          l.hosts.router!.tables.raw = newTable('raw');
        }),
      ),
    ).rejects.toThrow();
    expect(s.lab).toEqual(before);
  });

  it('undoes a host change (host scope) and keeps its fields in order', async () => {
    const s = new MemorySession(builtinLab());
    const before = JSON.stringify(s.lab);
    s.prepare('router', 'host');
    const r = await s.update((lab) => {
      lab.hosts.router!.sysctls['net.ipv4.ip_forward'] = '0';
      lab.hosts.router!.interfaces[1]!.addrs.push('10.0.0.1/8');
      lab.hosts.router!.routes = [];
      return { save: false, value: 7 };
    });
    expect(r).toBe(7);
    expect(JSON.stringify(s.lab)).toBe(before);
  });

  it('undoes anything else (lab scope), and keeps what was saved', async () => {
    const s = new MemorySession(builtinLab());
    const before = structuredClone(s.lab);
    s.prepare(undefined, 'lab');
    await expect(s.update((lab) => boom(lab, (l) => (l.rng.state = 99)))).rejects.toThrow();
    expect(s.lab).toEqual(before);
    await s.update((lab) => {
      lab.rng.state = 5;
      return { save: true, value: 0 };
    });
    expect(s.lab.rng.state).toBe(5);
    expect(s.dirty).toBe(true);
  });
});
