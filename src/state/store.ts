/**
 * The lab file: where it lives, reading it, and changing it safely. A change is a
 * read-modify-write under an exclusive lock (so concurrent invocations serialize, like iptables'
 * xtables lock), written to a temporary file, flushed, and renamed over the old one (so a crash
 * leaves the old or the new lab, never half of one). A file that cannot be understood is never
 * overwritten.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync, existsSync, unlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { SimError } from '../errors.js';
import { builtinLab } from '../net/builtin-lab.js';
import { LAB_FORMAT, LAB_VERSION, type Lab } from '../net/lab.js';

export function defaultStatePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.IPTABLES_SIM_STATE) return resolve(env.IPTABLES_SIM_STATE);
  const base = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'iptables-sim', 'lab.json');
}

/** Checks that parsed JSON is a lab this version understands. */
export function validateLab(data: unknown, path: string): Lab {
  const fix = `move it away or run \`iptables-sim lab reset\` to start again from the built-in lab`;
  if (typeof data !== 'object' || data === null || (data as Lab).format !== LAB_FORMAT) {
    throw new SimError(`${path} is not an iptables-sim lab file; ${fix}`);
  }
  const lab = data as Lab;
  if (typeof lab.version !== 'number' || lab.version > LAB_VERSION) {
    throw new SimError(`${path} was written by a newer iptables-sim (lab format ${String(lab.version)}, this one reads ${LAB_VERSION}); upgrade iptables-sim or ${fix}`);
  }
  if (typeof lab.hosts !== 'object' || lab.hosts === null || typeof lab.defaultHost !== 'string' || !lab.hosts[lab.defaultHost] || !Array.isArray(lab.segments)) {
    throw new SimError(`${path}: the lab file is damaged (hosts or default host missing); ${fix}`);
  }
  for (const [name, h] of Object.entries(lab.hosts)) {
    if (!h || !Array.isArray(h.interfaces) || !Array.isArray(h.routes) || typeof h.tables !== 'object' || typeof h.sysctls !== 'object') {
      throw new SimError(`${path}: the lab file is damaged (host ${name} is incomplete); ${fix}`);
    }
  }
  return lab;
}

/** Reads the lab; a missing file is the built-in lab. */
export function readLab(path: string): Lab {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return builtinLab();
    throw new SimError(`cannot read ${path}: ${(e as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new SimError(
      `${path} is not valid JSON (truncated or hand-edited?); move it away or run \`iptables-sim lab reset\` to start again from the built-in lab`,
    );
  }
  return validateLab(data, path);
}

/** Writes atomically: temp file in the same directory, fsync, rename. */
export function writeLabAtomic(path: string, lab: Lab): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, JSON.stringify(lab));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw e;
  }
}

export interface LockOptions {
  /** seconds to wait for the lock; undefined = wait as long as it takes */
  waitSeconds?: number;
}

/**
 * Runs `fn` while holding the lab's exclusive lock: a directory next to the lab file
 * (proper-lockfile), stale after 10 s without a heartbeat, so a killed process never blocks
 * the lab for good.
 */
export async function withLock<T>(path: string, opts: LockOptions, fn: () => T | Promise<T>): Promise<T> {
  const lockfile = (await import('proper-lockfile')).default;
  mkdirSync(dirname(path), { recursive: true });
  const release = await lockfile
    .lock(path, {
      realpath: false,
      stale: 10000,
      update: 2000,
      retries:
        opts.waitSeconds === undefined
          ? { retries: 100000, factor: 1.2, minTimeout: 5, maxTimeout: 100 }
          : { retries: Math.max(0, Math.ceil(opts.waitSeconds * 20)), factor: 1, minTimeout: 50, maxTimeout: 50 },
    })
    .catch((e: Error) => {
      throw new SimError(`cannot lock ${path}: ${e.message}`, 4);
    });
  try {
    return await fn();
  } finally {
    await release();
  }
}

/** Read-modify-write under the lock; the lab is written back only when `fn` says so. */
export function updateLab<T>(path: string, fn: (lab: Lab) => { save: boolean; value: T }, opts: LockOptions = {}): Promise<T> {
  return withLock(path, opts, () => {
    const lab = readLab(path);
    const { save, value } = fn(lab);
    if (save) writeLabAtomic(path, lab);
    return value;
  });
}

/** Replaces the lab without reading the old file (which may be broken). */
export function replaceLab(path: string, lab: Lab): Promise<void> {
  return withLock(path, {}, () => writeLabAtomic(path, lab));
}

export function labExists(path: string): boolean {
  return existsSync(path);
}
