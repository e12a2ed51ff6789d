/**
 * A host's IP sets (the kernel's ip_set module, as `ipset` 7.17 drives it): the hash types
 * hash:ip, hash:net, hash:ip,port, hash:net,port, hash:ip,port,ip and hash:ip,port,net of family
 * inet and inet6, list:set (./ipset-list.ts) and bitmap:port (./ipset-bitmap.ts), with their
 * timeout, counters and comment extensions. The table is laid out as the kernel lays it out (ip_set_hash_gen.h):
 * elements hashed with jhash2 and the set's initval into 2^bits buckets, a bucket grown two slots
 * at a time, a deleted slot reused by the next add to its bucket, the table doubled when a bucket
 * would pass `bucketsize`; so `ipset list` prints the members in the kernel's order and its "Size
 * in memory" and hashsize are the kernel's (measured: fixtures/cli/ipset*.case).
 *
 * Stored in the lab file as it is (Host.ipsets): plain JSON.
 */
import { ipToString } from './ipv4.js';
import { parseIp6, prefixOf6 } from './ipv6.js';
import { jhash2 } from './jhash.js';
import { protocolByNumber } from './netdb.js';

export type IpSetType = 'hash:ip' | 'hash:net' | 'hash:ip,port' | 'hash:net,port' | 'hash:ip,port,ip' | 'hash:ip,port,net';

/** what a set's extensions keep of a member (every kind of set) */
export interface ElemExt {
  /** lab-clock second the member expires at; absent: permanent (or a set without timeouts) */
  expires?: number;
  packets?: number;
  bytes?: number;
  comment?: string;
}

/** a member whose timeout ran out (the kernel skips it until its garbage collector takes it) */
export function expired(e: ElemExt, now: number): boolean {
  return e.expires !== undefined && e.expires <= now;
}

/**
 * One element. `ip`: the address (family inet), or its inet_ntop() text (inet6, one text per
 * address); `cidr` for the net types (32 or 128 for a host; of `ip2` in hash:ip,port,net),
 * `proto`/`port` for the port types, `ip2` the third dimension's address.
 */
export interface IpSetElem extends ElemExt {
  ip: number | string;
  ip2?: number | string;
  cidr?: number;
  proto?: number;
  /** the port, or an ICMP type << 8 | code */
  port?: number;
  nomatch?: boolean;
}

/**
 * a bucket of the table: its index, the slots allocated, the slots in use so far (null: deleted),
 * and, in a set with counters, the packets and bytes a deleted or timed-out element left in its
 * slot (by slot number): the kernel copies only the element into a reused slot, so an add that
 * gives no counters takes them over
 */
export type IpSetBucket = [index: number, size: number, slots: (IpSetElem | null)[], stale?: Record<number, [number, number]>];

export interface IpSet {
  name: string;
  type: IpSetType;
  /** family inet6 (its elements' addresses are texts); absent: inet */
  family?: 'inet6';
  /** htable_bits: the table has 2^bits buckets (the header's hashsize) */
  bits: number;
  maxelem: number;
  bucketsize: number;
  initval: number;
  /** hash:ip's netmask (absent: the address's length, 32 or 128) */
  netmask?: number;
  /** the default timeout of the set (timeout support); absent: none */
  timeout?: number;
  counters?: boolean;
  comment?: boolean;
  /** the buckets in use (in no particular order) */
  buckets: IpSetBucket[];
  /** the memory the kernel's regions account for the buckets (ext_size); absent: 0 */
  extSize?: number;
}

interface TypeInfo {
  revision: number;
  /** dimensions: 1 (ip or net), 2 (with a port), 3 (and a second address or net) */
  dim: number;
  /** the first dimension is a net */
  net: boolean;
  port: boolean;
  /** the third dimension: an address or a net */
  third?: 'ip' | 'net';
  /** sizeof(struct hash_*4_elem) and sizeof(struct hash_*6_elem) on x86_64 */
  elem: [number, number];
  /**
   * sizeof(struct htype) on x86_64 for inet and inet6 (a net type's includes its nets[] prefix
   * counters, one per prefix length; the struct's `next` element grows with the address)
   */
  htype: [number, number];
}

