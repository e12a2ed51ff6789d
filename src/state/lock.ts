/**
 * The lab's exclusive lock. iptables serializes writers with flock() on /run/xtables.lock, which
 * the kernel drops the moment its holder dies, even by SIGKILL. Node has no flock, so the lock is
 * a file created with O_EXCL (one creator wins) next to the lab file, holding its owner's record:
 * pid, host, pid namespace and the process's start time. A waiter that finds the owner gone (no
 * such process, or the pid now belongs to a process started later) breaks the lock at once, so a
 * killed writer never holds up the next one. An owner this process cannot check (another host or
 * pid namespace sharing the file) is trusted while it keeps the file's mtime fresh; a lock file
 * without a whole record (its creator between creating and writing it, or killed there) is given
 * a grace period.
 *
 * Breaking is serialized by a second, short-lived directory, so two waiters that both saw the same
 * dead owner cannot remove a lock a third process has taken in between.
 *
 * (Earlier versions made the lock a directory holding the record in a file `owner`: such a lock,
 * left by a killed holder, is read and broken the same way. A file costs every command fewer and
 * cheaper system calls: removing the directory alone took 0.4-0.6 ms.)
 */
import { closeSync, mkdirSync, openSync, readFileSync, readlinkSync, renameSync, rmSync, rmdirSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { SimError } from '../errors.js';

interface Owner {
  pid: number;
  host: string;
  /** /proc/self/ns/pid: pids of another namespace mean nothing here */
  pidns: string;
  /** field 22 of /proc/PID/stat (clock ticks after boot): tells a reused pid apart */
  start: string;
  nonce: string;
}

/** a lock without a whole owner record (a creator between creating the file and writing it) is given this long */
const ORPHAN_MS = 5000;
/** an owner on another host or pid namespace is trusted while the lock's mtime is younger than this */
const FOREIGN_STALE_MS = 60000;
const HEARTBEAT_MS = 10000;

function procStart(pid: number | 'self'): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and parentheses: count fields after the last ')'
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '-';
  } catch {
    return '-';
  }
}

function pidNamespace(): string {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return '-';
  }
}

/** `bytes` random bytes in hex: names that differ between processes and between calls (node:crypto costs start-up time) */
function token(bytes: number): string {
  let out = '';
  for (let i = 0; i < bytes; i++) out += Math.floor(Math.random() * 256).toString(16).padStart(2, '0');
  return out;
}

let self: Omit<Owner, 'nonce'> | undefined;
function selfOwner(): Owner {
  self ??= { pid: process.pid, host: hostname(), pidns: pidNamespace(), start: procStart('self') };
  return { ...self, nonce: token(8) };
}

