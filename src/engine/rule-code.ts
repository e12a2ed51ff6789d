/**
 * The first tests of a chain's rules packed into typed arrays, for `trace --batch`: the frame
 * (ip_packet_match(): -s -d -i -o -p -f, as netfilter.ts frameMatches() tests it) and the matches
 * at the head of the rule that are pure tests of the packet (comment, and one tcp or udp match
 * without --tcp-option, as their extensions' match() test them), then possibly one statistic
 * --mode random match, which draws from the index's generator as the extension would.
 *
 * Why: a batch spends its time reading rules, and rules read from a lab file are objects of many
 * shapes scattered over the heap; these arrays have one shape and sit together. Only a head of
 * pure matches is packed, ended by at most one draw, tested in rule order: the matches after the
 * head (limit, recent, nth, a second statistic, ...) still run in order after it, so a test that
 * follows a draw can never prevent that draw, and a draw happens exactly when the rule-by-rule
 * walk would make it.
 * A rule with a field of unexpected type (a hand-edited lab) is left to the walk's own code.
 *
 * Each rule also gets its action when the packed tests are all it has: a jump or goto to a chain
 * (with that chain's plan, once known), RETURN, or nothing, so that a walk that neither counts
 * nor reports can follow such rules without reading the rule, its entry or its target.
 *
 * The lines of all chains are in the few large arrays of one CodeArena (one per index), not in an
 * array per chain: a batch touches thousands of chains, and a small typed array per chain costs
 * its allocation and two more reads of memory far apart each time its chain is entered.
 */
import type { Rule } from '../ruleset/rule.js';
import type { Packet } from './packet.js';
import type { Rng } from '../util/rng.js';

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
/** a statistic --mode random match, drawn from the index's generator */
const STAT = 1 << 20;
const STAT_INV = 1 << 21;

const EMPTY = new Int32Array(0);

export const isU32 = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
export const isPort = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffff;
const isPortRange = (v: unknown): v is [number, number] => Array.isArray(v) && v.length === 2 && isPort(v[0]) && isPort(v[1]);
const isByte = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xff;

/** Int32 slots per rule: one 64-byte cache line */
const STRIDE = 16;
/** Int32 slots per arena chunk (4 MiB); a chain with more rules gets an array of its own */
const CHUNK = 1 << 20;
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
const TCP_MASK = 12; // the flags' mask | what they must be << 8
const STAT_U0 = 13; // the statistic match's probability, as u32 bits
const ACT = 14; // what the rule does when its packed tests are all it has (ACT_*)
const JUMP_PLAN = 15; // ACT_JUMP, ACT_GOTO: the target chain's plan id, -1 until known

/** the rule has more than its packed tests, or a target the walk reads from the rule */
export const ACT_RULE = 0;
/** no target: the walk goes on with the next rule */
export const ACT_NONE = 1;
export const ACT_RETURN = 2;
/** jump or goto to a chain that exists */
export const ACT_JUMP = 3;
export const ACT_GOTO = 4;

/** Where the lines of an index's chains are kept. */
export class CodeArena {
  private chunk = new Int32Array(CHUNK);
  private used = 0;

  /** room for `slots` zeroed slots: the array and the offset of the first */
  alloc(slots: number, at: { d: Int32Array; base: number }): void {
    if (slots > CHUNK / 4) {
      at.d = new Int32Array(slots);
      at.base = 0;
      return;
    }
    if (this.used + slots > CHUNK) {
      this.chunk = new Int32Array(CHUNK);
      this.used = 0;
    }
    at.d = this.chunk;
    at.base = this.used;
    this.used += slots;
  }
}

export class RuleCode {
  /** STRIDE slots per rule from `base`; addresses and masks as int32 bit patterns */
  d: Int32Array = EMPTY;
  base = 0;
  /** [in, out] interface name (or the prefix before a trailing +) per rule, when a rule has one */
  private names: string[] | undefined;

