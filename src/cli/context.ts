/**
 * What every command gets: the streams, the lab file, the host it acts on, output options.
 */
import { SimError } from '../errors.js';
import type { Host, Lab } from '../net/lab.js';
import { readLab, updateLab } from '../state/store.js';
import type { Io } from './io.js';

export interface CliContext {
  io: Io;
  statePath: string;
  /** --host; undefined = the lab's default host */
  host?: string;
  json: boolean;
  color: boolean;
}

export function hostOf(lab: Lab, name: string | undefined): [string, Host] {
  const h = name ?? lab.defaultHost;
  const host = lab.hosts[h];
  if (!host) {
    throw new SimError(`no host \`${h}' in the lab (hosts: ${Object.keys(lab.hosts).join(', ')})`, 2);
  }
  return [h, host];
}

/** Reads the lab without locking (a rename makes every read see a whole file). */
export function readOnly<T>(ctx: CliContext, fn: (lab: Lab) => T): T {
  return fn(readLab(ctx.statePath));
}

/**
 * Changes the lab under the lock. `fn` returns whether to write; if it throws, nothing is written.
 */
export function readWrite<T>(ctx: CliContext, fn: (lab: Lab) => { save: boolean; value: T }): Promise<T> {
  return updateLab(ctx.statePath, fn);
}