/** the owner record in the lock (a file; an older version's directory holds it in `owner`) */
function readOwner(lock: string): string | undefined {
  try {
    return readFileSync(lock, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EISDIR') return undefined;
  }
  try {
    return readFileSync(join(lock, 'owner'), 'utf8');
  } catch {
    return undefined;
  }
}

function parseOwner(text: string): Owner | undefined {
  try {
    const o = JSON.parse(text) as Owner;
    return Number.isInteger(o.pid) && o.pid > 0 && typeof o.host === 'string' ? o : undefined;
  } catch {
    return undefined;
  }
}

type Liveness = 'alive' | 'dead' | 'unknown';

function liveness(o: Owner): Liveness {
  const me = selfOwner();
  if (o.host !== me.host || o.pidns !== me.pidns) return 'unknown';
  try {
    process.kill(o.pid, 0);
  } catch (e) {
    // EPERM: the process exists (another user's)
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return 'dead';
  }
  const start = o.start === '-' ? '-' : procStart(o.pid);
  return start !== '-' && start !== o.start ? 'dead' : 'alive';
}

function ageMs(path: string): number | undefined {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** true when `lock` is held by nobody alive: its owner is dead, or no whole record ever appeared */
function abandoned(lock: string, record: string | undefined): boolean {
  const age = ageMs(lock);
  if (age === undefined) return false;
  const o = record === undefined ? undefined : parseOwner(record);
  if (!o) return age > ORPHAN_MS;
  const l = liveness(o);
  return l === 'dead' || (l === 'unknown' && age > FOREIGN_STALE_MS);
}

/** Removes an abandoned lock; true when the caller should try to take the lock again at once. */
function breakAbandoned(lock: string): boolean {
  const record = readOwner(lock);
  if (!abandoned(lock, record)) return false;
  const breaker = `${lock}.break`;
  try {
    mkdirSync(breaker);
  } catch {
    // another waiter is breaking it; a breaker that died leaves its directory behind
    if ((ageMs(breaker) ?? 0) > ORPHAN_MS) rmSync(breaker, { recursive: true, force: true });
    return false;
  }
  try {
    // nobody can have replaced the lock since: only its owner (gone) or a breaker (us) removes it
    if (readOwner(lock) !== record || !abandoned(lock, record)) return true;
    try {
      unlinkSync(lock);
    } catch (e) {
      // an older version's directory: moved aside first so the name is free the moment it is gone
      if ((e as NodeJS.ErrnoException).code !== 'EISDIR') return true;
      const grave = `${lock}.dead.${token(6)}`;
      try {
        renameSync(lock, grave);
      } catch {
        return true;
      }
      rmSync(grave, { recursive: true, force: true });
    }
    return true;
  } finally {
    try {
      rmdirSync(breaker);
    } catch {
      /* already removed as orphaned */
    }
  }
}

export interface LockHandle {
  /** still ours (nobody broke it): checked before the lab is replaced */
  held(): boolean;
  release(): void;
}

export interface AcquireOptions {
  /** seconds to wait; undefined = as long as it takes (the holder is alive) */
  waitSeconds?: number;
  /** what is locked, for messages */
  what: string;
  /**
   * false: no heartbeat, for a holder whose work until release() is synchronous (the timer could
   * not fire before it; starting one is about half a millisecond of a small command)
   */
  heartbeat?: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Takes the lock file `lock`, waiting while a live process holds it. */
export async function acquireLock(lock: string, opts: AcquireOptions): Promise<LockHandle> {
  const deadline = opts.waitSeconds === undefined ? Infinity : Date.now() + opts.waitSeconds * 1000;
  let delay = 2;
  let fd: number;
  for (;;) {
    try {
      fd = openSync(lock, 'wx', 0o644);
      break;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw new SimError(`cannot lock ${opts.what}: ${(e as Error).message}`, 4);
    }
    if (breakAbandoned(lock)) continue;
    if (Date.now() >= deadline) {
      const o = parseOwner(readOwner(lock) ?? '');
      throw new SimError(`${opts.what} is locked${o ? ` by process ${o.pid}` : ''} (${lock}); try again later`, 4);
    }
    // jittered backoff: fifty waiters do not retry in lockstep
    await sleep(delay * (0.5 + Math.random()));
    delay = Math.min(delay * 1.5, 50);
  }
  const me = JSON.stringify(selfOwner());
  try {
    // (until this is written, waiters see a record that is not whole: the grace period)
    writeFileSync(fd, me);
  } catch (e) {
    try {
      unlinkSync(lock);
    } catch {
      /* gone already */
    }
    throw new SimError(`cannot lock ${opts.what}: ${(e as Error).message}`, 4);
  } finally {
    closeSync(fd);
  }
  // keeps the lock fresh for waiters that cannot check our pid (another host or pid namespace)
  const beat =
    opts.heartbeat === false
      ? undefined
      : setInterval(() => {
          try {
            if (readOwner(lock) === me) utimesSync(lock, new Date(), new Date());
          } catch {
            /* the next beat tries again */
          }
        }, HEARTBEAT_MS).unref();
  let released = false;
  return {
    held: () => !released && readOwner(lock) === me,
    release: () => {
      if (released) return;
      released = true;
      if (beat) clearInterval(beat);
      if (readOwner(lock) !== me) return;
      try {
        unlinkSync(lock);
      } catch {
        /* broken meanwhile */
      }
    },
  };
}
