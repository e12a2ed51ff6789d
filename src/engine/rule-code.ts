/**
 * The first tests of a chain's rules packed into typed arrays, for `trace --batch`: the frame
 * (ip_packet_match(): -s -d -i -o -p -f, as netfilter.ts frameMatches() tests it) and the matches
 * at the head of the rule that are pure tests of the packet (comment, and one tcp or udp match
 * without --tcp-option, as their extensions' match() test them).
 *
 * Why: a batch spends its time reading rules, and rules read from a lab file are objects of many
 * shapes scattered over the heap; these arrays have one shape and sit together. Only a head of
 * pure matches is packed: the matches after the first one that is not (statistic, limit, recent,
 * ...) still run in order, so a pure test that follows a draw can never prevent that draw.
 * A rule with a field of unexpected type (a hand-edited lab) is left to the walk's own code.
 */
import type { Rule } from '../ruleset/rule.js';
import type { Packet } from './packet.js';

// RuleCode.flags bits
const SRC = 1 << 0;
const SRC_INV = 1 << 1;
const DST = 1 << 2;
const DST_INV = 1 << 3;
const IN = 1 << 4;
const IN_INV = 1 << 5;
const IN_WILD = 1 << 6;
const OUT = 1 << 7;
const OUT_INV = 1 << 8;
const OUT_WILD = 1 << 9;
const PROTO = 1 << 10;
const PROTO_INV = 1 << 11;
const FRAG = 1 << 12;
const FRAG_INV = 1 << 13;
/** a tcp or udp match: l4proto, ports (and for tcp the flags) */
const L4 = 1 << 14;
const SPORT_INV = 1 << 15;
const DPORT_INV = 1 << 16;
const TCP_FLAGS = 1 << 17;
const FLAGS_INV = 1 << 18;
/** leave the whole rule to the walk's own code */
const GENERIC = 1 << 19;

export const isU32 = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
export const isPort = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffff;
const isPortRange = (v: unknown): v is [number, number] => Array.isArray(v) && v.length === 2 && isPort(v[0]) && isPort(v[1]);
const isByte = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xff;

/** Int32 slots per rule: one 64-byte cache line */
const STRIDE = 16;
const F = 0; // flags
const LEAD = 1; // matches tested here
const SRC_ADDR = 2;
const SRC_MASK = 3;
const DST_ADDR = 4;
const DST_MASK = 5;
const PROTO_NUM = 6;
const L4_PROTO = 7;
const SPORT_LO = 8;
const SPORT_HI = 9;
const DPORT_LO = 10;
const DPORT_HI = 11;
const TCP_MASK = 12;
const TCP_CMP = 13;

export class RuleCode {
  /** STRIDE slots per rule; addresses and masks as int32 bit patterns */
  private readonly d: Int32Array;
  /** [in, out] interface name (or the prefix before a trailing +) per rule, when a rule has one */
  private names: string[] | undefined;

  constructor(rules: readonly Rule[]) {
    this.d = new Int32Array(rules.length * STRIDE);
    for (let i = 0; i < rules.length; i++) {
      const f = this.frame(i, rules[i]!);
      this.d[i * STRIDE + F] = f & GENERIC ? GENERIC : this.head(i, rules[i]!, f);
    }
  }

  /** how many of rule `i`'s matches test() has tested (the walk runs the others) */
  lead(i: number): number {
    return this.d[i * STRIDE + LEAD]!;
  }

  private name(i: number, which: 0 | 1, v: string): void {
    this.names ??= [];
    this.names[2 * i + which] = v;
  }

  private frame(i: number, r: Rule): number {
    const d = this.d;
    const o = i * STRIDE;
    let f = 0;
    if (r.src) {
      if (!isU32(r.src.addr) || !isU32(r.src.mask)) return GENERIC;
      d[o + SRC_ADDR] = r.src.addr | 0;
      d[o + SRC_MASK] = r.src.mask | 0;
      f |= SRC;
    }
    if (r.srcInv) f |= SRC_INV;
    if (r.dst) {
      if (!isU32(r.dst.addr) || !isU32(r.dst.mask)) return GENERIC;
      d[o + DST_ADDR] = r.dst.addr | 0;
      d[o + DST_MASK] = r.dst.mask | 0;
      f |= DST;
    }
    if (r.dstInv) f |= DST_INV;
    if (r.in !== undefined) {
      if (typeof r.in !== 'string') return GENERIC;
      const wild = r.in.endsWith('+');
      this.name(i, 0, wild ? r.in.slice(0, -1) : r.in);
      f |= IN | (wild ? IN_WILD : 0);
    }
    if (r.inInv) f |= IN_INV;
    if (r.out !== undefined) {
      if (typeof r.out !== 'string') return GENERIC;
      const wild = r.out.endsWith('+');
      this.name(i, 1, wild ? r.out.slice(0, -1) : r.out);
      f |= OUT | (wild ? OUT_WILD : 0);
    }
    if (r.outInv) f |= OUT_INV;
    if (r.proto) {
      if (!isU32(r.proto)) return GENERIC;
      d[o + PROTO_NUM] = r.proto | 0;
      f |= PROTO;
    }
    if (r.protoInv) f |= PROTO_INV;
    if (r.frag) f |= FRAG;
    if (r.fragInv) f |= FRAG_INV;
    return f;
  }

