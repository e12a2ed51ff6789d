/**
 * What a rule looks like after iptables-nft stored it in nf_tables and read it back. iptables-nft
 * turns tcp and udp port/flag matches into native expressions (nft.c add_nft_tcp/add_nft_udp)
 * and, when listing, rebuilds one tcp (or udp) match from all of them at the place the first one
 * that stored something stood (nft-shared.c nft_tcp_match). Rules are stored in this read-back
 * form, so -S, -L, -C and -D see what iptables 1.8.9 prints and compares (measured:
 * fixtures/cli/ext-tcp-udp-nft.case):
 * - A range of 0:65535 and a flag test with an empty mask store nothing, inverted or not, so a match
 *   made only of those does not come back: `-p tcp -m tcp ! --sport 0:65535` lists as `-p tcp`.
 * - A range starting at 0 is stored as "<= hi" (inverted: "> hi"), which reads back as the upper
 *   (lower) bound alone: after `--dport 80`, `-m tcp --dport :4` makes `--dport 80:4`. Every other
 *   range and port sets both bounds; an inversion, once read, stays.
 * - A single source port and a single destination port of the same sense are one 32-bit compare:
 *   `! --sport 5 ! --dport 6` is "not both", not "neither".
 * Where the kernel's expressions test more than the read-back form says (two matches on one port,
 * or that inverted 32-bit compare), the match keeps them (`nft`), and the engine tests them, as the
 * kernel does (fixtures/kernel/76-nft-empty-tcp-match.scn, 77-nft-combined-ports.scn).
 */
import { paramProblem } from '../errors.js';
import type { TcpData } from '../extensions/matches/tcp.js';
import type { UdpData } from '../extensions/matches/udp.js';
import type { PortTest } from '../extensions/util/ports.js';
import type { MatchInstance, Rule } from './rule.js';

type Ports = [number, number];

/**
 * add_nft_tcpudp()'s expressions for one match's ports, in the order it adds them: the 32-bit
 * compare of a single source and destination port of the same sense, else a test per port range
 * that is not 0:65535 (expr_gen_range_cmp16)
 */
function portTests(d: TcpData | UdpData, out: PortTest[]): void {
  const s = d.spts;
  const t = d.dpts;
  if (s[0] && s[0] === s[1] && t[0] && t[0] === t[1] && !!d.invSrc === !!d.invDst) {
    out.push({ t: 'ports', sport: s[0], dport: t[0], inv: !!d.invSrc });
    return;
  }
  if (!isDefault(s)) out.push({ t: 'sport', lo: s[0], hi: s[1], inv: !!d.invSrc });
  if (!isDefault(t)) out.push({ t: 'dport', lo: t[0], hi: t[1], inv: !!d.invDst });
}

/** one stored port test read back into `into` (nft_parse_th_port*): "<= hi" and "> hi" set one bound */
function readBack(into: TcpData | UdpData, which: 'spts' | 'dpts', lo: number, hi: number, inv: boolean): void {
  const was = into[which];
  if (lo === 0 && hi < 0xffff && lo !== hi) {
    into[which] = inv ? [hi + 1, was[1]] : [was[0], hi];
    return;
  }
  into[which] = [lo, hi];
  if (inv) into[which === 'spts' ? 'invSrc' : 'invDst'] = true;
}

function isDefault(r: Ports): boolean {
  return r[0] === 0 && r[1] === 0xffff;
}

function tcpAllZero(d: TcpData): boolean {
  return isDefault(d.spts) && isDefault(d.dpts) && !d.option && !d.flgMask && !d.flgCmp && !d.invSrc && !d.invDst && !d.invFlags && !d.invOption;
}

function udpAllZero(d: UdpData): boolean {
  return isDefault(d.spts) && isDefault(d.dpts) && !d.invSrc && !d.invDst;
}

