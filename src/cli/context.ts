/**
 * What every command gets: the streams, the lab file, the host it acts on, output options.
 */
import { SimError } from '../errors.js';
import { findHost, noHostMessage, type Host, type Lab } from '../net/lab.js';
import { readLab, updateLab } from '../state/store.js';
import type { Io } from './io.js';

export interface CliContext {
  io: Io;
  statePath: string;
  /** --host; undefined = the lab's default host */
  host?: string;
  json: boolean;
  color: boolean;
  /** set by `run`: the lab is held in memory for the whole replay instead of the file */
  session?: LabSession;
}

/**
 * A lab loaded once and shared by many commands (`run` replays a script in one process).
 * Same contract as the file: `update` keeps the change only when `fn` returns save, never when it throws.
 */
export interface LabSession {
  read<T>(fn: (lab: Lab) => T): T;
  update<T>(fn: (lab: Lab) => { save: boolean; value: T }): Promise<T>;
}

export function hostOf(lab: Lab, name: string | undefined): [string, Host] {
  const h = name ?? lab.defaultHost;
  const host = findHost(lab, h);
  if (!host) throw new SimError(noHostMessage(lab, h), 2);
  return [h, host];
}

/** Reads the lab without locking (a rename makes every read see a whole file). */
export function readOnly<T>(ctx: CliContext, fn: (lab: Lab) => T): T {
  if (ctx.session) return ctx.session.read(fn);
  return fn(readLab(ctx.statePath));
}

/**
 * Changes the lab under the lock. `fn` returns whether to write; if it throws, nothing is written.
 */
export function readWrite<T>(ctx: CliContext, fn: (lab: Lab) => { save: boolean; value: T }): Promise<T> {
  if (ctx.session) return ctx.session.update(fn);
  return updateLab(ctx.statePath, fn);
}
