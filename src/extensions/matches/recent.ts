/**
 * recent match (libxt_recent revision 1, xt_recent): named lists of recently seen addresses,
 * shared by every rule using the same --name.
 */
import { paramProblem } from '../../errors.js';
import { ipToString } from '../../net/ipv4.js';
import type { MatchExtension, OptionEntry } from '../types.js';

const XT_RECENT_CHECK = 1;
const XT_RECENT_SET = 2;
const XT_RECENT_UPDATE = 4;
const XT_RECENT_REMOVE = 8;
const XT_RECENT_TTL = 16;
const XT_RECENT_REAP = 32;
const XT_RECENT_MODIFIERS = XT_RECENT_TTL | XT_RECENT_REAP;
const XT_RECENT_SOURCE = 0;
const XT_RECENT_DEST = 1;
const XT_RECENT_NAME_LEN = 200;
/** xt_recent.c: hitcount must stay below this */
const XT_RECENT_MAX_NSTAMPS = 65536;
/** module parameters ip_list_tot and ip_pkt_list_tot at their defaults */
const IP_LIST_TOT = 200;
const IP_PKT_LIST_TOT = 20;
/** CONFIG_HZ of the lab kernel */
const HZ = 250;

export interface RecentData {
  seconds: number;
  hitCount: number;
  checkSet: number;
  invert: boolean;
  name: string;
  side: number;
  mask: number;
  /** an ip6tables rule's --mask, as inet_ntop() writes it (all ones unless given) */
  mask6?: string;
}

const ALL_ONES6 = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff';

const O_SET = 0;
const O_RCHECK = 1;
const O_UPDATE = 2;
const O_REMOVE = 3;
const O_SECONDS = 4;
const O_REAP = 5;
const O_HITCOUNT = 6;
const O_RTTL = 7;
const O_NAME = 8;
const O_RSOURCE = 9;
const O_RDEST = 10;
const O_MASK = 11;
const ANY_OP = [O_SET, O_RCHECK, O_UPDATE, O_REMOVE];

const opts: OptionEntry[] = [
  { name: 'set', id: O_SET, type: 'none', excl: ANY_OP, invert: true },
  { name: 'rcheck', id: O_RCHECK, type: 'none', excl: ANY_OP, invert: true },
  { name: 'update', id: O_UPDATE, type: 'none', excl: ANY_OP, invert: true },
  { name: 'remove', id: O_REMOVE, type: 'none', excl: ANY_OP, invert: true },
  { name: 'seconds', id: O_SECONDS, type: 'uint32', min: 1 },
  { name: 'reap', id: O_REAP, type: 'none', also: [O_SECONDS] },
  { name: 'hitcount', id: O_HITCOUNT, type: 'uint32' },
  { name: 'rttl', id: O_RTTL, type: 'none', excl: [O_SET, O_REMOVE] },
  { name: 'name', id: O_NAME, type: 'string', size: XT_RECENT_NAME_LEN },
  { name: 'rsource', id: O_RSOURCE, type: 'none' },
  { name: 'rdest', id: O_RDEST, type: 'none' },
  { name: 'mask', id: O_MASK, type: 'host' },
];

/** printf("%d") of a __u32 */
const asInt = (n: number): number => n | 0;

interface Entry {
  addr: number;
  ttl: number;
  /** time stamps, oldest first, at most `cap` of them (the kernel's ring of nstamps_max_mask+1) */
  stamps: number[];
  /** position in the table's LRU list (bigger = more recently used) */
  lru: number;
}

interface Table {
  mask: number;
  cap: number;
  lruClock: number;
  /** in hash-chain order (creation order), which decides lookups when --rttl splits an address */
  entries: Entry[];
}

function roundupPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** the stamp ring size recent_mt_check() asks of the list for this rule */
function stampCap(hitCount: number): number {
  return hitCount < IP_PKT_LIST_TOT ? roundupPow2(IP_PKT_LIST_TOT) : roundupPow2(hitCount);
}

function lruHead(t: Table): Entry | undefined {
  let head: Entry | undefined;
  for (const e of t.entries) if (!head || e.lru < head.lru) head = e;
  return head;
}

function removeEntry(t: Table, e: Entry): void {
  t.entries.splice(t.entries.indexOf(e), 1);
}

