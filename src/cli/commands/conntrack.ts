/**
 * `conntrack -L | -F` (conntrack-tools 1.4.7) over a host's connection tracking table: the entries
 * traces left behind, printed the way `conntrack -L` prints them.
 */
import { SimError } from '../../errors.js';
import { getoptPermute, type LongOpt } from '../../../grammar/getopt.js';
import type { ConntrackEntry } from '../../net/lab.js';
import { protocolByName, protocolByNumber } from '../../net/netdb.js';
import { hostOf, readOnly, readWrite, type CliContext } from '../context.js';

const LONG: LongOpt[] = [
  { name: 'dump', hasArg: 0, val: 'L' },
  { name: 'flush', hasArg: 0, val: 'F' },
  { name: 'proto', hasArg: 1, val: 'p' },
  { name: 'version', hasArg: 0, val: 'V' },
];

const VERSION = 'conntrack v1.4.7 (conntrack-tools)';

/** conntrack-tools 1.4.7's other commands and options (conntrack(8)) */
const REAL_SHORT = 'DEGICURSAhzosdqrnmbcefijlawutTyxXZ'.split('');
const REAL_LONG = [
  'delete', 'event', 'get', 'create', 'count', 'update', 'stats', 'dump-expect', 'output', 'orig-src',
  'orig-dst', 'reply-src', 'reply-dst', 'src', 'dst', 'sport', 'dport', 'state', 'status', 'timeout',
  'mark', 'label', 'zone', 'orig-zone', 'reply-zone', 'tuple-src', 'tuple-dst', 'mask-src', 'mask-dst',
  'src-nat', 'dst-nat', 'any-nat', 'family', 'buffer-size', 'icmp-type', 'icmp-code', 'icmp-id', 'secmark',
];

function tuple(e: ConntrackEntry, t: ConntrackEntry['orig']): string {
  if (e.proto === 6 || e.proto === 17) return `src=${t[0]} dst=${t[1]} sport=${t[2]} dport=${t[3]}`;
  if (e.proto === 1) return `src=${t[0]} dst=${t[1]} type=8 code=0 id=${t[2]}`;
  return `src=${t[0]} dst=${t[1]}`;
}

/** one line of `conntrack -L` */
export function conntrackLine(e: ConntrackEntry, now: number): string {
  const name = protocolByNumber(e.proto) ?? 'unknown';
  let s = `${name.padEnd(8)} ${e.proto} ${Math.max(0, e.expires - now)} `;
  if (e.proto === 6 && e.state) s += `${e.state} `;
  s += tuple(e, e.orig) + ' ';
  if (!e.status.includes('SEEN_REPLY')) s += '[UNREPLIED] ';
  let reply = tuple(e, e.reply);
  if (e.proto === 1) reply = reply.replace('type=8', 'type=0');
  s += reply + ' ';
  if (e.status.includes('ASSURED')) s += '[ASSURED] ';
  s += `mark=${e.mark} `;
  if (e.zone) s += `zone=${e.zone} `;
  return s + 'use=1';
}

export async function conntrackCommand(ctx: CliContext, argv: string[]): Promise<number> {
  const r = getoptPermute('conntrack', argv, 'LFp:V', LONG);
  if ('error' in r) {
    // an option conntrack-tools has but the emulator does not: say so rather than "invalid"
    const opt = /invalid option -- '(.)'|unrecognized option '--([^'=]+)/.exec(r.error);
    const name = opt?.[1] ?? opt?.[2];
    if (name && (REAL_SHORT.includes(name) || REAL_LONG.includes(name))) {
      ctx.io.err(`conntrack: ${name.length === 1 ? '-' : '--'}${name} is not modelled by iptables-sim (it offers -L [-p PROTO], -F and -V)\n`);
      return 2;
    }
    ctx.io.err(r.error);
    return 2;
  }
  let action: 'L' | 'F' | undefined;
  let proto: number | undefined;
  for (const o of r.options) {
    if (o.val === 'V') {
      ctx.io.out(`${VERSION}\n`);
      return 0;
    }
    if (o.val === 'L' || o.val === 'F') action = o.val;
    if (o.val === 'p') {
      proto = protocolByName(o.arg!.toLowerCase()) ?? Number(o.arg);
      if (!Number.isInteger(proto)) throw new SimError(`conntrack: unknown protocol \`${o.arg}'`, 2);
    }
  }
  if (r.rest.length || !action) {
    throw new SimError('conntrack: iptables-sim models `conntrack -L [-p PROTO]` and `conntrack -F`', 2);
  }
  if (action === 'F') {
    await readWrite(ctx, (lab) => {
      hostOf(lab, ctx.host)[1].conntrack = [];
      return { save: true, value: undefined };
    });
    ctx.io.err(`${VERSION}: connection tracking table has been emptied.\n`);
    return 0;
  }
  return readOnly(ctx, (lab) => {
    const now = lab.clock ?? 0;
    const entries = hostOf(lab, ctx.host)[1].conntrack.filter((e) => e.expires > now && (proto === undefined || e.proto === proto));
    for (const e of entries) ctx.io.out(conntrackLine(e, now) + '\n');
    ctx.io.err(`${VERSION}: ${entries.length} flow entries have been shown.\n`);
    return 0;
  });
}
