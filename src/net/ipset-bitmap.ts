/**
 * bitmap:port (the kernel's ip_set_bitmap_port.c and ip_set_bitmap_gen.h, revision 3): a bit per
 * port of the set's range and, for each port, a slot of extensions that stays allocated whether
 * the bit is set or not. So a port deleted (or flushed) and added again without counters takes
 * over the counters its slot still holds (ip_set_init_counter() writes only what the add gives;
 * measured). Members are listed in port order.
 */
import { commentSize, elemLen, type BitmapPortSet, type PortMember } from './ipset.js';

/** sizeof(struct bitmap_port) on x86_64 */
const BITMAP_PORT_STRUCT = 72;

function expired(m: PortMember, now: number): boolean {
  return m.expires !== undefined && m.expires <= now;
}

/** the members a lookup or a listing sees, in port order */
export function livePorts(set: BitmapPortSet, now: number): PortMember[] {
  return set.members.filter((m) => !expired(m, now));
}

function slotOf(set: BitmapPortSet, port: number): number {
  let lo = 0;
  let hi = set.members.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (set.members[mid]!.port < port) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function find(set: BitmapPortSet, port: number): PortMember | undefined {
  const m = set.members[slotOf(set, port)];
  return m?.port === port ? m : undefined;
}

/** the port's slot keeps its counters when its bit goes */
function leave(set: BitmapPortSet, m: PortMember): void {
  if (set.counters) (set.stale ??= {})[m.port] = [m.packets ?? 0, m.bytes ?? 0];
}

/**
 * mtype_add(): 'exists' when the port is in (and not timed out) without `exist`; else its bit set
 * with the extensions the add gives, the counters the slot holds when it gives none
 */
export function addPort(set: BitmapPortSet, m: PortMember, exist: boolean, now: number): 'added' | 'exists' {
  const i = slotOf(set, m.port);
  const old = set.members[i]?.port === m.port ? set.members[i]! : undefined;
  if (old && !expired(old, now) && !exist) return 'exists';
  const held = old ? [old.packets ?? 0, old.bytes ?? 0] : set.stale?.[m.port];
  if (set.counters) {
    m.packets ??= held?.[0] ?? 0;
    m.bytes ??= held?.[1] ?? 0;
  }
  if (set.stale?.[m.port]) delete set.stale[m.port];
  if (old) set.members[i] = m;
  else set.members.splice(i, 0, m);
  return 'added';
}

/** mtype_del(): false when the port is not in (a timed-out one goes all the same) */
export function delPort(set: BitmapPortSet, port: number, now: number): boolean {
  const i = slotOf(set, port);
  const m = set.members[i];
  if (m?.port !== port) return false;
  set.members.splice(i, 1);
  leave(set, m);
  return !expired(m, now);
}

/** mtype_test() */
export function testPort(set: BitmapPortSet, port: number, now: number): PortMember | undefined {
  const m = find(set, port);
  return m && !expired(m, now) ? m : undefined;
}

/** mtype_flush(): the bits cleared, the slots (and their counters) left as they are */
export function flushPorts(set: BitmapPortSet): void {
  for (const m of set.members) leave(set, m);
  set.members = [];
}

/** "Size in memory": the struct, the bitmap in longs, a slot per port of the range, the comments */
export function bitmapMemsize(set: BitmapPortSet): number {
  const elements = set.last - set.first + 1;
  let n = BITMAP_PORT_STRUCT + Math.ceil(elements / 64) * 8 + elements * elemLen(set, 0, 1);
  for (const m of set.members) if (m.comment !== undefined) n += commentSize(m.comment);
  return n;
}
