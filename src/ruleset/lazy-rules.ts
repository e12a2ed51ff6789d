/**
 * A long chain whose rules are still in the lab file, read one rule at a time.
 *
 * A kube-proxy KUBE-SERVICES chain holds a rule per service (10,000 and more); a trace walks all of
 * them but only one or two pass their frame (the -s -d -p part that ip_packet_match() tests before
 * any match). The lab file keeps, next to such a chain's rules, each rule's frame as numbers
 * (../state/lab-file.ts), so the walk (../engine/netfilter.ts) passes over the rules whose frame
 * fails without decoding them, exactly where it would have found frameMatches() false, and decodes
 * only the others.
 *
 * With the frames, the lab file keeps the names of the extensions the chain's rules use, so that a
 * question about all rules (does any use conntrack?) needs no rule decoded either.
 *
 * The frame of a rule, FRAME_WORDS unsigned 32-bit numbers: flags (protocol number in bits 0-7,
 * then which of -s -d -p the rule has and which are negated), source address and mask, destination
 * address and mask. A field that is not a plain value (a hand-edited lab that was not checked) is
 * left out: the walk then decodes the rule and tests it itself.
 */
import type { Chain } from './tables.js';
import type { Rule } from './rule.js';

export const FRAME_WORDS = 5;

const HAS_SRC = 1 << 8;
const SRC_INV = 1 << 9;
const HAS_DST = 1 << 10;
const DST_INV = 1 << 11;
const HAS_PROTO = 1 << 12;
const PROTO_INV = 1 << 13;

const isU32 = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;

/** writes the frame of `r` at `out[at .. at + FRAME_WORDS)` */
export function encodeFrame(r: Rule, out: Uint32Array, at: number): void {
  let flags = 0;
  const src = r.src as unknown;
  const dst = r.dst as unknown;
  out[at + 1] = out[at + 2] = out[at + 3] = out[at + 4] = 0;
  if (typeof src === 'object' && src !== null && isU32((src as Rule['src'])!.addr) && isU32((src as Rule['src'])!.mask)) {
    flags |= HAS_SRC | (r.srcInv ? SRC_INV : 0);
    out[at + 1] = (src as Rule['src'])!.addr;
    out[at + 2] = (src as Rule['src'])!.mask;
  }
  if (typeof dst === 'object' && dst !== null && isU32((dst as Rule['dst'])!.addr) && isU32((dst as Rule['dst'])!.mask)) {
    flags |= HAS_DST | (r.dstInv ? DST_INV : 0);
    out[at + 3] = (dst as Rule['dst'])!.addr;
    out[at + 4] = (dst as Rule['dst'])!.mask;
  }
  const p = r.proto as unknown;
  if (typeof p === 'number' && Number.isInteger(p) && p >= 1 && p <= 255) flags |= HAS_PROTO | p | (r.protoInv ? PROTO_INV : 0);
  out[at] = flags;
}

/**
 * True when the frame at `f[at ..]` fails for a packet with these addresses and protocol, the way
 * frameMatches() would find it (inPrefix: (address & mask) === rule address).
 */
export function frameFails(f: Uint32Array, at: number, src: number, dst: number, proto: number): boolean {
  const flags = f[at]!;
  if (flags & HAS_DST && (((dst & f[at + 4]!) >>> 0) === f[at + 3]) === ((flags & DST_INV) !== 0)) return true;
  if (flags & HAS_SRC && (((src & f[at + 2]!) >>> 0) === f[at + 1]) === ((flags & SRC_INV) !== 0)) return true;
  if (flags & HAS_PROTO && (proto === (flags & 0xff)) === ((flags & PROTO_INV) !== 0)) return true;
  return false;
}

/**
 * numbers per rule in LazyRules.frames: two of the lab file's own (the length and checksum of the
 * rule's text), then its frame
 */
export const LAZY_STRIDE = 2 + FRAME_WORDS;

export interface LazyRules {
  /** the number of rules */
  readonly size: number;
  /** LAZY_STRIDE numbers per rule: rule `pos` has its frame (encodeFrame()) at pos * LAZY_STRIDE + 2 */
  readonly frames: Uint32Array;
  /** rule `pos` (0-based), decoded on first use; the same object chain.rules holds once decoded in full */
  rule(pos: number): Rule;
  /** the names of the match extensions its rules use, and of their extension targets (kind ext) */
  readonly matches: readonly string[];
  readonly targets: readonly string[];
}

/** the match and target extension names of `rules`, as LazyRules has them */
export function extensionNames(rules: readonly Rule[]): { matches: string[]; targets: string[] } {
  const matches = new Set<string>();
  const targets = new Set<string>();
  for (const r of rules) {
    for (const m of r.matches) matches.add(m.name);
    if (r.target?.kind === 'ext') targets.add(r.target.name);
  }
  return { matches: [...matches], targets: [...targets] };
}

let source: ((c: Chain) => LazyRules | undefined) | undefined;

/** the lab file's reader says which chains it can hand out rule by rule */
export function setLazyRulesSource(s: (c: Chain) => LazyRules | undefined): void {
  source = s;
}

/** `c`'s rules one by one, when they are still in the lab file and long enough to be kept so */
export function lazyRules(c: Chain): LazyRules | undefined {
  return source?.(c);
}
