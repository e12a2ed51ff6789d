/**
 * A rule as netfilter stores it (struct ipt_entry + matches + target), in a JSON-friendly shape:
 * fields at their defaults are left out, so big rule sets stay small in the lab file.
 */
import type { AddrMask } from '../net/ipv4.js';
import type { Addr6Mask } from '../net/ipv6.js';

export interface MatchInstance {
  name: string;
  data: any;
}

export type RuleTarget =
  /** ACCEPT / DROP / RETURN / QUEUE: netfilter verdicts */
  | { kind: 'verdict'; verdict: 'ACCEPT' | 'DROP' | 'RETURN' | 'QUEUE' }
  | { kind: 'jump'; chain: string }
  | { kind: 'goto'; chain: string }
  | { kind: 'ext'; name: string; data: any };

export interface Rule {
  src?: AddrMask;
  srcInv?: boolean;
  dst?: AddrMask;
  dstInv?: boolean;
  /** an ip6tables rule's -s / -d (src and dst are IPv4's; srcInv and dstInv serve both) */
  src6?: Addr6Mask;
  dst6?: Addr6Mask;
  /** interface name as given, a trailing '+' is a wildcard */
  in?: string;
  inInv?: boolean;
  out?: string;
  outInv?: boolean;
  /** protocol number, 0 or absent = all */
  proto?: number;
  protoInv?: boolean;
  frag?: boolean;
  fragInv?: boolean;
  matches: MatchInstance[];
  target?: RuleTarget;
  pkts: number;
  bytes: number;
  /** nf_tables handle (set when the rule is stored) */
  handle?: number;
}

export function targetName(t: RuleTarget | undefined): string {
  if (!t) return '';
  switch (t.kind) {
    case 'verdict':
      return t.verdict;
    case 'jump':
    case 'goto':
      return t.chain;
    case 'ext':
      return t.name;
  }
}

/** The chain a rule jumps or goes to, if any. */
export function jumpTarget(r: Rule): string | undefined {
  return r.target && (r.target.kind === 'jump' || r.target.kind === 'goto') ? r.target.chain : undefined;
}

/** The chains `rules` jump or go to, in rule order. */
export function jumpsOf(rules: readonly Rule[]): string[] {
  const out: string[] = [];
  for (const r of rules) {
    const j = jumpTarget(r);
    if (j !== undefined) out.push(j);
  }
  return out;
}
