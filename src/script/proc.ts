/**
 * /proc/sys as a script sees it: `echo 1 > /proc/sys/net/ipv4/ip_forward` is a sysctl write on
 * the acting host, reading it is a sysctl read. A path names a parameter the engine models, one
 * Linux has but the engine does not model, a directory, or nothing (as on Linux: "No such file or
 * directory").
 */
import { posix } from 'node:path';
import type { Host } from '../net/lab.js';
import { modelledValue } from '../net/sysctl.js';

export type ProcEntry =
  | { kind: 'modelled'; key: string }
  | { kind: 'unmodelled'; key: string }
  | { kind: 'dir' }
  | { kind: 'missing' };

/** the sysctl key of a /proc/sys path ("net.ipv4.conf.eth0.rp_filter"), or undefined */
export function procSysKey(path: string): string | undefined {
  const p = posix.normalize(path);
  if (!p.startsWith('/proc/sys/')) return undefined;
  return p.slice('/proc/sys/'.length).replace(/\/+$/, '').split('/').join('.');
}

export function isProcSys(path: string): boolean {
  const p = posix.normalize(path);
  return p === '/proc/sys' || p.startsWith('/proc/sys/');
}

/** per-device keys of the known list, for the host's devices */
function genericKey(host: Host, key: string): string {
  const devs = ['all', 'default', ...host.interfaces.map((i) => i.name)];
  for (const d of devs) {
    for (const fam of ['net.ipv4.conf.', 'net.ipv4.neigh.', 'net.ipv6.conf.', 'net.ipv6.neigh.']) {
      if (key.startsWith(fam + d + '.')) return `${fam}<dev>.${key.slice(fam.length + d.length + 1)}`;
    }
  }
  return key;
}

export function procEntry(host: Host, key: string, known: readonly string[]): ProcEntry {
  if (key === '') return { kind: 'dir' };
  if (modelledValue(host, key) !== undefined) return { kind: 'modelled', key };
  const g = genericKey(host, key);
  if (known.includes(g)) return { kind: 'unmodelled', key };
  const prefix = key + '.';
  if (Object.keys(host.sysctls).some((k) => k.startsWith(prefix))) return { kind: 'dir' };
  const devs = ['all', 'default', ...host.interfaces.map((i) => i.name)];
  const gp = g + '.';
  if (known.some((k) => k.startsWith(gp) || devs.some((d) => k.replace('<dev>', d).startsWith(prefix)))) return { kind: 'dir' };
  return { kind: 'missing' };
}
