/**
 * CLASSIFY target (libxt_CLASSIFY.c of iptables 1.8.9, net/netfilter/xt_CLASSIFY.c): set
 * skb->priority, the tc class MAJOR:MINOR (both hexadecimal). The kernel allows it in OUTPUT,
 * FORWARD and POSTROUTING, in any table.
 */
import { paramProblem } from '../../errors.js';
import type { TargetExtension } from '../types.js';

export interface ClassifyData {
  priority: number;
}

const U64 = (1n << 64n) - 1n;

/**
 * sscanf(s, "%x", &u) as glibc does it: blanks, an optional sign, an optional 0x (taken even
 * when no hex digit follows, which reads as 0), hex digits; strtoul's value (saturated on
 * overflow, negated modulo 2^64) stored in an unsigned int. Returns the value and what is left.
 */
function scanHex(s: string): { value: number; rest: string } | undefined {
  let i = 0;
  while (i < s.length && ' \t\n\v\f\r'.includes(s[i]!)) i++;
  let neg = false;
  if (s[i] === '+' || s[i] === '-') {
    neg = s[i] === '-';
    i++;
  }
  let digits = false;
  if (s[i] === '0') {
    digits = true;
    i++;
    if (s[i] === 'x' || s[i] === 'X') i++;
  }
  let v = 0n;
  let overflow = false;
  while (i < s.length && /[0-9a-fA-F]/.test(s[i]!)) {
    v = v * 16n + BigInt(parseInt(s[i]!, 16));
    if (v > U64) overflow = true;
    digits = true;
    i++;
  }
  if (!digits) return undefined;
  if (overflow) v = U64;
  else if (neg) v = (U64 + 1n - v) & U64;
  return { value: Number(v & 0xffffffffn), rest: s.slice(i) };
}

/** CLASSIFY_string_to_priority(): "%x:%x", then TC_H_MAKE(major << 16, minor) */
function parseClass(s: string): number | undefined {
  const major = scanHex(s);
  if (!major || major.rest[0] !== ':') return undefined;
  const minor = scanHex(major.rest.slice(1));
  if (!minor) return undefined;
  return ((((major.value << 16) >>> 0) & 0xffff0000) | (minor.value & 0xffff)) >>> 0;
}

export const CLASSIFY: TargetExtension<ClassifyData> = {
  kind: 'target',
  name: 'CLASSIFY',
  revision: 0,
  // CLASSIFY_help() of libxt_CLASSIFY.c, byte for byte as iptables 1.8.9 prints it
  help:
    'CLASSIFY target options:\n' +
    '--set-class MAJOR:MINOR    Set skb->priority value (always hexadecimal!)\n',
  options: [{ name: 'set-class', id: 0, type: 'string', mandatory: true }],
  init: () => ({ priority: 0 }),
  parse({ arg, data }) {
    const p = parseClass(arg!);
    if (p === undefined) throw paramProblem(`Bad class value "${arg}"`);
    data.priority = p;
  },
  print: (d) => ` CLASSIFY set ${(d.priority >>> 16).toString(16)}:${(d.priority & 0xffff).toString(16)}`,
  save: (d) =>
    ` --set-class ${(d.priority >>> 16).toString(16).padStart(4, '0')}:${(d.priority & 0xffff).toString(16).padStart(4, '0')}`,
  hooks: ['OUTPUT', 'FORWARD', 'POSTROUTING'],
  // classify_tg(): skb->priority = info->priority
  apply(d, pkt) {
    pkt.priority = d.priority;
    return { verdict: 'CONTINUE' };
  },
};
