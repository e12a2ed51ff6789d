/**
 * connbytes match (libxt_connbytes.c, xt_connbytes): [!] --connbytes from[:to] of the
 * connection's packets, bytes or average packet size, in one direction or both.
 * '!' swaps from and to; the kernel then matches outside the range.
 */
import { paramProblem } from '../../errors.js';
import type { MatchExtension, OptionEntry } from '../types.js';

const U64_MAX = (1n << 64n) - 1n;

export interface ConnbytesData {
  /** count.from / count.to as decimal strings (64-bit) */
  from: string;
  to: string;
  /** XT_CONNBYTES_DIR_*: 0 original, 1 reply, 2 both */
  direction: number;
  /** XT_CONNBYTES_*: 0 packets, 1 bytes, 2 avgpkt */
  what: number;
}

const DIRS = ['original', 'reply', 'both'];
const MODES = ['packets', 'bytes', 'avgpkt'];

const O = { CONNBYTES: 0, DIR: 1, MODE: 2 } as const;

const opts: OptionEntry[] = [
  { name: 'connbytes', id: O.CONNBYTES, type: 'uint64rc', invert: true, mandatory: true },
  { name: 'connbytes-dir', id: O.DIR, type: 'string', mandatory: true },
  { name: 'connbytes-mode', id: O.MODE, type: 'string', mandatory: true },
];

/** print_from_to(): from > to means inverted; an upper bound of 0 or U64_MAX is left out */
function fromTo(d: ConnbytesData, prefix: string): string {
  let from = BigInt(d.from);
  let to = BigInt(d.to);
  let s = '';
  if (from > to) {
    s = ' !';
    [from, to] = [to, from];
  }
  s += ` ${prefix}connbytes ${from}`;
  if (to && to < U64_MAX) s += `:${to}`;
  return s;
}

export const connbytes: MatchExtension<ConnbytesData> = {
  kind: 'match',
  name: 'connbytes',
  // connbytes_help() of libxt_connbytes.c, byte for byte as iptables 1.8.9 prints it
  help:
    'connbytes match options:\n' +
    ' [!] --connbytes from:[to]\n' +
    '     --connbytes-dir [original, reply, both]\n' +
    '     --connbytes-mode [packets, bytes, avgpkt]\n',
  options: opts,
  init: () => ({ from: '0', to: '0', direction: 0, what: 0 }),
  parse({ entry, arg, invert, val, data }) {
    switch (entry.id) {
      case O.CONNBYTES: {
        const r = val.bigRange!;
        let from = r[0]!;
        let to = r.length === 2 ? r[1]! : U64_MAX;
        if (to < from) throw paramProblem(`${from} should be less than ${to}`);
        if (invert) [from, to] = [to, from];
        data.from = String(from);
        data.to = String(to);
        break;
      }
      case O.DIR: {
        const i = DIRS.indexOf(arg!);
        if (i < 0) throw paramProblem(`Unknown --connbytes-dir \`${arg}'`);
        data.direction = i;
        break;
      }
      case O.MODE: {
        const i = MODES.indexOf(arg!);
        if (i < 0) throw paramProblem(`Unknown --connbytes-mode \`${arg}'`);
        data.what = i;
        break;
      }
    }
  },
  print: (d) => `${fromTo(d, '')} connbytes mode ${MODES[d.what] ?? 'unknown'} connbytes direction ${DIRS[d.direction] ?? 'unknown'}`,
  save: (d) => `${fromTo(d, '--')} --connbytes-mode ${MODES[d.what] ?? 'unknown'} --connbytes-dir ${DIRS[d.direction] ?? 'unknown'}`,
  /**
   * connbytes_mt(): needs a conntrack entry (with accounting, which the kernel forces on when the
   * rule is loaded); the counters include the current packet, as conntrack accounted it before
   * the tables ran. avgpkt is bytes / packets (integer division), 0 without packets.
   */
  match(d, pkt) {
    const ct = pkt.ct;
    if (!ct || ct.state === 'INVALID' || ct.state === 'UNTRACKED') return false;
    const pick = (v: [number, number]): bigint =>
      d.direction === 0 ? BigInt(v[0]) : d.direction === 1 ? BigInt(v[1]) : BigInt(v[0]) + BigInt(v[1]);
    let what: bigint;
    if (d.what === 0) what = pick(ct.packets);
    else if (d.what === 1) what = pick(ct.bytes);
    else {
      const pkts = pick(ct.packets);
      what = pkts !== 0n ? pick(ct.bytes) / pkts : 0n;
    }
    const from = BigInt(d.from);
    const to = BigInt(d.to);
    if (to >= from) return what <= to && what >= from;
    return what < to || what > from;
  },
};
