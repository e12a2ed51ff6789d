/**
 * conntrack -G (get one entry by its tuple), and the commands that change a host's connection
 * tracking table: -I and -A (create one), -U (update the entries the filters select), -D and -F;
 * as conntrack-tools 1.4.7 and the kernel's ctnetlink do them (measured:
 * fixtures/kernel/125-conntrack-change.scn, 126-conntrack-save-load.scn):
 * - a request names zone 0 (-w is for -I only): -G finds an entry of zone 0 by its original or its
 *   reply tuple, then shows it only if the options, read as filters, select it; -U's change of an
 *   entry of another zone goes to the zone 0 entry of the same tuple, or fails with ENOENT;
 * - -I and -A: a tuple already taken in its zone is EEXIST (-A counts 0 and succeeds); --src-nat and
 *   --dst-nat set the NAT binding up (both NAT manipulations are then decided); without them none
 *   is, and the nat table sees the entry's new packets but cannot bind a confirmed connection;
 * - -U: without an address or -f, the request has no family and the kernel refuses it
 *   (EOPNOTSUPP); an entry the change leaves as it was is not sent; a NAT address cannot be changed
 *   (EOPNOTSUPP), EXPECTED cannot be set (EBUSY); the kernel applies the timeout, then the status,
 *   the TCP state and the mark, and stops at the first refusal; OFFLOAD and HW_OFFLOAD are taken and
 *   ignored;
 * - the entry printed by -G and -U says use=2 (the request holds it).
 * Known difference: conntrack-tools 1.4.7 prints only some of the entries a -U updates when it
 * updates several (its replies get out of step with its requests); the emulator prints each.
 */
import type { ConntrackEntry, Host } from '../../net/lab.js';
import { ipToString } from '../../net/ipv4.js';
import { hostOf, readOnly, type CliContext } from '../context.js';
import type { Io } from '../io.js';
import {
  entryLine,
  fail,
  icmpInvalid,
  liveEntries,
  selects,
  STATUS,
  statusBits,
  tcpStateName,
  tupleSelects,
  VERSION,
  type Filter,
  type Parsed,
} from './conntrack-args.js';

type Tuple = ConntrackEntry['orig'];

/** the longest timeout the kernel keeps: INT_MAX jiffies at this kernel's HZ of 250 (measured: -t 4294967295 lists 8589934) */
const MAX_TIMEOUT = 8589934;

const failed = (what: string): never => fail(`Operation failed: ${what}`, 1);
const same = (a: Tuple, b: Tuple): boolean => a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3];
const inverse = (t: Tuple): Tuple => [t[1], t[0], t[3], t[2]];
const hasPorts = (proto: number | undefined): boolean => proto === 6 || proto === 17;

/** the live entry of `zone` whose original or reply tuple is `t` (nf_conntrack_find_get) */
function lookup(entries: ConntrackEntry[], proto: number, zone: number, t: Tuple, direction?: 'orig' | 'reply'): ConntrackEntry | undefined {
  return entries.find((e) => e.proto === proto && e.zone === zone && ((direction !== 'reply' && same(e.orig, t)) || (direction !== 'orig' && same(e.reply, t))));
}

/** -s -d (and the ports, or the ICMP id) as a tuple; -r -q (and the reply ports) as another */
function origTuple(f: Filter): Tuple | undefined {
  if (!f.src || !f.dst) return undefined;
  const p = f.port;
  if (f.proto === 1) return [ipToString(f.src[0]), ipToString(f.dst[0]), Number(p.icmpId ?? 0), Number(p.icmpId ?? 0)];
  if (!hasPorts(f.proto)) return [ipToString(f.src[0]), ipToString(f.dst[0]), 0, 0];
  if (p.sport === undefined || p.dport === undefined) return failed('invalid parameters');
  return [ipToString(f.src[0]), ipToString(f.dst[0]), Number(p.sport), Number(p.dport)];
}

/**
 * -r and -q (either) make a reply tuple, what is not given in it 0 (libnetfilter_conntrack sends
 * every field); a TCP, UDP or ICMP one has its protocol only if one of the protocol's options came
 * after them, else the kernel refuses it (measured both ways; the generic protocol's is taken)
 */
