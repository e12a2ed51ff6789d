/**
 * IPv4 addresses as libxtables parses and prints them (xtables_ipparse_multiple,
 * xtables_numeric_to_ipaddr, xtables_ipmask_to_numeric, ...). Addresses are unsigned 32-bit
 * numbers in host order.
 */
import { paramProblem } from '../errors.js';
import { parseUint, strtoumax } from '../util/strtoul.js';
import { addrToHost, hostToAddrs, networkByAddr, networkByName } from './netdb.js';

export type Ip4 = number;

/** INADDR_LOOPBACK, 127.0.0.1 */
export const LOOPBACK: Ip4 = 0x7f000001;

export function ipToString(a: Ip4): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** Strict dotted quad (for lab files, trace packets): undefined when not a.b.c.d */
export function parseDotted(s: string): Ip4 | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const b = m.slice(1).map(Number);
  if (b.some((x) => x > 255)) return undefined;
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

export function prefixToMask(bits: number): Ip4 {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

/** xtables_ipmask_to_cidr(): -1 when the mask is not contiguous */
export function maskToCidr(mask: Ip4): number {
  for (let i = 32; i >= 0; i--) if (prefixToMask(i) === mask >>> 0) return i;
  return -1;
}

/**
 * __numeric_to_ipaddr(): dotted numbers, each byte parsed with base 0; as an address (not a mask)
 * missing trailing bytes are zero ("10" is 10.0.0.0, "10.1" is 10.1.0.0).
 */
export function numericToIp(dotted: string, isMask = false): Ip4 | undefined {
  const plain = plainDotted(dotted, isMask);
  return plain === NOT_PLAIN ? readDotted(dotted, isMask) : plain;
}

/** numericToIp() for any spelling (exported for the test that holds the quick path to it) */
export function readDotted(dotted: string, isMask: boolean): Ip4 | undefined {
  const buf = dotted.slice(0, 19);
  const bytes = [0, 0, 0, 0];
  let p = buf;
  for (let i = 0; i < 3; i++) {
    const q = p.indexOf('.');
    if (q < 0) {
      if (isMask) return undefined;
      const v = parseUint(p, 0, 255);
      if (v === undefined) return undefined;
      bytes[i] = v;
      return ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
    }
    const v = parseUint(p.slice(0, q), 0, 255);
    if (v === undefined) return undefined;
    bytes[i] = v;
    p = p.slice(q + 1);
  }
  const v = parseUint(p, 0, 255);
  if (v === undefined) return undefined;
  bytes[3] = v;
  return ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
}

const NOT_PLAIN = -1;

/**
 * numericToIp() of the usual spelling (one to four decimal parts without leading zeros, each at
 * most 255, no blanks or signs) without cutting the text into pieces: every rule's addresses and
 * masks come through here. NOT_PLAIN when the text is spelt otherwise (the general reader decides).
 */
function plainDotted(s: string, isMask: boolean): Ip4 | undefined | typeof NOT_PLAIN {
  const n = s.length;
  if (n === 0 || n > 19) return NOT_PLAIN;
  let v = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? s.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (digits === 0 || parts === 4) return NOT_PLAIN;
      v = v * 256 + part;
      parts++;
      part = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39 && !(digits === 1 && part === 0)) {
      part = part * 10 + (c - 0x30);
      if (part > 255) return NOT_PLAIN;
      digits++;
    } else return NOT_PLAIN;
  }
  // missing trailing parts are zero for an address ("10.1" is 10.1.0.0); a mask needs all four
  if (parts < 4) return isMask ? undefined : (v * 256 ** (4 - parts)) >>> 0;
  return v >>> 0;
}

/** glibc inet_pton(AF_INET): exactly four decimal parts, no leading zeros, each at most 255 */
export function inetPton4(s: string): Ip4 | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = v * 256 + n;
  }
  return v >>> 0;
}

/** inet_aton(): what getaddrinfo() accepts as a numeric host ("127.1", "0x7f000001"). */
export function inetAton(s: string): Ip4 | undefined {
  const parts = s.split('.');
  if (parts.length > 4 || parts.some((x) => x === '')) return undefined;
  const nums: number[] = [];
  for (const part of parts) {
    if (!/^[0-9xXa-fA-F]+$/.test(part)) return undefined;
    const r = strtoumax(part, 0);
    if (r.end !== part.length || r.overflow || r.value > 0xffffffffn) return undefined;
    nums.push(Number(r.value));
  }
  const last = nums.pop()!;
  const lastMax = [0xffffffff, 0xffffff, 0xffff, 0xff][nums.length]!;
  if (last > lastMax || nums.some((n) => n > 255)) return undefined;
  let v = 0;
  nums.forEach((n, i) => (v |= n << (24 - 8 * i)));
  return (v | last) >>> 0;
}