export const IPSET_TYPES: Record<IpSetType, TypeInfo> = {
  'hash:ip': { revision: 6, dim: 1, net: false, port: false, elem: [4, 16], htype: [168, 176] },
  'hash:net': { revision: 7, dim: 1, net: true, port: false, elem: [8, 20], htype: [408, 1192] },
  'hash:ip,port': { revision: 7, dim: 2, net: false, port: true, elem: [8, 20], htype: [168, 184] },
  'hash:net,port': { revision: 8, dim: 2, net: true, port: true, elem: [8, 20], htype: [408, 1192] },
  'hash:ip,port,ip': { revision: 6, dim: 3, net: false, port: true, third: 'ip', elem: [12, 36], htype: [160, 184] },
  'hash:ip,port,net': { revision: 8, dim: 3, net: false, port: true, third: 'net', elem: [12, 36], htype: [416, 1208] },
};

/** a type with nets (the kernel's nets[] and the nomatch flag): one of its dimensions is a net */
export function hasNets(type: IpSetType): boolean {
  const t = IPSET_TYPES[type];
  return t.net || t.third === 'net';
}

/** a member of a list:set: another set, by name, with the list's extensions */
export interface ListMember extends ElemExt {
  name: string;
}

/** a list:set: sets in the order they were put in (ip_set_list_set.c) */
export interface ListSet {
  name: string;
  type: 'list:set';
  /** the size the header shows (at least 4; the kernel no longer holds the list to it) */
  size: number;
  timeout?: number;
  counters?: boolean;
  comment?: boolean;
  members: ListMember[];
}

/**
 * a member of a bitmap type: its port (bitmap:port) or the first address of its block (bitmap:ip),
 * with the set's extensions
 */
export interface BitmapMember extends ElemExt {
  id: number;
}

interface BitmapBase {
  name: string;
  /** the range: ports, or addresses (numbers) of the first and the last block */
  first: number;
  last: number;
  timeout?: number;
  counters?: boolean;
  comment?: boolean;
  /** the members, in order */
  members: BitmapMember[];
  /** the counters the slots of members no longer in still hold (by id) */
  stale?: Record<number, [number, number]>;
}

/** a bitmap:port: the ports of a range (./ipset-bitmap.ts) */
export interface BitmapPortSet extends BitmapBase {
  type: 'bitmap:port';
}

/** a bitmap:ip: the addresses of a range, or its blocks of a netmask's size (./ipset-bitmap.ts) */
export interface BitmapIpSet extends BitmapBase {
  type: 'bitmap:ip';
  /** the blocks' prefix length (absent: 32, one address each) */
  netmask?: number;
}

export type BitmapSet = BitmapPortSet | BitmapIpSet;

/** bitmap:port or bitmap:ip, by the type's name */
export function isBitmapType(type: string): type is BitmapSet['type'] {
  return type === 'bitmap:port' || type === 'bitmap:ip';
}

/** a set of a bitmap type */
export function isBitmap(set: AnySet): set is BitmapSet {
  return isBitmapType(set.type);
}

/** a set of any modelled type */
export type AnySet = IpSet | ListSet | BitmapSet;

/** the family of a set's elements: inet6 and inet for the hash types, inet for bitmap:ip, none for list:set and bitmap:port */
export function familyOf(set: AnySet): 'inet' | 'inet6' | undefined {
  if (set.type === 'list:set' || set.type === 'bitmap:port') return undefined;
  return set.type !== 'bitmap:ip' && set.family === 'inet6' ? 'inet6' : 'inet';
}

/** the host's set of that name */
export function findIpset(host: { ipsets?: (AnySet | null)[] }, name: string): AnySet | undefined {
  return host.ipsets?.find((s): s is AnySet => s?.name === name);
}

/** 0 for family inet, 1 for inet6: the index of IPSET_TYPES' sizes */
const fam = (set: IpSet): 0 | 1 => (set.family === 'inet6' ? 1 : 0);

/** the length of the set's addresses: 32 or 128 (HOST_MASK) */
export function hostMask(set: IpSet): number {
  return set.family === 'inet6' ? 128 : 32;
}

/** the first `cidr` bits of an address of the set's family (ip_netmask, ip6_netmask) */
export function maskIp(ip: number | string, cidr: number): number | string {
  return typeof ip === 'number' ? (ip & maskOf(cidr)) >>> 0 : prefixOf6(ip, cidr);
}

/** the address as ipset prints it (inet_ntop) */
export function ipText(ip: number | string): string {
  return typeof ip === 'number' ? ipToString(ip) : ip;
}