  /**
   * `rng`: the generator statistic --mode random draws from (ExtContext.draw() without a chooser),
   * which makes such a match packable; without it the head stops before one
   */
  constructor(rules: readonly Rule[], arena: CodeArena, jumps: (i: number) => boolean, readonly rng: Rng | undefined) {
    arena.alloc(rules.length * STRIDE, this);
    const d = this.d;
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i]!;
      const o = this.base + i * STRIDE;
      const f = this.frame(o, i, r);
      d[o + F] = f & GENERIC ? GENERIC : this.head(o, r, f);
      if (f & GENERIC || d[o + LEAD] !== r.matches.length) continue;
      const t = r.target;
      if (!t) d[o + ACT] = ACT_NONE;
      else if (t.kind === 'verdict' && t.verdict === 'RETURN') d[o + ACT] = ACT_RETURN;
      else if ((t.kind === 'jump' || t.kind === 'goto') && jumps(i)) {
        d[o + ACT] = t.kind === 'jump' ? ACT_JUMP : ACT_GOTO;
        d[o + JUMP_PLAN] = -1;
      }
    }
  }

  /** how many of rule `i`'s matches test() has tested (the walk runs the others) */
  lead(i: number): number {
    return this.d[this.base + i * STRIDE + LEAD]!;
  }

  /** ACT_* of rule `i` */
  action(i: number): number {
    return this.d[this.base + i * STRIDE + ACT]!;
  }

  /** the plan id of the chain rule `i` jumps or goes to, -1 while unknown */
  jumpPlan(i: number): number {
    return this.d[this.base + i * STRIDE + JUMP_PLAN]!;
  }

  setJumpPlan(i: number, id: number): void {
    this.d[this.base + i * STRIDE + JUMP_PLAN] = id;
  }

  private name(i: number, which: 0 | 1, v: string): void {
    this.names ??= [];
    this.names[2 * i + which] = v;
  }

  private frame(o: number, i: number, r: Rule): number {
    const d = this.d;
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
  private head(o: number, r: Rule, f: number): number {
    const code = this.d;
    let lead = 0;
    for (const m of r.matches) {
      const d = m.data;
      if (m.name === 'comment') {
        lead++;
        continue;
      }
      // (a match that keeps iptables-nft's own expressions, ruleset/nft-compat.ts, is left to the extension)
      if ((m.name === 'tcp' || m.name === 'udp') && !(f & L4) && d && typeof d === 'object' && d.nft === undefined && isPortRange(d.spts) && isPortRange(d.dpts)) {
        const tcp = m.name === 'tcp';
        // --tcp-option depends on what a SYN carries: left to the extension
        if (tcp && (d.option || !isByte(d.flgMask) || !isByte(d.flgCmp))) break;
        code[o + L4_PROTO] = tcp ? 6 : 17;
        code[o + SPORT_LO] = d.spts[0];
        code[o + SPORT_HI] = d.spts[1];
        code[o + DPORT_LO] = d.dpts[0];
        code[o + DPORT_HI] = d.dpts[1];
        f |= L4 | (d.invSrc ? SPORT_INV : 0) | (d.invDst ? DPORT_INV : 0);
        if (tcp) {
          code[o + TCP_MASK] = d.flgMask | (d.flgCmp << 8);
          f |= TCP_FLAGS | (d.invFlags ? FLAGS_INV : 0);
        }
        lead++;
        continue;
      }
      // statistic_mt() random mode: a draw, so the last packed test (what follows it must not
      // run before it)
      if (m.name === 'statistic' && this.rng && d && typeof d === 'object' && d.mode === 0 && isU32(d.u0) && typeof d.invert === 'boolean') {
        code[o + STAT_U0] = d.u0 | 0;
        f |= STAT | (d.invert ? STAT_INV : 0);
        lead++;
      }
      break;
    }
    code[o + LEAD] = lead;
    return f;
  }

  /**
   * Rule `i`'s frame and packed head matches on `pkt`: false as soon as one fails, true when all
   * pass (the walk goes on with match number lead(i)), undefined when the walk must test the rule
   * itself (frameMatches() and every match).
   */
  test(i: number, pkt: Packet): boolean | undefined {
    const d = this.d;
    const o = this.base + i * STRIDE;
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
      if (f & TCP_FLAGS) {
        const bits = d[o + TCP_MASK]!;
        if ((((pkt.tcpFlags ?? 0) & bits & 0xff) === bits >>> 8) === ((f & FLAGS_INV) !== 0)) return false;
      }
    }
    if (f & STAT) {
      // statistic_mt(): (get_random_u32() & 0x7FFFFFFF) < probability, the result inverted by !
      const drawn = Math.floor(this.rng!.next() * 0x80000000) < d[o + STAT_U0]! >>> 0;
      if (drawn === ((f & STAT_INV) !== 0)) return false;
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