function replyTuple(f: Filter): Tuple | undefined {
  if (f.replySrc === undefined && f.replyDst === undefined) return undefined;
  if (!f.replyL4 && (hasPorts(f.proto) || f.proto === 1)) return failed('invalid parameters');
  const p = f.port;
  const ends = [ipToString(f.replySrc ?? 0), ipToString(f.replyDst ?? 0)] as const;
  if (f.proto === 1) return [...ends, Number(p.icmpId ?? 0), Number(p.icmpId ?? 0)];
  return [...ends, Number(p.rsport ?? 0), Number(p.rdport ?? 0)];
}

/** the status names -u sets in the lab's entries (OFFLOAD and HW_OFFLOAD are not kept); EXPECTED is refused */
function labStatus(f: Filter): string[] {
  const names = f.status ?? [];
  if (names.includes('EXPECTED')) failed('Device or resource busy');
  return names.flatMap((n) => (STATUS[n]!.lab ? [STATUS[n]!.lab!] : []));
}

/** -I and -A on a host's table: the number of entries made (-A: 0 when the tuple is taken) */
export function createIn(host: Host, now: number, { command, filter: f }: Parsed): number {
  if (icmpInvalid(f)) failed('invalid parameters');
  const given = origTuple(f);
  const reply0 = replyTuple(f) ?? inverse(given!);
  const orig = given ?? inverse(reply0);
  const reply: Tuple = [...reply0];
  const status = labStatus(f);
  // --dst-nat ADDR[:PORT] is where the reply comes from, --src-nat ADDR[:PORT] where it goes to
  if (f.dnat) {
    reply[0] = ipToString(f.dnat.ip);
    if (f.dnat.port !== undefined && hasPorts(f.proto)) reply[2] = f.dnat.port;
  }
  if (f.snat) {
    reply[1] = ipToString(f.snat.ip);
    if (f.snat.port !== undefined && hasPorts(f.proto)) reply[3] = f.snat.port;
  }
  const entry: ConntrackEntry = { proto: f.proto!, orig, reply, status, mark: f.setMark?.[0] ?? 0, zone: f.zone ?? 0, expires: now + Math.min(f.timeout!, MAX_TIMEOUT) };
  if (f.proto === 6) entry.state = tcpStateName(f.port.state as string);
  if (f.snat || f.dnat) {
    if (reply[1] !== reply0[1] || reply[3] !== reply0[3]) entry.status.push('SNAT');
    if (reply[0] !== reply0[0] || reply[2] !== reply0[2]) entry.status.push('DNAT');
    entry.status.push('SRC_NAT_DONE', 'DST_NAT_DONE');
  } else entry.natUnset = true;
  const live = liveEntries(host.conntrack, now);
  if ([orig, reply].some((t) => lookup(live, entry.proto, entry.zone, t))) {
    if (command === 'I') failed('Such conntrack exists, try -U to update');
    return 0;
  }
  // (a timeout of 0 makes an entry that is gone at once)
  host.conntrack = entry.expires > now ? [...live, entry] : live;
  return 1;
}

/** -G (the lab is only read) */
export function getCommand(ctx: CliContext, { filter: f }: Parsed): number {
  if (icmpInvalid(f)) failed('invalid parameters');
  // a request by the reply tuple alone is refused, and reply ports without a reply address have nothing to go with
  if (!f.src || !f.dst) failed('invalid parameters');
  if ((f.port.rsport !== undefined || f.port.rdport !== undefined) && f.replySrc === undefined && f.replyDst === undefined) failed('No data available');
  return readOnly(ctx, (lab) => {
    const now = lab.clock ?? 0;
    const live = liveEntries(hostOf(lab, ctx.host)[1].conntrack, now);
    const p = f.port;
    const addrs: Tuple = [ipToString(f.src![0]), ipToString(f.dst![0]), 0, 0];
    let found: ConntrackEntry | undefined;
    if (f.proto === 1) {
      // an echo request is an entry's original tuple, an echo reply its reply tuple (the lab's ICMP entries are echoes)
      const id = Number(p.icmpId ?? 0);
      const dir = p.icmpCode !== 0 ? undefined : p.icmpType === 8 ? 'orig' : p.icmpType === 0 ? 'reply' : undefined;
      if (dir) found = lookup(live, 1, 0, [addrs[0], addrs[1], id, id], dir);
    } else found = lookup(live, f.proto!, 0, hasPorts(f.proto) ? [addrs[0], addrs[1], Number(p.sport), Number(p.dport)] : addrs);
    if (!found) failed("such conntrack doesn't exist");
    const shown = selects(f, found!) ? 1 : 0;
    if (shown) ctx.io.out(entryLine(found!, now, f, 2) + '\n');
    ctx.io.err(`${VERSION}: ${shown} flow entries have been shown.\n`);
    return shown ? 0 : 1;
  });
}

