/**
 * conntrack match (libxt_conntrack.c, xt_conntrack revision 3, the one iptables 1.8.9 picks on a
 * modern kernel) and the state match, which 1.8.9 sends to the kernel as conntrack revision 3
 * with XT_CONNTRACK_STATE_ALIAS set: it reads back as "-m state --state ...".
 *
 * Bit values are the C ones (xt_conntrack.h), so the quirks that depend on them stay visible:
 * `--ctproto 0` is refused only when the XT_INV_PROTO bit (0x40) is already set, and 0x40 is
 * XT_CONNTRACK_STATUS, i.e. after a `! --ctstatus`.
 */
import { paramProblem } from '../../errors.js';
import { ipToAnyName, ipToString, maskToNumericSuffix } from '../../net/ipv4.js';
import type { ConntrackView, PacketView, Tuple } from '../../engine/ext-api.js';
import type { MatchExtension, OptionEntry } from '../types.js';
import { hostmask6, paramAct, rangeOf } from '../xtoptions.js';

/** match_flags / invert_flags (enum in xt_conntrack.h) */
export const F = {
  STATE: 1 << 0,
  PROTO: 1 << 1,
  ORIGSRC: 1 << 2,
  ORIGDST: 1 << 3,
  REPLSRC: 1 << 4,
  REPLDST: 1 << 5,
  STATUS: 1 << 6,
  EXPIRES: 1 << 7,
  ORIGSRC_PORT: 1 << 8,
  ORIGDST_PORT: 1 << 9,
  REPLSRC_PORT: 1 << 10,
  REPLDST_PORT: 1 << 11,
  DIRECTION: 1 << 12,
  STATE_ALIAS: 1 << 13,
} as const;

/** x_tables.h XT_INV_PROTO, which libxt_conntrack tests against invert_flags by mistake */
const XT_INV_PROTO = 0x40;

/** state_mask bits: XT_CONNTRACK_STATE_BIT(ctinfo) = 1 << (ctinfo % IP_CT_IS_REPLY + 1), IP_CT_NUMBER = 5 */
export const S = {
  INVALID: 1 << 0,
  ESTABLISHED: 1 << 1,
  RELATED: 1 << 2,
  NEW: 1 << 3,
  SNAT: 1 << 6,
  DNAT: 1 << 7,
  UNTRACKED: 1 << 8,
} as const;

/** the order conntrack_ps_state() tries the names in (prefixes resolve to the first hit) */
const CTSTATE_PARSE: [string, number][] = [
  ['INVALID', S.INVALID],
  ['NEW', S.NEW],
  ['ESTABLISHED', S.ESTABLISHED],
  ['RELATED', S.RELATED],
  ['UNTRACKED', S.UNTRACKED],
  ['SNAT', S.SNAT],
  ['DNAT', S.DNAT],
];

/** print_state() order */
const STATE_PRINT: [string, number][] = [
  ['INVALID', S.INVALID],
  ['NEW', S.NEW],
  ['RELATED', S.RELATED],
  ['ESTABLISHED', S.ESTABLISHED],
  ['UNTRACKED', S.UNTRACKED],
  ['SNAT', S.SNAT],
  ['DNAT', S.DNAT],
];

/** IPS_* status bits (nf_conntrack_common.h) the match knows */
const IPS: Record<string, number> = { EXPECTED: 1 << 0, SEEN_REPLY: 1 << 1, ASSURED: 1 << 2, CONFIRMED: 1 << 3 };

/** conntrack_ps_status() order; NONE adds no bit */
const STATUS_PARSE: [string, number][] = [
  ['NONE', 0],
  ['EXPECTED', IPS.EXPECTED!],
  ['SEEN_REPLY', IPS.SEEN_REPLY!],
  ['ASSURED', IPS.ASSURED!],
  ['CONFIRMED', IPS.CONFIRMED!],
];

export interface CtAddr {
  addr: number;
  mask: number;
}