/** getnetbyname() then getaddrinfo() (hosts file, numeric forms): the non-numeric fallbacks. */
function hostOrNetwork(name: string): Ip4[] | undefined {
  const numeric = numericToIp(name);
  if (numeric !== undefined) return [numeric];
  const net = networkByName(name);
  if (net !== undefined) return [numericToIp(net)!];
  const aton = inetAton(name);
  if (aton !== undefined) return [aton];
  const hosts = hostToAddrs(name);
  if (hosts.length) return hosts.map((h) => parseDotted(h)!);
  return undefined;
}

/** parse_ipmask(): dotted mask or prefix length (base 0); no mask = /32 */
function parseIpMask(mask: string | undefined): Ip4 {
  if (mask === undefined) return 0xffffffff;
  const dotted = numericToIp(mask, true);
  if (dotted !== undefined) return dotted;
  const bits = parseUint(mask, 0, 32);
  if (bits === undefined) throw paramProblem(`invalid mask \`${mask}' specified`);
  return prefixToMask(bits);
}

export interface AddrMask {
  addr: Ip4;
  mask: Ip4;
}

/** xtables_ipparse_multiple(): "a[/m][,b[/m]...]", each name may expand to several addresses. */
export function ipParseMultiple(spec: string): AddrMask[] {
  const out: AddrMask[] = [];
  // (split and replace only when there is something to split or strip: this runs for every rule)
  const items = spec.indexOf(',') < 0 ? [spec] : spec.split(',');
  for (let raw of items) {
    const c0 = raw.charCodeAt(0);
    if (c0 === 0x20 || (c0 >= 0x09 && c0 <= 0x0d)) raw = raw.replace(/^[ \t\n\v\f\r]+/, '');
    if (raw.length > 255) throw paramProblem('Hostname too long');
    const slash = raw.lastIndexOf('/');
    let name = slash >= 0 ? raw.slice(0, slash) : raw;
    const mask = parseIpMask(slash >= 0 ? raw.slice(slash + 1) : undefined);
    if (mask === 0) name = '0.0.0.0';
    const addrs = hostOrNetwork(name);
    if (!addrs) throw paramProblem(`host/network \`${name}' not found`);
    for (const a of addrs) out.push({ addr: (a & mask) >>> 0, mask });
  }
  return out;
}

/**
 * xtables_ipparse_any(): one "name[/mask]" that may resolve to several addresses,
 * de-duplicated after masking (used by iprange-less extensions such as NETMAP and policy).
 */
export function ipParseAny(spec: string): AddrMask[] {
  const slash = spec.lastIndexOf('/');
  let name = slash >= 0 ? spec.slice(0, slash) : spec;
  const mask = parseIpMask(slash >= 0 ? spec.slice(slash + 1) : undefined);
  if (mask === 0) name = '0.0.0.0';
  const addrs = hostOrNetwork(name);
  if (!addrs) throw paramProblem(`host/network \`${name}' not found`);
  const seen = new Set<number>();
  const out: AddrMask[] = [];
  for (const a of addrs) {
    const m = (a & mask) >>> 0;
    if (!seen.has(m)) {
      seen.add(m);
      out.push({ addr: m, mask });
    }
  }
  return out;
}

/** xtables_ipmask_to_numeric(): "" for /32, "/N" for CIDR masks, "/a.b.c.d" otherwise */
export function maskToNumericSuffix(mask: Ip4): string {
  const cidr = maskToCidr(mask);
  if (cidr === -1) return `/${ipToString(mask)}`;
  if (cidr === 32) return '';
  return `/${cidr}`;
}

/** mask_to_str() used by save: "32", "N", or the dotted mask */
export function maskToSaveString(mask: Ip4): string {
  const cidr = maskToCidr(mask);
  return cidr === -1 ? ipToString(mask) : String(cidr);
}

/**
 * xtables_ipaddr_to_anyname(): the hosts file name, else the networks file name (whatever the
 * mask: `loopback/8`, measured: fixtures/cli/list-netnames.case), else the number
 */
export function ipToAnyName(a: Ip4): string {
  const dotted = ipToString(a);
  return addrToHost(dotted) ?? networkByAddr(dotted) ?? dotted;
}

/** ipv4_addr_to_string() for -L: "anywhere" for a zero mask unless numeric */
export function addrToListString(a: AddrMask, numeric: boolean): string {
  if (a.mask === 0 && !numeric) return 'anywhere';
  return (numeric ? ipToString(a.addr) : ipToAnyName(a.addr)) + maskToNumericSuffix(a.mask);
}

/** Is `ip` inside addr/mask? */
export function inPrefix(ip: Ip4, a: AddrMask): boolean {
  return ((ip & a.mask) >>> 0) === a.addr >>> 0;
}
