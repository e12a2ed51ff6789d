/**
 * IPv6 addresses as ip6tables parses and prints them: glibc's inet_pton()/inet_ntop() and
 * libxtables' xtables_ip6parse_multiple(), ip6parse_mask(), xtables_ip6mask_to_numeric(). The lab
 * routes IPv4 only; these serve the rules ip6tables keeps.
 *
 * A rule stores an address as its inet_ntop() text (unique for each address) and its mask as a
 * prefix length, or as inet_ntop() text when the mask is not contiguous (`-s 2001::/ffff:0:ffff::`).
 */
import { paramProblem } from '../errors.js';
import { parseUint } from '../util/strtoul.js';
import { inetPton4 } from './ipv4.js';

/** eight 16-bit words, most significant first */
export type Ip6 = number[];

export interface Addr6Mask {
  addr: string;
  mask: number | string;
}

/** ::/0, what a rule without -s / -d holds */
export const ANY6: Addr6Mask = { addr: '::', mask: 0 };

/** glibc inet_pton(AF_INET6): undefined when `s` is not an IPv6 address */
export function parseIp6(s: string): Ip6 | undefined {
  const words: number[] = [];
  let colon = -1; // index in words where "::" stands
  let i = 0;
  if (s.startsWith(':')) {
    if (s[1] !== ':') return undefined;
    i = 1;
  }
  let tokStart = i;
  let digits = 0;
  let val = 0;
  for (; i < s.length; i++) {
    const c = s[i]!;
    const hex = parseInt(c, 16);
    if (!Number.isNaN(hex) && /[0-9a-fA-F]/.test(c)) {
      if (++digits > 4) return undefined;
      val = (val << 4) | hex;
      continue;
    }
    if (c === ':') {
      tokStart = i + 1;
      if (!digits) {
        if (colon >= 0) return undefined;
        colon = words.length;
        continue;
      }
      if (i + 1 >= s.length) return undefined;
      if (words.length >= 8) return undefined;
      words.push(val);
      digits = 0;
      val = 0;
      continue;
    }
    if (c === '.' && words.length <= 6) {
      const v4 = inetPton4(s.slice(tokStart));
      if (v4 === undefined) return undefined;
      words.push(v4 >>> 16, v4 & 0xffff);
      digits = 0;
      i = s.length;
      break;
    }
    return undefined;
  }
  if (digits) {
    if (words.length >= 8) return undefined;
    words.push(val);
  }
  if (colon >= 0) {
    if (words.length >= 8) return undefined;
    const tail = words.splice(colon);
    while (words.length + tail.length < 8) words.push(0);
    words.push(...tail);
  }
  return words.length === 8 ? words : undefined;
}

/** glibc inet_ntop(AF_INET6): the longest run of two or more zero words (the first of equals) becomes "::" */
export function formatIp6(w: Ip6): string {
  let best = -1;
  let bestLen = 0;
  let cur = -1;
  let curLen = 0;
  for (let i = 0; i <= 8; i++) {
    if (i < 8 && w[i] === 0) {
      if (cur < 0) {
        cur = i;
        curLen = 1;
      } else curLen++;
    } else if (cur >= 0) {
      if (best < 0 || curLen > bestLen) {
        best = cur;
        bestLen = curLen;
      }
      cur = -1;
    }
  }
  if (bestLen < 2) best = -1;
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (best >= 0 && i >= best && i < best + bestLen) {
      if (i === best) s += ':';
      continue;
    }
    if (i !== 0) s += ':';
    // an IPv4-compatible (::a.b.c.d) or IPv4-mapped (::ffff:a.b.c.d) address ends in dotted quad
    if (i === 6 && best === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
      s += `${w[6]! >> 8}.${w[6]! & 255}.${w[7]! >> 8}.${w[7]! & 255}`;
      return s;
    }
    s += w[i]!.toString(16);
  }
  if (best >= 0 && best + bestLen === 8) s += ':';
  return s;
}

function prefixWords(bits: number): Ip6 {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) {
    const b = Math.max(0, Math.min(16, bits - 16 * i));
    w.push(b === 0 ? 0 : (0xffff << (16 - b)) & 0xffff);
  }
  return w;
}

/** the prefix of `bits` bits of an address in inet_ntop() text, as inet_ntop() writes it */
export function prefixOf6(addr: string, bits: number): string {
  const m = prefixWords(bits);
  return formatIp6(parseIp6(addr)!.map((x, i) => x & m[i]!));
}

/** xtables_ip6mask_to_cidr(): -1 when the mask is not contiguous */
export function maskToCidr6(m: Ip6): number {
  let bits = 0;
  let i = 0;
  for (; i < 8 && m[i] === 0xffff; i++) bits += 16;
  if (i < 8) {
    const v = m[i]!;
    let b = 0;
    while (b < 16 && v & (0x8000 >> b)) b++;
    if (((0xffff << (16 - b)) & 0xffff) !== v) return -1;
    bits += b;
    for (i++; i < 8; i++) if (m[i] !== 0) return -1;
  }
  return bits;
}

/** ip6parse_mask(): no mask = /128; an address; or a prefix length 0-128 (base 0) */
function parseMask6(mask: string | undefined): Ip6 {
  if (mask === undefined) return prefixWords(128);
  const a = parseIp6(mask);
  if (a) return a;
  const bits = parseUint(mask, 0, 128);
  if (bits === undefined) throw paramProblem(`invalid mask \`${mask}' specified`);
  return prefixWords(bits);
}

/**
 * xtables_ip6parse_multiple(): "a[/m][,b[/m]...]". Names would go to getaddrinfo(AF_INET6); the
 * lab has no IPv6 hosts, and in a namespace on this machine no name resolved (measured:
 * localhost, ip6-localhost, 6bone.net), so only numeric addresses are found.
 */
export function ip6ParseMultiple(spec: string): Addr6Mask[] {
  const out: Addr6Mask[] = [];
  for (const raw of spec.split(',')) {
    if (raw.length > 255) throw paramProblem('Hostname too long');
    const slash = raw.indexOf('/');
    let name = slash >= 0 ? raw.slice(0, slash) : raw;
    const m = parseMask6(slash >= 0 ? raw.slice(slash + 1) : undefined);
    // a null mask ignores the name, as in "any/0"
    if (m.every((x) => x === 0)) name = '::';
    const a = parseIp6(name);
    if (!a) throw paramProblem(`host/network \`${name}' not found`);
    const cidr = maskToCidr6(m);
    out.push({ addr: formatIp6(a.map((x, i) => x & m[i]!)), mask: cidr >= 0 ? cidr : formatIp6(m) });
  }
  return out;
}

/** -L: "anywhere" for ::/0 unless numeric; the address, then "" for /128, "/N", or "/mask" */
export function addr6ToListString(a: Addr6Mask, numeric: boolean): string {
  if (a.mask === 0 && !numeric) return 'anywhere';
  // (xtables_ip6addr_to_anyname: a reverse lookup, which finds nothing in the lab)
  return a.addr + (a.mask === 128 ? '' : `/${a.mask}`);
}