/** an ip6tables rule's address: as given (not masked), and the mask's prefix length */
export interface CtAddr6 {
  addr6: string;
  mask6: number;
}

type AddrField = 'origsrc' | 'origdst' | 'replsrc' | 'repldst';

/** struct xt_conntrack_mtinfo3, fields present only when their match flag is set */
export interface ConntrackData {
  /** match_flags */
  flags: number;
  /** invert_flags */
  inv: number;
  state?: number;
  status?: number;
  proto?: number;
  origsrc?: CtAddr;
  origdst?: CtAddr;
  replsrc?: CtAddr;
  repldst?: CtAddr;
  origsrcport?: [number, number];
  origdstport?: [number, number];
  replsrcport?: [number, number];
  repldstport?: [number, number];
  expires?: [number, number];
  /** an ip6tables rule's addresses (the fields above are IPv4's) */
  addrs6?: Partial<Record<AddrField, CtAddr6>>;
}

/** strncasecmp(arg, name, len) == 0 for a list item of length len: a prefix of the name, any case */
function prefixOf(item: string, name: string): boolean {
  return item.length <= name.length && name.slice(0, item.length).toUpperCase() === item.toUpperCase();
}

/**
 * The comma-list walk of conntrack_ps_states()/conntrack_ps_statuses(): an empty item or an unknown
 * one reports the rest of the list from that item on.
 */
function parseList(arg: string, table: [string, number][], what: string): number {
  let mask = 0;
  let rest = arg;
  for (;;) {
    const comma = rest.indexOf(',');
    const item = comma < 0 ? rest : rest.slice(0, comma);
    const hit = item.length ? table.find(([name]) => prefixOf(item, name)) : undefined;
    if (!hit) throw paramProblem(`Bad ${what} "${rest}"`);
    mask |= hit[1];
    if (comma < 0) return mask;
    rest = rest.slice(comma + 1);
  }
}

/** state_parse_states(): like the ctstate list, but a trailing empty item has its own message */
function parseStateList(arg: string): number {
  const table = CTSTATE_PARSE.filter(([n]) => n !== 'SNAT' && n !== 'DNAT');
  let mask = 0;
  let rest = arg;
  for (;;) {
    const comma = rest.indexOf(',');
    if (comma < 0) break;
    const item = rest.slice(0, comma);
    const hit = item.length ? table.find(([name]) => prefixOf(item, name)) : undefined;
    if (!hit) throw paramProblem(`Bad state "${rest}"`);
    mask |= hit[1];
    rest = rest.slice(comma + 1);
  }
  if (!rest) throw paramProblem('"--state" requires a list of states with no spaces, e.g. ESTABLISHED,RELATED');
  const hit = table.find(([name]) => prefixOf(rest, name));
  if (!hit) throw paramProblem(`Bad state "${rest}"`);
  return mask | hit[1];
}

function stateText(mask: number): string {
  return STATE_PRINT.filter(([, bit]) => mask & bit)
    .map(([n]) => n)
    .join(',');
}

/** print_status(): NONE when no bit is set */
function statusText(mask: number): string {
  const names = STATUS_PARSE.filter(([, bit]) => bit && mask & bit).map(([n]) => n);
  return names.length ? names.join(',') : 'NONE';
}

/** conntrack_dump_addr() (and ipvs_mt_dump_addr(), its copy): "anywhere" for address 0 unless numeric, else the address and mask */
export function dumpAddr(a: CtAddr | CtAddr6, numeric: boolean): string {
  if ('addr6' in a) {
    if (!numeric && a.addr6 === '::') return ' anywhere';
    return ` ${a.addr6}${a.mask6 === 128 ? '' : `/${a.mask6}`}`;
  }
  if (!numeric && a.addr === 0) return ' anywhere';
  return ` ${numeric ? ipToString(a.addr) : ipToAnyName(a.addr)}${maskToNumericSuffix(a.mask)}`;
}