/** the words jhash2 hashes of an element (the elem struct up to its cidr / nomatch bytes) */
function keyWords(set: IpSet, e: IpSetElem): number[] {
  const t = IPSET_TYPES[set.type];
  // addresses and ports are in network byte order in the kernel's struct: jhash2 reads the bytes
  // as a little-endian machine does (an inet6 address is four such words)
  const ip = ipWords(e.ip);
  const port = ((e.port! >>> 8) & 0xff) | ((e.port! & 0xff) << 8);
  // hash:ip,port,ip: ip, ip2, port, proto, padding; hash:ip,port,net: ip, ip2, port, cidr - 1 (7 bits), proto
  if (t.third === 'ip') return [...ip, ...ipWords(e.ip2!), (port | (e.proto! << 16)) >>> 0];
  if (t.third === 'net') return [...ip, ...ipWords(e.ip2!), (port | (((e.cidr! - 1) & 0x7f) << 16) | (e.proto! << 24)) >>> 0];
  if (!t.net && !t.port) return ip;
  // hash:net: ip, two bytes of padding, nomatch (0 in the key), cidr
  if (t.net && !t.port) return [...ip, (e.cidr! << 24) >>> 0];
  // hash:ip,port: ip, port, proto, padding; hash:net,port: ip, port, proto, cidr - 1 (7 bits)
  if (!t.net) return [...ip, (port | (e.proto! << 16)) >>> 0];
  return [...ip, (port | (e.proto! << 16) | (((e.cidr! - 1) & 0x7f) << 24)) >>> 0];
}

function ipWords(ip: number | string): number[] {
  if (typeof ip === 'number') return [swap32(ip)];
  const w = parseIp6(ip)!;
  return [0, 2, 4, 6].map((i) => swap32(((w[i]! << 16) | w[i + 1]!) >>> 0));
}

function swap32(x: number): number {
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}

function bucketOf(set: IpSet, e: IpSetElem, bits = set.bits): number {
  return (jhash2(keyWords(set, e), set.initval) & ((1 << bits) - 1)) >>> 0;
}

/** the same element (not the extensions) */
function sameElem(a: IpSetElem, b: IpSetElem): boolean {
  return a.ip === b.ip && a.cidr === b.cidr && a.proto === b.proto && a.port === b.port && a.ip2 === b.ip2;
}

/** IPSET_MAX_TIMEOUT: the longest timeout in seconds (the kernel keeps them in jiffies) */
export const IPSET_MAX_TIMEOUT = Math.floor(0x7fffffff / 1000);

const AHASH_INIT_SIZE = 2;
const HTABLE_REGION_BITS = 10;
/** htable_size() fails above this: the table cannot grow and the set is full */
const MAX_HTABLE_BITS = 27;

/** the lock regions of a table of 2^bits buckets (each counts its own elements and memory) */
function regionCount(bits: number): number {
  return bits < HTABLE_REGION_BITS ? 1 : 2 ** (bits - HTABLE_REGION_BITS);
}
function regionOf(bits: number, key: number): number {
  return bits < HTABLE_REGION_BITS ? 0 : Math.floor(key / 2 ** HTABLE_REGION_BITS);
}

/** ext_size(): what the kernel accounts for allocating a bucket of n slots */
function extSize(set: IpSet, n: number): number {
  return 32 + n * dsize(set);
}

/** A set's table as a command works on it: buckets by index, the elements of each region. */
interface View {
  byKey: Map<number, IpSetBucket>;
  elements: number[];
}
const views = new WeakMap<IpSet, View>();

function viewOf(set: IpSet): View {
  let v = views.get(set);
  if (!v) {
    v = { byKey: new Map(), elements: new Array<number>(regionCount(set.bits)).fill(0) };
    for (const b of set.buckets) {
      v.byKey.set(b[0], b);
      for (const x of b[2]) if (x) v.elements[regionOf(set.bits, b[0])]! += 1;
    }
    views.set(set, v);
  }
  return v;
}

function findElem(set: IpSet, e: IpSetElem): IpSetElem | undefined {
  const b = viewOf(set).byKey.get(bucketOf(set, e));
  return b?.[2].find((s): s is IpSetElem => s !== null && sameElem(s, e));
}

function elementCount(set: IpSet): number {
  return viewOf(set).elements.reduce((a, b) => a + b, 0);
}

export type AddResult = 'added' | 'exists' | 'full';

/**
 * mtype_add(): into the element's bucket, in the first deleted or timed-out slot, else after the
 * last used one (the bucket grown by two slots, or the table doubled once the bucket is at
 * `bucketsize`); an element already there is replaced only with `exist` (its extensions rewritten).
 */