/** -U on a host's table: the number of entries updated, and whether any changed */
export function updateIn(host: Host, now: number, { filter: f, given }: Parsed, io: Io): { count: number; touched: boolean } {
  const bits = f.status ? statusBits(f.status) : 0;
  const addBits = (f.status ?? []).flatMap((n) => (STATUS[n]!.lab ? [STATUS[n]!.lab!] : []));
  /** OFFLOAD and HW_OFFLOAD: asked for, never in an entry, so always a change (that the kernel ignores) */
  const unkept = (f.status ?? []).some((n) => STATUS[n]!.bit !== 0 && !STATUS[n]!.lab);
  // a request with no address and no -f has no family (AF_UNSPEC): the kernel refuses any change
  const noFamily = !['s', 'd', 'r', 'q', 'f'].some((v) => given.has(v)) && !f.snat && !f.dnat;
  const natChange = !!(f.snat || f.dnat);
  const state = f.proto === 6 && f.port.state !== undefined ? tcpStateName(f.port.state as string) : undefined;
  const timeout = f.timeout !== undefined ? Math.min(f.timeout, MAX_TIMEOUT) : undefined;
  const newMark = (m: number): number => (f.setMark ? ((m & ~f.setMark[1]) ^ f.setMark[0]) >>> 0 : m);
  const changes = (e: ConntrackEntry): boolean =>
    unkept ||
    natChange ||
    timeout !== undefined ||
    addBits.some((b) => !e.status.includes(b)) ||
    (state !== undefined && e.proto === 6 && e.state !== state) ||
    newMark(e.mark) !== e.mark;
  const live = liveEntries(host.conntrack, now);
  let count = 0;
  let touched = false;
  // the entries as the dump gave them, before any change: what each change is worked out from
  const dumped = live.filter((x) => tupleSelects(f, x)).map((x) => ({ ...x, status: [...x.status] }));
  for (const e of dumped) {
    if (!changes(e)) continue;
    if (noFamily) {
      io.err('Operation failed: Operation not supported\n');
      failed('Operation not supported');
    }
    const target = lookup(live, e.proto, 0, e.orig);
    if (!target) {
      io.err('Operation failed: No such file or directory\n');
      continue;
    }
    if (natChange) io.err('Operation failed: Operation not supported\n');
    else {
      // ctnetlink_change_conntrack(): the timeout, then the status (EXPECTED: EBUSY, and no more), the TCP state, the mark
      touched = true;
      if (timeout !== undefined) target.expires = now + timeout;
      if (bits & STATUS.EXPECTED!.bit) io.err('Operation failed: Device or resource busy\n');
      else {
        for (const b of addBits) if (!target.status.includes(b)) target.status.push(b);
        if (state !== undefined && target.proto === 6) target.state = state;
        // (the new mark is worked out from the entry the filters selected)
        target.mark = newMark(e.mark);
      }
    }
    // (a timeout of 0 ends the entry: the request that would print it finds nothing, and it is not counted)
    if (target.expires <= now) continue;
    io.out(entryLine(target, now, f, 2) + '\n');
    count++;
  }
  host.conntrack = liveEntries(live, now);
  return { count, touched };
}

/** -D on a host's table: the entries deleted (printed as they go) */
export function deleteIn(host: Host, now: number, f: Filter, io: Io): number {
  const live = liveEntries(host.conntrack, now);
  const hit = live.filter((e) => selects(f, e));
  for (const e of hit) io.out(entryLine(e, now, f, 1, '-D') + '\n');
  host.conntrack = live.filter((e) => !hit.includes(e));
  return hit.length;
}

/** -F on a host's table (-f ipv6 flushes the IPv6 entries: the lab has none) */
export function flushIn(host: Host, f: Filter, io: Io): void {
  if (f.family !== 6) host.conntrack = [];
  io.err(`${VERSION}: connection tracking table has been emptied.\n`);
}