/** conntrack_dump_ports(): a high port of 0 prints as a single port, as does low == high */
function dumpPorts(prefix: string, opt: string, r: [number, number]): string {
  return r[1] === 0 || r[0] === r[1] ? ` ${prefix}${opt} ${r[0]}` : ` ${prefix}${opt} ${r[0]}:${r[1]}`;
}

/** conntrack_dump(): one routine for -L (prefix "") and -S (prefix "--", numeric) */
function dump(d: ConntrackData, prefix: string, numeric: boolean): string {
  let s = '';
  const inv = (bit: number) => (d.inv & bit ? ' !' : '');
  if (d.flags & F.STATE) {
    s += `${inv(F.STATE)} ${prefix}${d.flags & F.STATE_ALIAS ? 'state' : 'ctstate'}`;
    const t = stateText(d.state ?? 0);
    if (t) s += ` ${t}`;
  }
  if (d.flags & F.PROTO) s += `${inv(F.PROTO)} ${prefix}ctproto ${d.proto ?? 0}`;
  const a6 = d.addrs6 ?? {};
  const addrs: [number, string, CtAddr | CtAddr6 | undefined][] = [
    [F.ORIGSRC, 'ctorigsrc', a6.origsrc ?? d.origsrc],
    [F.ORIGDST, 'ctorigdst', a6.origdst ?? d.origdst],
    [F.REPLSRC, 'ctreplsrc', a6.replsrc ?? d.replsrc],
    [F.REPLDST, 'ctrepldst', a6.repldst ?? d.repldst],
  ];
  for (const [bit, name, a] of addrs) {
    if (d.flags & bit) s += `${inv(bit)} ${prefix}${name}${dumpAddr(a ?? { addr: 0, mask: 0 }, numeric)}`;
  }
  const ports: [number, string, [number, number] | undefined][] = [
    [F.ORIGSRC_PORT, 'ctorigsrcport', d.origsrcport],
    [F.ORIGDST_PORT, 'ctorigdstport', d.origdstport],
    [F.REPLSRC_PORT, 'ctreplsrcport', d.replsrcport],
    [F.REPLDST_PORT, 'ctrepldstport', d.repldstport],
  ];
  for (const [bit, name, r] of ports) {
    if (d.flags & bit) s += `${inv(bit)}${dumpPorts(prefix, name, r ?? [0, 0])}`;
  }
  if (d.flags & F.STATUS) s += `${inv(F.STATUS)} ${prefix}ctstatus ${statusText(d.status ?? 0)}`;
  if (d.flags & F.EXPIRES) {
    const [min, max] = d.expires ?? [0, 0];
    s += `${inv(F.EXPIRES)} ${prefix}ctexpire ${min === max ? min : `${min}:${max}`}`;
  }
  if (d.flags & F.DIRECTION) s += ` ${prefix}ctdir ${d.inv & F.DIRECTION ? 'REPLY' : 'ORIGINAL'}`;
  return s;
}

const O = {
  CTSTATE: 0,
  CTPROTO: 1,
  CTORIGSRC: 2,
  CTORIGDST: 3,
  CTREPLSRC: 4,
  CTREPLDST: 5,
  CTORIGSRCPORT: 6,
  CTORIGDSTPORT: 7,
  CTREPLSRCPORT: 8,
  CTREPLDSTPORT: 9,
  CTSTATUS: 10,
  CTEXPIRE: 11,
  CTDIR: 12,
} as const;