export function addElem(set: IpSet, e: IpSetElem, exist: boolean, now: number): AddResult {
  for (;;) {
    const v = viewOf(set);
    const key = bucketOf(set, e);
    const r = regionOf(set.bits, key);
    // each region holds its share of maxelem; past it, the whole set is counted
    const regionFull = v.elements[r]! >= Math.floor(set.maxelem / regionCount(set.bits));
    const full = regionFull && elementCount(set) >= set.maxelem;
    const b = v.byKey.get(key);
    if (!b) {
      if (full) return 'full';
      const nb: IpSetBucket = [key, AHASH_INIT_SIZE, [e]];
      set.buckets.push(nb);
      v.byKey.set(key, nb);
      set.extSize = (set.extSize ?? 0) + extSize(set, AHASH_INIT_SIZE);
      v.elements[r]! += 1;
      return 'added';
    }
    let reuse = -1;
    for (let i = 0; i < b[2].length; i++) {
      const s = b[2][i];
      if (!s) {
        if (reuse < 0) reuse = i;
        continue;
      }
      if (sameElem(s, e)) {
        if (!exist && !expired(s, now)) return 'exists';
        // the extensions are written again; the counters stay unless the add gives them
        e.packets ??= s.packets;
        e.bytes ??= s.bytes;
        b[2][i] = e;
        return 'added';
      }
      if (reuse < 0 && expired(s, now)) reuse = i;
    }
    if (reuse >= 0) {
      const old = b[2][reuse];
      if (!old) v.elements[r]! += 1;
      else if (set.counters) leave(b, reuse, old);
      place(b, reuse, e);
      return 'added';
    }
    if (full) return 'full';
    if (b[2].length >= b[1]) {
      if (b[1] >= set.bucketsize) {
        if (!grow(set, now)) return 'full';
        continue;
      }
      b[1] += AHASH_INIT_SIZE;
      set.extSize = (set.extSize ?? 0) + extSize(set, AHASH_INIT_SIZE);
    }
    b[2].push(null);
    place(b, b[2].length - 1, e);
    v.elements[r]! += 1;
    return 'added';
  }
}

/** an element's counters stay in its slot's memory when it goes */
function leave(b: IpSetBucket, slot: number, e: IpSetElem): void {
  (b[3] ??= {})[slot] = [e.packets ?? 0, e.bytes ?? 0];
}

/** copy_data(): the element into the slot, over the counters a former one left when the add gives none */
function place(b: IpSetBucket, slot: number, e: IpSetElem): void {
  const stale = b[3]?.[slot];
  if (stale) {
    e.packets ??= stale[0];
    e.bytes ??= stale[1];
    delete b[3]![slot];
    if (Object.keys(b[3]!).length === 0) b.length = 3;
  }
  b[2][slot] = e;
}

/**
 * mtype_resize(): a table of twice the buckets (again, while a bucket would pass `bucketsize`),
 * the live elements rehashed in the old table's order; false when it cannot grow any more
 */
function grow(set: IpSet, now: number): boolean {
  const old = [...set.buckets].sort((a, b) => a[0] - b[0]);
  retry: for (let bits = set.bits + 1; bits <= MAX_HTABLE_BITS; bits++) {
    const byKey = new Map<number, IpSetBucket>();
    const buckets: IpSetBucket[] = [];
    let size = 0;
    for (const b of old) {
      for (const s of b[2]) {
        if (!s || expired(s, now)) continue;
        const key = bucketOf(set, s, bits);
        let nb = byKey.get(key);
        if (!nb) {
          nb = [key, AHASH_INIT_SIZE, []];
          byKey.set(key, nb);
          buckets.push(nb);
          size += extSize(set, AHASH_INIT_SIZE);
        } else if (nb[2].length >= nb[1]) {
          if (nb[1] >= set.bucketsize) continue retry;
          nb[1] += AHASH_INIT_SIZE;
          size += extSize(set, AHASH_INIT_SIZE);
        }
        nb[2].push(s);
      }
    }
    set.bits = bits;
    set.buckets = buckets;
    set.extSize = size;
    views.delete(set);
    return true;
  }
  return false;
}

