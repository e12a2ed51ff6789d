/**
 * list:set (the kernel's ip_set_list_set.c, revision 3): a list of other sets, by name, in the
 * order they were put in (appended, or before / after a member), each holding a reference to
 * its set while it is in. A lookup tries the members in turn (./ipset.ts does the members'
 * own). Members whose timeout ran out are passed over, and dropped before the next add or del.
 */
import { commentSize, elemLen, expired, type ListMember, type ListSet } from './ipset.js';

/** IP_SET_LIST_DEFAULT_SIZE and IP_SET_LIST_MIN_SIZE */
const LIST_DEFAULT_SIZE = 8;
const LIST_MIN_SIZE = 4;

/** the size list_set_create() keeps: the default, or at least the minimum */
export function listSize(given: number | undefined): number {
  return given === undefined ? LIST_DEFAULT_SIZE : Math.max(given, LIST_MIN_SIZE);
}

/** the members a lookup or a listing sees */
export function liveMembers(set: ListSet, now: number): ListMember[] {
  return set.members.filter((m) => !expired(m, now));
}

/** set_cleanup_entries(): the timed-out members go (before an add or del) */
export function cleanupList(set: ListSet, now: number): void {
  if (set.timeout !== undefined) set.members = liveMembers(set, now);
}

/**
 * where a member stands against a reference member: `before` > 0 asks for NAME right before REF,
 * < 0 right after it (a reference without a direction means after), 0: anywhere
 */
export interface ListPlace {
  ref?: string;
  before: number;
}

/**
 * list_set_uadd(): 'ref' when the reference member is not in the list, 'exists' when the set is
 * (its extensions written again with `exist`); else the member goes right before or after the
 * reference, or at the end
 */
export function listAdd(set: ListSet, m: ListMember, at: ListPlace, exist: boolean, now: number): 'added' | 'exists' | 'ref' {
  const live = set.members.filter((x) => !expired(x, now));
  const same = live.find((x) => x.name === m.name);
  const ref = at.before !== 0 ? live.find((x) => x.name === at.ref) : undefined;
  if (at.before !== 0 && !ref) return 'ref';
  if (same) {
    if (!exist) return 'exists';
    // the extensions are written again; the counters stay unless the add gives them
    same.expires = m.expires;
    same.comment = m.comment;
    if (m.packets !== undefined) same.packets = m.packets;
    if (m.bytes !== undefined) same.bytes = m.bytes;
    for (const k of ['expires', 'comment'] as const) if (same[k] === undefined) delete same[k];
    return 'added';
  }
  if (!ref) set.members.push(m);
  else set.members.splice(set.members.indexOf(ref) + (at.before > 0 ? 0 : 1), 0, m);
  return 'added';
}

/** the member of that name and its live neighbours, as list_set_udel() and list_set_utest() walk to it */
function locate(set: ListSet, name: string, now: number): { m: ListMember; prev?: ListMember; next?: ListMember } | undefined {
  const live = set.members.filter((x) => !expired(x, now));
  const i = live.findIndex((x) => x.name === name);
  return i < 0 ? undefined : { m: live[i]!, prev: live[i - 1], next: live[i + 1] };
}

/** the place asked for holds: the member's neighbour on that side is the reference */
function placed(found: { prev?: ListMember; next?: ListMember }, at: ListPlace): boolean {
  if (at.before > 0) return found.next?.name === at.ref;
  if (at.before < 0) return found.prev?.name === at.ref;
  return true;
}

/** list_set_udel(): 'ref' when a place is asked for and does not hold, 'missing' when the set is not a member */
export function listDel(set: ListSet, name: string, at: ListPlace, now: number): 'deleted' | 'missing' | 'ref' {
  const found = locate(set, name, now);
  if (!found) return at.before !== 0 ? 'ref' : 'missing';
  if (!placed(found, at)) return 'ref';
  set.members.splice(set.members.indexOf(found.m), 1);
  return 'deleted';
}

/** list_set_utest() */
export function listTest(set: ListSet, name: string, at: ListPlace, now: number): boolean {
  const found = locate(set, name, now);
  return !!found && placed(found, at);
}

/** "Size in memory": struct list_set, a 48-byte element (and its extensions) per member, the comments */
export function listMemsize(set: ListSet): number {
  let n = 80 + set.members.length * elemLen(set, 48, 8);
  for (const m of set.members) if (m.comment !== undefined) n += commentSize(m.comment);
  return n;
}