export const recent: MatchExtension<RecentData> = {
  kind: 'match',
  name: 'recent',
  v6Addresses: true,
  revision: 1,
  // recent_help() of libxt_recent.c, byte for byte as iptables 1.8.9 prints it
  help:
    'recent match options:\n' +
    '[!] --set                       Add source address to list, always matches.\n' +
    '[!] --rcheck                    Match if source address in list.\n' +
    '[!] --update                    Match if source address in list, also update last-seen time.\n' +
    '[!] --remove                    Match if source address in list, also removes that address from list.\n' +
    '    --seconds seconds           For check and update commands above.\n' +
    '                                Specifies that the match will only occur if source address last seen within\n' +
    '                                the last \'seconds\' seconds.\n' +
    '    --reap                      Purge entries older then \'seconds\'.\n' +
    '                                Can only be used in conjunction with the seconds option.\n' +
    '    --hitcount hits             For check and update commands above.\n' +
    '                                Specifies that the match will only occur if source address seen hits times.\n' +
    '                                May be used in conjunction with the seconds option.\n' +
    '    --rttl                      For check and update commands above.\n' +
    '                                Specifies that the match will only occur if the source address and the TTL\n' +
    '                                match between this packet and the one which was set.\n' +
    '                                Useful if you have problems with people spoofing their source address in order\n' +
    '                                to DoS you via this module.\n' +
    '    --name name                 Name of the recent list to be used.  DEFAULT used if none given.\n' +
    '    --rsource                   Match/Save the source address of each packet in the recent list table (default).\n' +
    '    --rdest                     Match/Save the destination address of each packet in the recent list table.\n' +
    '    --mask netmask              Netmask that will be applied to this recent list.\n' +
    'xt_recent by: Stephen Frost <sfrost@snowman.net>.\n',
  options: opts,
  // recent_init(): list DEFAULT, source side, all-ones mask
  init: (frame) => ({
    seconds: 0,
    hitCount: 0,
    checkSet: 0,
    invert: false,
    name: 'DEFAULT',
    side: XT_RECENT_SOURCE,
    mask: 0xffffffff,
    ...(frame.family === 6 ? { mask6: ALL_ONES6 } : {}),
  }),
  parse({ entry, invert, val, data }) {
    switch (entry.id) {
      case O_SET:
      case O_RCHECK:
      case O_UPDATE:
      case O_REMOVE:
        data.checkSet |= [XT_RECENT_SET, XT_RECENT_CHECK, XT_RECENT_UPDATE, XT_RECENT_REMOVE][entry.id]!;
        if (invert) data.invert = true;
        break;
      case O_SECONDS:
        data.seconds = val.num!;
        break;
      case O_HITCOUNT:
        data.hitCount = val.num!;
        break;
      case O_NAME:
        data.name = val.str!;
        break;
      case O_MASK:
        if (val.haddr6 !== undefined) data.mask6 = val.haddr6;
        else data.mask = val.haddr! >>> 0;
        break;
      case O_RTTL:
        data.checkSet |= XT_RECENT_TTL;
        break;
      case O_RSOURCE:
        data.side = XT_RECENT_SOURCE;
        break;
      case O_RDEST:
        data.side = XT_RECENT_DEST;
        break;
      case O_REAP:
        data.checkSet |= XT_RECENT_REAP;
        break;
    }
  },
  finalCheck({ xflags }) {
    if (!ANY_OP.some((id) => xflags & (1 << id))) {
      throw paramProblem("recent: you must specify one of `--set', `--rcheck' `--update' or `--remove'");
    }
  },
  print(d) {
    let s = d.invert ? ' !' : '';
    s += ' recent:';
    if (d.checkSet & XT_RECENT_SET) s += ' SET';
    if (d.checkSet & XT_RECENT_CHECK) s += ' CHECK';
    if (d.checkSet & XT_RECENT_UPDATE) s += ' UPDATE';
    if (d.checkSet & XT_RECENT_REMOVE) s += ' REMOVE';
    if (d.seconds) s += ` seconds: ${asInt(d.seconds)}`;
    if (d.checkSet & XT_RECENT_REAP) s += ' reap';
    if (d.hitCount) s += ` hit_count: ${asInt(d.hitCount)}`;
    if (d.checkSet & XT_RECENT_TTL) s += ' TTL-Match';
    s += ` name: ${d.name}`;
    if (d.side === XT_RECENT_SOURCE) s += ' side: source';
    if (d.side === XT_RECENT_DEST) s += ' side: dest';
    s += ` mask: ${d.mask6 ?? ipToString(d.mask)}`;
    return s;
  },
  save(d) {
    let s = d.invert ? ' !' : '';
    if (d.checkSet & XT_RECENT_SET) s += ' --set';
    if (d.checkSet & XT_RECENT_CHECK) s += ' --rcheck';
    if (d.checkSet & XT_RECENT_UPDATE) s += ' --update';
    if (d.checkSet & XT_RECENT_REMOVE) s += ' --remove';
    if (d.seconds) s += ` --seconds ${asInt(d.seconds)}`;
    if (d.checkSet & XT_RECENT_REAP) s += ' --reap';
    if (d.hitCount) s += ` --hitcount ${asInt(d.hitCount)}`;
    if (d.checkSet & XT_RECENT_TTL) s += ' --rttl';
    s += ` --name ${d.name}`;
    s += ` --mask ${d.mask6 ?? ipToString(d.mask)}`;
    if (d.side === XT_RECENT_SOURCE) s += ' --rsource';
    if (d.side === XT_RECENT_DEST) s += ' --rdest';
    return s;
  },
  // recent_mt_check()
  kernelCheck(d) {
    if ((d.checkSet & (XT_RECENT_SET | XT_RECENT_REMOVE)) && (d.seconds || d.hitCount || d.checkSet & XT_RECENT_MODIFIERS)) {
      return 'xt_recent: --set and --remove take no --seconds, --hitcount, --rttl or --reap';
    }
    if (d.checkSet & XT_RECENT_REAP && !d.seconds) return 'xt_recent: --reap needs --seconds';
    if (d.hitCount >= XT_RECENT_MAX_NSTAMPS) {
      return `xt_recent: hitcount (${d.hitCount}) is larger than allowed maximum (${XT_RECENT_MAX_NSTAMPS - 1})`;
    }
    // xt_check_proc_name(); the name cannot reach 200 characters (iptables cuts it at 199)
    if (d.name === '' || d.name === '.' || d.name === '..' || d.name.includes('/')) {
      return `xt_recent: "${d.name}" is not a valid list name (empty, ".", ".." or containing "/")`;
    }
    return undefined;
  },
  /**
   * recent_mt(). Differences from the kernel, all outside what rules can observe in the lab:
   * the list's --mask is the one of the first rule that evaluates a packet (the kernel takes the
   * first rule inserted), and a rule needing a longer stamp ring enlarges the list instead of
   * flushing it at insertion.
   */
  match(d, pkt, ctx) {
    let ret = d.invert;
    const addr = d.side === XT_RECENT_DEST ? pkt.dst : pkt.src;
    let ttl = pkt.ttl;
    // "use TTL as seen before forwarding": leaving the host without a local socket
    if ((ctx.hook === 'FORWARD' || ctx.hook === 'POSTROUTING' || ctx.hook === 'OUTPUT') && !pkt.owner) ttl = (ttl + 1) & 0xff;
    // stamps are jiffies (HZ=250 on the lab kernel); "seconds * HZ" is computed in 32 bits
    const now = Math.floor(ctx.now() * HZ);
    const window = (d.seconds * HZ) % 2 ** 32;
    const t = ctx.shared<Table>(`recent:${d.name}`, () => ({ mask: d.mask, cap: stampCap(0), lruClock: 0, entries: [] }));
    t.cap = Math.max(t.cap, stampCap(d.hitCount));
    const key = (addr & t.mask) >>> 0;
    const wantTtl = d.checkSet & XT_RECENT_TTL ? ttl : 0;
    const e = t.entries.find((x) => x.addr === key && (wantTtl === x.ttl || wantTtl === 0 || x.ttl === 0));
    if (!e) {
      if (!(d.checkSet & XT_RECENT_SET)) return ret;
      // recent_entry_init(): the least recently used entry makes room
      if (t.entries.length >= IP_LIST_TOT) removeEntry(t, lruHead(t)!);
      t.entries.push({ addr: key, ttl, stamps: [now], lru: ++t.lruClock });
      return !ret;
    }
    if (d.checkSet & XT_RECENT_SET) {
      ret = !ret;
    } else if (d.checkSet & XT_RECENT_REMOVE) {
      removeEntry(t, e);
      ret = !ret;
    } else if (d.checkSet & (XT_RECENT_CHECK | XT_RECENT_UPDATE)) {
      const time = now - window;
      let hits = 0;
      for (const stamp of e.stamps) {
        if (d.seconds && time > stamp) continue;
        if (!d.hitCount || ++hits >= d.hitCount) {
          ret = !ret;
          break;
        }
      }
      if (d.checkSet & XT_RECENT_REAP) {
        // recent_entry_reap(): only the oldest entry of the list, unless it is about to be updated
        const head = lruHead(t)!;
        const update = (d.checkSet & XT_RECENT_UPDATE) !== 0 && ret;
        if (!(head === e && update) && time > head.stamps[head.stamps.length - 1]!) removeEntry(t, head);
      }
    }
    if (d.checkSet & XT_RECENT_SET || (d.checkSet & XT_RECENT_UPDATE && ret)) {
      e.stamps.push(now);
      if (e.stamps.length > t.cap) e.stamps.splice(0, e.stamps.length - t.cap);
      e.ttl = ttl;
      e.lru = ++t.lruClock;
    }
    return ret;
  },
};