  /** packs the pure matches at the head of the rule; returns the flags */
  private head(i: number, r: Rule, f: number): number {
    const o = i * STRIDE;
    let lead = 0;
    for (const m of r.matches) {
      const d = m.data;
      if (m.name === 'comment') {
        lead++;
        continue;
      }
      if ((m.name === 'tcp' || m.name === 'udp') && !(f & L4) && d && typeof d === 'object' && isPortRange(d.spts) && isPortRange(d.dpts)) {
        const tcp = m.name === 'tcp';
        // --tcp-option depends on what a SYN carries: left to the extension
        if (tcp && (d.option || !isByte(d.flgMask) || !isByte(d.flgCmp))) break;
        this.d.set([tcp ? 6 : 17, d.spts[0], d.spts[1], d.dpts[0], d.dpts[1]], o + L4_PROTO);
        f |= L4 | (d.invSrc ? SPORT_INV : 0) | (d.invDst ? DPORT_INV : 0);
        if (tcp) {
          this.d[o + TCP_MASK] = d.flgMask;
          this.d[o + TCP_CMP] = d.flgCmp;
          f |= TCP_FLAGS | (d.invFlags ? FLAGS_INV : 0);
        }
        lead++;
        continue;
      }
      break;
    }
    this.d[o + LEAD] = lead;
    return f;
  }

  /**
   * Rule `i`'s frame and packed head matches on `pkt`: false as soon as one fails, true when all
   * pass (the walk goes on with match number lead(i)), undefined when the walk must test the rule
   * itself (frameMatches() and every match).
   */
  test(i: number, pkt: Packet): boolean | undefined {
    const d = this.d;
    const o = i * STRIDE;
    const f = d[o + F]!;
    if (f === 0) return true;
    if (f & GENERIC) return undefined;
    if (f & SRC) {
      if (((pkt.src & d[o + SRC_MASK]!) === d[o + SRC_ADDR]) === ((f & SRC_INV) !== 0)) return false;
    } else if (f & SRC_INV) return false;
    if (f & DST) {
      if (((pkt.dst & d[o + DST_MASK]!) === d[o + DST_ADDR]) === ((f & DST_INV) !== 0)) return false;
    } else if (f & DST_INV) return false;
    if (f & IN && ifaceIs(pkt.inIface, this.names![2 * i]!, (f & IN_WILD) !== 0) === ((f & IN_INV) !== 0)) return false;
    if (f & OUT && ifaceIs(pkt.outIface, this.names![2 * i + 1]!, (f & OUT_WILD) !== 0) === ((f & OUT_INV) !== 0)) return false;
    if (f & PROTO && (pkt.proto === d[o + PROTO_NUM]) === ((f & PROTO_INV) !== 0)) return false;
    if (f & FRAG && pkt.fragment === ((f & FRAG_INV) !== 0)) return false;
    if (f & L4) {
      // tcp_mt() / udp_mt(): the protocol, no later fragment, the port ranges, the flags
      if (pkt.proto !== d[o + L4_PROTO] || pkt.fragment) return false;
      if (inRange(pkt.sport, d[o + SPORT_LO]!, d[o + SPORT_HI]!) === ((f & SPORT_INV) !== 0)) return false;
      if (inRange(pkt.dport, d[o + DPORT_LO]!, d[o + DPORT_HI]!) === ((f & DPORT_INV) !== 0)) return false;
      if (f & TCP_FLAGS && (((pkt.tcpFlags ?? 0) & d[o + TCP_MASK]!) === d[o + TCP_CMP]) === ((f & FLAGS_INV) !== 0)) return false;
    }
    return true;
  }
}

function ifaceIs(name: string | undefined, pattern: string, wild: boolean): boolean {
  if (name === undefined) return false;
  return wild ? name.startsWith(pattern) : name === pattern;
}

function inRange(p: number | undefined, min: number, max: number): boolean {
  return p !== undefined && p >= min && p <= max;
}
