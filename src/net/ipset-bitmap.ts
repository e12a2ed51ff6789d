/**
 * bitmap:port and bitmap:ip (the kernel's ip_set_bitmap_port.c, ip_set_bitmap_ip.c and
 * ip_set_bitmap_gen.h, revision 3): a bit per port, address or netmask-sized block of the set's
 * range and, for each, a slot of extensions that stays allocated whether the bit is set or not.
 * So a member deleted (or flushed) and added again without counters takes over the counters its
 * slot still holds (ip_set_init_counter() writes only what the add gives; measured). Members are
 * listed in order. A member's id is its port, or the first address of its block.
 */
import { commentSize, elemLen, expired, maskOf, type BitmapMember, type BitmapSet } from './ipset.js';

/** sizeof(struct bitmap_port) and sizeof(struct bitmap_ip) on x86_64 */
const STRUCT_SIZE = { 'bitmap:port': 72, 'bitmap:ip': 88 };

/** IPSET_BITMAP_MAX_RANGE + 1: the most bits a bitmap set may have */
export const BITMAP_MAX_ELEMENTS = 65536;

/** the members a lookup or a listing sees, in order */
export function liveBits(set: BitmapSet, now: number): BitmapMember[] {
  return set.members.filter((m) => !expired(m, now));
}

/** bitmap:ip's hosts per bit: 2^(32 - netmask) */
export function hostsOf(set: BitmapSet): number {
  return set.type === 'bitmap:ip' ? 2 ** (32 - (set.netmask ?? 32)) : 1;
}

/** the id of a port, or of the block an address is in */
export function idOf(set: BitmapSet, value: number): number {
  return set.type === 'bitmap:ip' ? (value & maskOf(set.netmask ?? 32)) >>> 0 : value;
}

function slotOf(set: BitmapSet, id: number): number {
  let lo = 0;
  let hi = set.members.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (set.members[mid]!.id < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** the member's slot keeps its counters when its bit goes */
function leave(set: BitmapSet, m: BitmapMember): void {
  if (set.counters) (set.stale ??= {})[m.id] = [m.packets ?? 0, m.bytes ?? 0];
}

/**
 * mtype_add(): 'exists' when the member is in (and not timed out) without `exist`; else its bit
 * set with the extensions the add gives, the counters the slot holds when it gives none
 */
export function addBit(set: BitmapSet, m: BitmapMember, exist: boolean, now: number): 'added' | 'exists' {
  const i = slotOf(set, m.id);
  const old = set.members[i]?.id === m.id ? set.members[i]! : undefined;
  if (old && !expired(old, now) && !exist) return 'exists';
  const held = old ? [old.packets ?? 0, old.bytes ?? 0] : set.stale?.[m.id];
  if (set.counters) {
    m.packets ??= held?.[0] ?? 0;
    m.bytes ??= held?.[1] ?? 0;
  }
  if (set.stale?.[m.id]) delete set.stale[m.id];
  if (old) set.members[i] = m;
  else set.members.splice(i, 0, m);
  return 'added';
}

/** mtype_del(): false when the member is not in (a timed-out one goes all the same) */
export function delBit(set: BitmapSet, id: number, now: number): boolean {
  const i = slotOf(set, id);
  const m = set.members[i];
  if (m?.id !== id) return false;
  set.members.splice(i, 1);
  leave(set, m);
  return !expired(m, now);
}

/** mtype_test() */
export function testBit(set: BitmapSet, id: number, now: number): BitmapMember | undefined {
  const m = set.members[slotOf(set, id)];
  return m?.id === id && !expired(m, now) ? m : undefined;
}

/** mtype_flush(): the bits cleared, the slots (and their counters) left as they are */
export function flushBits(set: BitmapSet): void {
  for (const m of set.members) leave(set, m);
  set.members = [];
}

/**
 * the bits of the map: a port or address each, or for a bitmap:ip with a netmask the blocks of the
 * range's prefix (which may reach past the range's last address)
 */
export function bitsOf(set: BitmapSet): number {
  if (set.type === 'bitmap:ip' && set.netmask !== undefined) return 2 ** (set.netmask - rangeToMask(set.first, set.last).bits);
  return set.last - set.first + 1;
}

/** "Size in memory": the struct, the bitmap in longs, a slot per bit, the comments */
export function bitmapMemsize(set: BitmapSet): number {
  const elements = bitsOf(set);
  let n = STRUCT_SIZE[set.type] + Math.ceil(elements / 64) * 8 + elements * elemLen(set, 0, 1);
  for (const m of set.members) if (m.comment !== undefined) n += commentSize(m.comment);
  return n;
}

/**
 * range_to_mask(): the prefix of `from` that reaches `to`, and its length (bitmap_ip_create()
 * refuses a netmask range that is no such prefix)
 */
export function rangeToMask(from: number, to: number): { mask: number; bits: number } {
  let mask = 0xfffffffe;
  let bits = 32;
  while (--bits > 0 && mask && ((to & mask) >>> 0) !== from) mask = (mask << 1) >>> 0;
  return { mask, bits };
}