/** mtype_del(): false when the set does not hold the element (or it timed out) */
export function delElem(set: IpSet, e: IpSetElem, now: number): boolean {
  const v = viewOf(set);
  const key = bucketOf(set, e);
  const b = v.byKey.get(key);
  if (!b) return false;
  const slots = b[2];
  let holes = 0;
  for (let i = 0; i < slots.length; i++) {
    const s = slots[i];
    if (!s) {
      holes++;
      continue;
    }
    if (!sameElem(s, e)) continue;
    if (expired(s, now)) return false;
    slots[i] = null;
    if (set.counters) leave(b, i, s);
    if (i + 1 === slots.length) slots.pop();
    v.elements[regionOf(set.bits, key)]! -= 1;
    for (let j = i; j < slots.length; j++) if (!slots[j]) holes++;
    if (holes === slots.length) {
      // every slot empty: the bucket is freed (the kernel takes back one bucket's accounting)
      set.extSize = (set.extSize ?? 0) - extSize(set, b[1]);
      set.buckets.splice(set.buckets.indexOf(b), 1);
      v.byKey.delete(key);
    } else if (holes >= AHASH_INIT_SIZE) {
      // made again two slots smaller, its elements packed (fresh memory: no counters left behind)
      b[2] = slots.filter((x) => x !== null);
      b[1] -= AHASH_INIT_SIZE;
      b.length = 3;
      set.extSize = (set.extSize ?? 0) - extSize(set, AHASH_INIT_SIZE);
    }
    return true;
  }
  return false;
}

/** mtype_flush(): no buckets, no memory accounted for them */
export function flushSet(set: IpSet): void {
  set.buckets = [];
  set.extSize = 0;
  views.delete(set);
}

/** the members in the kernel's order (mtype_list: bucket by bucket, slot by slot), timed-out ones left out */
export function members(set: IpSet, now: number): IpSetElem[] {
  const out: IpSetElem[] = [];
  for (const b of [...set.buckets].sort((x, y) => x[0] - y[0])) for (const s of b[2]) if (s && !expired(s, now)) out.push(s);
  return out;
}

/** the prefix lengths the set holds, longest first (the kernel's nets[] of a net type) */
export function cidrsOf(set: IpSet, now: number): number[] {
  const seen = new Set<number>();
  for (const e of members(set, now)) seen.add(e.cidr!);
  return [...seen].sort((a, b) => b - a);
}

/**
 * mtype_test() of a lookup: the element itself, or for a host address of a net type the most
 * specific net holding it. 1: a member, 'nomatch': a nomatch member, 0: none.
 */
export function testElem(set: IpSet, e: IpSetElem, now: number): { found?: IpSetElem; nomatch: boolean } {
  const t = IPSET_TYPES[set.type];
  if (hasNets(set.type) && e.cidr === hostMask(set)) {
    for (const cidr of cidrsOf(set, now)) {
      const m = findElem(set, t.third === 'net' ? { ...e, ip2: maskIp(e.ip2!, cidr), cidr } : { ...e, ip: maskIp(e.ip, cidr), cidr });
      if (m && !expired(m, now)) return { found: m, nomatch: !!m.nomatch };
    }
    return { nomatch: false };
  }
  const m = findElem(set, e);
  if (!m || expired(m, now)) return { nomatch: false };
  return { found: m, nomatch: !!m.nomatch };
}

export function maskOf(cidr: number): number {
  return cidr === 0 ? 0 : (0xffffffff << (32 - cidr)) >>> 0;
}

/** ip_set_elem_len(): the element with its extensions (counters, timeout, comment pointer), aligned */
function dsize(set: IpSet): number {
  return elemLen(set, IPSET_TYPES[set.type].elem[fam(set)], 4);
}

/** ip_set_elem_len() of an element of `len` bytes aligned to `a` */
export function elemLen(set: { counters?: boolean; timeout?: number; comment?: boolean }, len: number, a: number): number {
  const align = (x: number, n: number): number => Math.ceil(x / n) * n;
  for (const [on, size] of [[set.counters, 16], [set.timeout !== undefined, 8], [set.comment, 8]] as const) {
    if (!on) continue;
    a = 8;
    len = align(len, 8) + size;
  }
  return align(len, a);
}

/**
 * "Size in memory" (mtype_head): struct htype, struct htable and its lock regions, what the
 * regions account for their buckets (ext_size: a bucket's 32-byte head and slots at each
 * allocation and growth, which a freed bucket gives back only once) and every comment string (an
 * rcu head, the text, its NUL)
 */