/** a native tcp or udp match stores at least one expression (a port range other than 0:65535, a flag mask) */
const storesSomething = (d: TcpData | UdpData): boolean => !isDefault(d.spts) || !isDefault(d.dpts) || !!(d as TcpData).flgMask;

/** Rewrites `rule.matches` into the read-back form; throws what iptables-nft throws. */
export function nftRoundTrip(rule: Rule): void {
  // add_iniface()/add_outiface(): a lone "+" matches every interface, so no expression is stored
  // for it and it does not come back (`! -i +` does)
  if (rule.in === '+' && !rule.inInv) delete rule.in;
  if (rule.out === '+' && !rule.outInv) delete rule.out;
  if (!rule.matches.some((m) => m.name === 'tcp' || m.name === 'udp')) return;
  const out: MatchInstance[] = [];
  let tcp: TcpData | undefined;
  let udp: UdpData | undefined;
  // the expressions stored for each (kept in the match when the read-back form says less: saysLess())
  const tcpTests: PortTest[] = [];
  const udpTests: PortTest[] = [];
  for (const m of rule.matches) {
    if (m.name === 'tcp') {
      const d = m.data as TcpData;
      const native = !d.option && !d.invOption && !tcpAllZero(d);
      if (!native) {
        out.push(m);
        continue;
      }
      if (rule.proto !== 6) throw paramProblem("TCP match requires '-p tcp'");
      if (!storesSomething(d)) continue;
      if (!tcp) {
        tcp = { spts: [0, 0xffff], dpts: [0, 0xffff], option: 0, flgMask: 0, flgCmp: 0 };
        out.push({ name: 'tcp', data: tcp });
      }
      merge(tcp, d, tcpTests);
      if (d.flgMask) {
        tcpTests.push({ t: 'flags', mask: d.flgMask, cmp: d.flgCmp, inv: !!d.invFlags });
        tcp.flgMask = d.flgMask;
        tcp.flgCmp = d.flgCmp;
        if (d.invFlags) tcp.invFlags = true;
      }
      continue;
    }
    if (m.name === 'udp') {
      const d = m.data as UdpData;
      if (udpAllZero(d)) {
        out.push(m);
        continue;
      }
      if (rule.proto !== 17) throw paramProblem("UDP match requires '-p udp'");
      if (!storesSomething(d)) continue;
      if (!udp) {
        udp = { spts: [0, 0xffff], dpts: [0, 0xffff] };
        out.push({ name: 'udp', data: udp });
      }
      merge(udp, d, udpTests);
      continue;
    }
    out.push(m);
  }
  if (tcp && saysLess(tcpTests)) tcp.nft = tcpTests;
  if (udp && saysLess(udpTests)) udp.nft = udpTests;
  // (a copy of the right size: the rule is stored, and push leaves room for 17)
  rule.matches = out.slice();
}

/** the read-back form tests less than `tests`: a field tested twice, or the inverted 32-bit compare */
function saysLess(tests: readonly PortTest[]): boolean {
  let sport = 0;
  let dport = 0;
  let flags = 0;
  for (const x of tests) {
    if (x.t === 'ports') {
      if (x.inv) return true;
      sport++;
      dport++;
    } else if (x.t === 'sport') sport++;
    else if (x.t === 'dport') dport++;
    else flags++;
  }
  return sport > 1 || dport > 1 || flags > 1;
}

/** a native match's port tests, stored (`tests`) and read back into `into` */
function merge(into: TcpData | UdpData, d: TcpData | UdpData, tests: PortTest[]): void {
  const from = tests.length;
  portTests(d, tests);
  for (let i = from; i < tests.length; i++) {
    const x = tests[i]!;
    if (x.t === 'ports') {
      readBack(into, 'spts', x.sport, x.sport, x.inv);
      readBack(into, 'dpts', x.dport, x.dport, x.inv);
    } else if (x.t !== 'flags') readBack(into, x.t === 'sport' ? 'spts' : 'dpts', x.lo, x.hi, x.inv);
  }
}
