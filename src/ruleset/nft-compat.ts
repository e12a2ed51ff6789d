/**
 * What a rule looks like after iptables-nft stored it in nf_tables and read it back. iptables-nft
 * turns tcp and udp port/flag matches into native expressions (nft.c add_nft_tcp/add_nft_udp)
 * and, when listing, rebuilds one tcp (or udp) match from all of them at the place the first one
 * stood (nft-shared.c nft_tcp_match). Port ranges starting at 0 are stored as "<=" / ">"
 * comparisons, so an inverted one comes back as the complementary range. A range of 0:65535 and
 * a flag test with an empty mask store nothing, inverted or not (add_nft_tcpudp), so a match made
 * only of those does not come back at all: `-p tcp -m tcp ! --sport 0:65535` lists as `-p tcp`
 * and matches every TCP packet in the kernel (fixtures/cli/ext-tcp-udp-nft.case). Rules are stored
 * in this read-back form, so -S, -L, -D and the engine see what iptables-nft left in the kernel.
 */
import { paramProblem } from '../errors.js';
import type { TcpData } from '../extensions/matches/tcp.js';
import type { UdpData } from '../extensions/matches/udp.js';
import type { MatchInstance, Rule } from './rule.js';

type Ports = [number, number];

/** expr_gen_range_cmp16() followed by its read-back: the range and inversion nft gives back */
function roundTripRange(range: Ports, invert: boolean): { range: Ports; invert: boolean } {
  const lo = range[0];
  const hi = range[1];
  if (lo === hi) return { range: [lo, hi], invert };
  if (lo === 0 && hi < 0xffff) {
    // stored as "<= hi" or "> hi"
    return invert ? { range: [Math.min(hi + 1, 0xffff), 0xffff], invert: false } : { range: [0, hi], invert: false };
  }
  return { range: [lo, hi], invert };
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
      mergePorts(tcp, d);
      if (d.flgMask) {
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
      mergePorts(udp, d);
      continue;
    }
    out.push(m);
  }
  // (a copy of the right size: the rule is stored, and push leaves room for 17)
  rule.matches = out.slice();
}

function mergePorts(into: TcpData | UdpData, d: TcpData | UdpData): void {
  // a single source and destination port with the same sense are one 32-bit compare
  if (!isDefault(d.spts)) {
    const r = roundTripRange(d.spts, !!d.invSrc);
    into.spts = r.range;
    if (r.invert) into.invSrc = true;
  }
  if (!isDefault(d.dpts)) {
    const r = roundTripRange(d.dpts, !!d.invDst);
    into.dpts = r.range;
    if (r.invert) into.invDst = true;
  }
}