export function memsize(set: IpSet): number {
  let n = IPSET_TYPES[set.type].htype[fam(set)] + 24 + 24 * regionCount(set.bits) + (set.extSize ?? 0);
  for (const b of set.buckets) for (const e of b[2]) if (e?.comment !== undefined) n += commentSize(e.comment);
  return n;
}

/** what a comment costs the set (ip_set_init_comment: an rcu head, the text, its NUL) */
export function commentSize(comment: string): number {
  return 16 + Buffer.byteLength(comment) + 1;
}

/** ipset's ICMP type/code names (lib/icmp.c), in its order: the first of a value is the one printed */
export const ICMP_NAMES: [string, number][] = [
  ['echo-reply', 0x0000],
  ['pong', 0x0000],
  ['network-unreachable', 0x0300],
  ['host-unreachable', 0x0301],
  ['protocol-unreachable', 0x0302],
  ['port-unreachable', 0x0303],
  ['fragmentation-needed', 0x0304],
  ['source-route-failed', 0x0305],
  ['network-unknown', 0x0306],
  ['host-unknown', 0x0307],
  ['network-prohibited', 0x0309],
  ['host-prohibited', 0x030a],
  ['TOS-network-unreachable', 0x030b],
  ['TOS-host-unreachable', 0x030c],
  ['communication-prohibited', 0x030d],
  ['host-precedence-violation', 0x030e],
  ['precedence-cutoff', 0x030f],
  ['source-quench', 0x0400],
  ['network-redirect', 0x0500],
  ['host-redirect', 0x0501],
  ['TOS-network-redirect', 0x0502],
  ['TOS-host-redirect', 0x0503],
  ['echo-request', 0x0800],
  ['ping', 0x0800],
  ['router-advertisement', 0x0900],
  ['router-solicitation', 0x0a00],
  ['ttl-zero-during-transit', 0x0b00],
  ['ttl-zero-during-reassembly', 0x0b01],
  ['ip-header-bad', 0x0c00],
  ['required-option-missing', 0x0c01],
  ['timestamp-request', 0x0d00],
  ['timestamp-reply', 0x0e00],
  ['address-mask-request', 0x1100],
  ['address-mask-reply', 0x1200],
];

/** ipset's ICMPv6 type/code names (lib/icmpv6.c), in its order */
export const ICMPV6_NAMES: [string, number][] = [
  ['no-route', 0x0100],
  ['communication-prohibited', 0x0101],
  ['address-unreachable', 0x0103],
  ['port-unreachable', 0x0104],
  ['packet-too-big', 0x0200],
  ['ttl-zero-during-transit', 0x0300],
  ['ttl-zero-during-reassembly', 0x0301],
  ['bad-header', 0x0400],
  ['unknown-header-type', 0x0401],
  ['unknown-option', 0x0402],
  ['echo-request', 0x8000],
  ['ping', 0x8000],
  ['echo-reply', 0x8100],
  ['pong', 0x8100],
  ['router-solicitation', 0x8500],
  ['router-advertisement', 0x8600],
  ['neighbour-solicitation', 0x8700],
  ['neigbour-solicitation', 0x8700],
  ['neighbour-advertisement', 0x8800],
  ['neigbour-advertisement', 0x8800],
  ['redirect', 0x8900],
];

/**
 * [PROTO:]PORT as ipset prints it: an ICMP or ICMPv6 name or TYPE/CODE (the protocol's name is
 * the services database's: ipv6-icmp), else the protocol's name and the port
 */
export function portText(proto: number, port: number): string {
  const names = proto === 1 ? ICMP_NAMES : proto === 58 ? ICMPV6_NAMES : undefined;
  if (names) {
    const named = names.find(([, v]) => v === port);
    return `${protocolByNumber(proto)}:${named ? named[0] : `${port >> 8}/${port & 0xff}`}`;
  }
  return `${protocolByNumber(proto) ?? proto}:${port}`;
}

/** an element without its extensions, as `ipset list` prints it (a net type's host without /32 or /128) */
export function elemKeyText(set: IpSet, e: IpSetElem): string {
  const t = IPSET_TYPES[set.type];
  let s = ipText(e.ip);
  if (t.net && e.cidr !== hostMask(set)) s += `/${e.cidr}`;
  if (t.port) s += `,${portText(e.proto!, e.port!)}`;
  if (t.third) s += `,${ipText(e.ip2!)}${t.third === 'net' && e.cidr !== hostMask(set) ? `/${e.cidr}` : ''}`;
  return s;
}