/** conntrack3_mt_opts */
const opts: OptionEntry[] = [
  { name: 'ctstate', id: O.CTSTATE, type: 'string', invert: true },
  { name: 'ctproto', id: O.CTPROTO, type: 'protocol', invert: true },
  { name: 'ctorigsrc', id: O.CTORIGSRC, type: 'hostmask', invert: true },
  { name: 'ctorigdst', id: O.CTORIGDST, type: 'hostmask', invert: true },
  { name: 'ctreplsrc', id: O.CTREPLSRC, type: 'hostmask', invert: true },
  { name: 'ctrepldst', id: O.CTREPLDST, type: 'hostmask', invert: true },
  { name: 'ctstatus', id: O.CTSTATUS, type: 'string', invert: true },
  { name: 'ctexpire', id: O.CTEXPIRE, type: 'uint32rc', invert: true },
  { name: 'ctorigsrcport', id: O.CTORIGSRCPORT, type: 'portrc', invert: true },
  { name: 'ctorigdstport', id: O.CTORIGDSTPORT, type: 'portrc', invert: true },
  { name: 'ctreplsrcport', id: O.CTREPLSRCPORT, type: 'portrc', invert: true },
  { name: 'ctrepldstport', id: O.CTREPLDSTPORT, type: 'portrc', invert: true },
  { name: 'ctdir', id: O.CTDIR, type: 'string' },
];

const ADDR_OPTS: Record<number, [number, AddrField]> = {
  [O.CTORIGSRC]: [F.ORIGSRC, 'origsrc'],
  [O.CTORIGDST]: [F.ORIGDST, 'origdst'],
  [O.CTREPLSRC]: [F.REPLSRC, 'replsrc'],
  [O.CTREPLDST]: [F.REPLDST, 'repldst'],
};

const PORT_OPTS: Record<number, [number, 'origsrcport' | 'origdstport' | 'replsrcport' | 'repldstport']> = {
  [O.CTORIGSRCPORT]: [F.ORIGSRC_PORT, 'origsrcport'],
  [O.CTORIGDSTPORT]: [F.ORIGDST_PORT, 'origdstport'],
  [O.CTREPLSRCPORT]: [F.REPLSRC_PORT, 'replsrcport'],
  [O.CTREPLDSTPORT]: [F.REPLDST_PORT, 'repldstport'],
};

// ---- packet semantics (net/netfilter/xt_conntrack.c, conntrack_mt with revision 3) ----

/** The tracked entry the kernel's nf_ct_get() returns; INVALID/UNTRACKED (and no ct) have none. */
function ctEntry(pkt: PacketView): ConntrackView | undefined {
  const ct = pkt.ct;
  return ct && ct.state !== 'INVALID' && ct.state !== 'UNTRACKED' ? ct : undefined;
}

/**
 * The packet's statebit. A packet without conntrack information at all (raw table, before the
 * conntrack hook) has no nfct: nf_ct_get() gives ctinfo 0, which is not IP_CT_UNTRACKED, so the
 * kernel calls it INVALID.
 */
function stateBits(pkt: PacketView, withNat: boolean): number {
  const ct = pkt.ct;
  if (!ct || ct.state === 'INVALID') return S.INVALID;
  if (ct.state === 'UNTRACKED') return S.UNTRACKED;
  let bit = S[ct.state];
  if (withNat) {
    if (ct.status.includes('SNAT')) bit |= S.SNAT;
    if (ct.status.includes('DNAT')) bit |= S.DNAT;
  }
  return bit;
}

function statusBits(ct: ConntrackView): number {
  return ct.status.reduce((m, s) => m | (IPS[s] ?? 0), 0);
}

function addrOk(have: number, a: CtAddr): boolean {
  return (((have ^ a.addr) & a.mask) >>> 0) === 0;
}

function portOk(port: number, r: [number, number]): boolean {
  return port >= r[0] && port <= r[1];
}

/** the match's ! on the test of `bit` */
function isInv(d: ConntrackData, bit: number): boolean {
  return (d.inv & bit) !== 0;
}

