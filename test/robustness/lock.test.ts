/**
 * The lab lock (a file holding its owner's record): a live holder makes others wait (or, with a
 * deadline, fail with exit 4 naming the holder); a dead holder's lock is broken at once, as
 * flock() is dropped when its process dies, and so is an earlier version's lock directory; an
 * owner that never wrote its whole record is given a grace period; the lock is ours until
 * released, and releasing leaves nothing behind.
 */
import { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { readlinkSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { acquireLock } from '../../src/state/lock.js';
import { updateLab } from '../../src/state/store.js';
import { SimError } from '../../src/errors.js';
import { tempDir } from '../helpers/tmp.js';

const fresh = () => tempDir('iptsim-lock-');

function ownerRecord(pid: number, extra: Record<string, string> = {}): string {
  let pidns = '-';
  try {
    pidns = readlinkSync('/proc/self/ns/pid');
  } catch {
    /* not Linux */
  }
  return JSON.stringify({ pid, host: hostname(), pidns, start: '-', nonce: 'x', ...extra });
}

/** a pid no process has (pid_max is at most 2^22) */
const DEAD_PID = 4194304 + 17;

describe('the lab lock', () => {
  it('serializes holders in one process and frees the name on release', async () => {
    const lock = join(fresh(), 'lab.json.lock');
    const a = await acquireLock(lock, { what: 'the lab' });
    expect(a.held()).toBe(true);
    const order: string[] = [];
    const b = acquireLock(lock, { what: 'the lab' }).then((h) => {
      order.push('b');
      return h;
    });
    await new Promise((r) => setTimeout(r, 50));
    order.push('a releases');
    a.release();
    (await b).release();
    expect(order).toEqual(['a releases', 'b']);
    expect(readdirSync(join(lock, '..'))).toEqual([]);
  });

  it('a live holder and a deadline: exit 4 naming the holder', async () => {
    const lock = join(fresh(), 'lab.json.lock');
    writeFileSync(lock, ownerRecord(process.pid));
    const e = await acquireLock(lock, { what: 'the lab /x/lab.json', waitSeconds: 0.2 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SimError);
    expect((e as SimError).status).toBe(4);
    expect((e as SimError).message).toMatch(`the lab /x/lab.json is locked by process ${process.pid}`);
  });

  it("a dead holder's lock is broken at once", async () => {
    const lock = join(fresh(), 'lab.json.lock');
    writeFileSync(lock, ownerRecord(DEAD_PID));
    const h = await acquireLock(lock, { what: 'the lab', waitSeconds: 0 });
    expect(h.held()).toBe(true);
    h.release();
    expect(readdirSync(join(lock, '..'))).toEqual([]);
  });

  it("an earlier version's lock (a directory with the record in `owner`): waited for while its holder lives, broken when it is dead", async () => {
    const lock = join(fresh(), 'lab.json.lock');
    mkdirSync(lock);
    writeFileSync(join(lock, 'owner'), ownerRecord(process.pid));
    await expect(acquireLock(lock, { what: 'the lab', waitSeconds: 0.1 })).rejects.toThrow(`locked by process ${process.pid}`);
    writeFileSync(join(lock, 'owner'), ownerRecord(DEAD_PID));
    const h = await acquireLock(lock, { what: 'the lab', waitSeconds: 0 });
    expect(statSync(lock).isFile()).toBe(true);
    h.release();
    expect(readdirSync(join(lock, '..'))).toEqual([]);
  });

  it('a reused pid (same number, later start time) counts as dead', async () => {
    const lock = join(fresh(), 'lab.json.lock');
    writeFileSync(lock, ownerRecord(process.pid, { start: '1' }));
    const h = await acquireLock(lock, { what: 'the lab', waitSeconds: 0 });
    h.release();
  });

  it('a lock without a whole owner record is kept for a grace period, then broken', async () => {
    const lock = join(fresh(), 'lab.json.lock');
    writeFileSync(lock, '{"pid":12');
    await expect(acquireLock(lock, { what: 'the lab', waitSeconds: 0.1 })).rejects.toThrow(/is locked/);
    const old = new Date(Date.now() - 60000);
    utimesSync(lock, old, old);
    const h = await acquireLock(lock, { what: 'the lab', waitSeconds: 0 });
    h.release();
  });

  it('an owner on another host is trusted while its lock is fresh', async () => {
    const lock = join(fresh(), 'lab.json.lock');
    writeFileSync(lock, ownerRecord(DEAD_PID, { host: 'elsewhere' }));
    await expect(acquireLock(lock, { what: 'the lab', waitSeconds: 0.1 })).rejects.toThrow(/locked by process/);
    const old = new Date(Date.now() - 3600000);
    utimesSync(lock, old, old);
    (await acquireLock(lock, { what: 'the lab', waitSeconds: 0 })).release();
  });

  it('a heartbeat timer runs while the lock is held, unless the holder asks for none', async () => {
    const started = vi.spyOn(globalThis, 'setInterval');
    const stopped = vi.spyOn(globalThis, 'clearInterval');
    try {
      const lock = join(fresh(), 'lab.json.lock');
      const beating = await acquireLock(lock, { what: 'the lab' });
      expect(started).toHaveBeenCalledTimes(1);
      beating.release();
      expect(stopped).toHaveBeenCalledWith(started.mock.results[0]!.value);
      const quiet = await acquireLock(lock, { what: 'the lab', heartbeat: false });
      expect(quiet.held()).toBe(true);
      quiet.release();
      expect(started).toHaveBeenCalledTimes(1);
      expect(readdirSync(join(lock, '..'))).toEqual([]);
    } finally {
      started.mockRestore();
      stopped.mockRestore();
    }
  });

  it('a command that reads, changes and writes the lab (all synchronous under the lock) starts no heartbeat', async () => {
    const started = vi.spyOn(globalThis, 'setInterval');
    try {
      const path = join(fresh(), 'lab.json');
      expect(await updateLab(path, (lab) => ({ save: true, value: Object.keys(lab.hosts).length }))).toBeGreaterThan(0);
      expect(started).not.toHaveBeenCalled();
      expect(readdirSync(join(path, '..'))).toEqual(['lab.json']);
    } finally {
      started.mockRestore();
    }
  });

  it('a lock broken by someone else is no longer held', async () => {
    const lock = join(fresh(), 'lab.json.lock');
    const h = await acquireLock(lock, { what: 'the lab' });
    writeFileSync(lock, ownerRecord(process.pid, { nonce: 'someone else' }));
    expect(h.held()).toBe(false);
    // (and is not removed by the one who held it before)
    h.release();
    expect(existsSync(lock)).toBe(true);
  });
});