export function conntrackMatch(d: ConntrackData, pkt: PacketView): boolean {
  if (d.flags & F.STATE) {
    const hit = ((d.state ?? 0) & stateBits(pkt, true)) !== 0;
    if (hit === isInv(d, F.STATE)) return false;
  }
  const ct = ctEntry(pkt);
  // without an entry only a passed state test can make the rule match
  if (!ct) return (d.flags & F.STATE) !== 0;
  if (d.flags & F.DIRECTION && ct.reply !== isInv(d, F.DIRECTION)) return false;
  const o: Tuple = ct.orig;
  const r: Tuple = ct.replyTuple;
  // (tested one by one in this order, without building a list of the tests for every packet)
  if (d.flags & F.ORIGSRC && addrOk(o.src, d.origsrc!) === isInv(d, F.ORIGSRC)) return false;
  if (d.flags & F.ORIGDST && addrOk(o.dst, d.origdst!) === isInv(d, F.ORIGDST)) return false;
  if (d.flags & F.REPLSRC && addrOk(r.src, d.replsrc!) === isInv(d, F.REPLSRC)) return false;
  if (d.flags & F.REPLDST && addrOk(r.dst, d.repldst!) === isInv(d, F.REPLDST)) return false;
  if (d.flags & F.PROTO && (o.proto === d.proto) === isInv(d, F.PROTO)) return false;
  if (d.flags & F.ORIGSRC_PORT && portOk(o.sport, d.origsrcport!) === isInv(d, F.ORIGSRC_PORT)) return false;
  if (d.flags & F.ORIGDST_PORT && portOk(o.dport, d.origdstport!) === isInv(d, F.ORIGDST_PORT)) return false;
  if (d.flags & F.REPLSRC_PORT && portOk(r.sport, d.replsrcport!) === isInv(d, F.REPLSRC_PORT)) return false;
  if (d.flags & F.REPLDST_PORT && portOk(r.dport, d.repldstport!) === isInv(d, F.REPLDST_PORT)) return false;
  // any of the listed status bits is enough; NONE (mask 0) never hits
  if (d.flags & F.STATUS && (((d.status ?? 0) & statusBits(ct)) !== 0) === isInv(d, F.STATUS)) return false;
  if (d.flags & F.EXPIRES) {
    const [min, max] = d.expires!;
    if ((ct.expires >= min && ct.expires <= max) === isInv(d, F.EXPIRES)) return false;
  }
  return true;
}

export const conntrack: MatchExtension<ConntrackData> = {
  kind: 'match',
  name: 'conntrack',
  revision: 3,
  v6Addresses: true,
  // conntrack_mt_help() of libxt_conntrack.c, byte for byte as iptables 1.8.9 prints it
  help:
    'conntrack match options:\n' +
    '[!] --ctstate {INVALID|ESTABLISHED|NEW|RELATED|UNTRACKED|SNAT|DNAT}[,...]\n' +
    '                               State(s) to match\n' +
    '[!] --ctproto proto            Protocol to match; by number or name, e.g. "tcp"\n' +
    '[!] --ctorigsrc address[/mask]\n' +
    '[!] --ctorigdst address[/mask]\n' +
    '[!] --ctreplsrc address[/mask]\n' +
    '[!] --ctrepldst address[/mask]\n' +
    '                               Original/Reply source/destination address\n' +
    '[!] --ctorigsrcport port\n' +
    '[!] --ctorigdstport port\n' +
    '[!] --ctreplsrcport port\n' +
    '[!] --ctrepldstport port\n' +
    '                               TCP/UDP/SCTP orig./reply source/destination port\n' +
    '[!] --ctstatus {NONE|EXPECTED|SEEN_REPLY|ASSURED|CONFIRMED}[,...]\n' +
    '                               Status(es) to match\n' +
    '[!] --ctexpire time[:time]     Match remaining lifetime in seconds against\n' +
    '                               value or range of values (inclusive)\n' +
    '    --ctdir {ORIGINAL|REPLY}   Flow direction of packet\n',
  options: opts,
  init: () => ({ flags: 0, inv: 0 }),
  parse({ entry, arg, invert, val, data }) {
    const setInv = (bit: number) => {
      if (invert) data.inv |= bit;
    };
    switch (entry.id) {
      case O.CTSTATE:
        data.state = (data.state ?? 0) | parseList(arg!, CTSTATE_PARSE, 'ctstate');
        data.flags |= F.STATE;
        setInv(F.STATE);
        return;
      case O.CTPROTO:
        data.proto = val.protocol!;
        // checked before this option's own inversion is recorded, against the wrong bit
        if (data.proto === 0 && data.inv & XT_INV_PROTO) throw paramProblem('conntrack: rule would never match protocol');
        data.flags |= F.PROTO;
        setInv(F.PROTO);
        return;
      case O.CTSTATUS:
        data.status = (data.status ?? 0) | parseList(arg!, STATUS_PARSE, 'ctstatus');
        data.flags |= F.STATUS;
        setInv(F.STATUS);
        return;
      case O.CTEXPIRE: {
        data.expires = rangeOf(val);
        data.flags |= F.EXPIRES;
        setInv(F.EXPIRES);
        return;
      }
      case O.CTDIR:
        // strcasecmp: whole words only; ORIGINAL clears the direction inversion, REPLY sets it
        if (arg!.toUpperCase() === 'ORIGINAL') {
          data.flags |= F.DIRECTION;
          data.inv &= ~F.DIRECTION;
        } else if (arg!.toUpperCase() === 'REPLY') {
          data.flags |= F.DIRECTION;
          data.inv |= F.DIRECTION;
        } else {
          throw paramAct.badValue('conntrack', '--ctdir', arg!);
        }
        return;
    }
    const a = ADDR_OPTS[entry.id];
    if (a && val.haddr6 !== undefined) {
      // conntrack_mt6_parse() keeps the address as given; a mask with holes is all ones
      // (measured: `--ctorigsrc 2001:db8::/ffff:0:ffff::` lists as 2001:db8::)
      const [addr6, mask6] = hostmask6(val);
      (data.addrs6 ??= {})[a[1]] = { addr6, mask6 };
      data.flags |= a[0];
      setInv(a[0]);
      return;
    }
    if (a) {
      data[a[1]] = { addr: val.haddr! >>> 0, mask: val.hmask! >>> 0 };
      data.flags |= a[0];
      setInv(a[0]);
      return;
    }
    const p = PORT_OPTS[entry.id];
    if (p) {
      // port_range[nvals >= 2]: a single port is low == high
      const [lo, hi] = val.portRange!;
      data[p[1]] = [lo, (val.portCount ?? 1) >= 2 ? hi : lo];
      data.flags |= p[0];
      setInv(p[0]);
    }
  },
  finalCheck({ xflags }) {
    if (xflags === 0) throw paramProblem('conntrack: At least one option is required');
  },
  print: (d, { numeric }) => dump(d, '', numeric),
  save: (d) => dump(d, '--', true),
  match: (d, pkt) => conntrackMatch(d, pkt),
};

/**
 * state match: the XTABLES_EXT_ALIAS registration of libxt_conntrack (real_name "conntrack",
 * revision 3). state_ct23_parse() sets match_flags to STATE | STATE_ALIAS, so the rule prints
 * through conntrack_dump() as " state NEW" / " --state NEW" and saves under the name "state".
 */
export const state: MatchExtension<ConntrackData> = {
  kind: 'match',
  name: 'state',
  revision: 3,
  // state_help() of libxt_conntrack.c, byte for byte as iptables 1.8.9 prints it
  help:
    'state match options:\n' +
    ' [!] --state [INVALID|ESTABLISHED|NEW|RELATED|UNTRACKED][,...]\n' +
    '\t\t\t\tState(s) to match\n',
  options: [{ name: 'state', id: O.CTSTATE, type: 'string', invert: true, mandatory: true }],
  init: () => ({ flags: 0, inv: 0 }),
  parse({ arg, invert, data }) {
    data.flags = F.STATE | F.STATE_ALIAS;
    data.state = parseStateList(arg!);
    if (invert) data.inv |= F.STATE;
  },
  print: (d, { numeric }) => dump(d, '', numeric),
  save: (d) => dump(d, '--', true),
  match: (d, pkt) => conntrackMatch(d, pkt),
};
