/**
 * CT target, revision 2, and its NOTRACK alias (libxt_CT.c of iptables 1.8.9,
 * net/netfilter/xt_CT.c): attach a conntrack template to a packet before conntrack sees it
 * (untracked, a zone, a helper, the events to report). The kernel keeps it to the raw table.
 *
 * `-j NOTRACK` is the revision-2 alias: the kernel gets CT with XT_CT_NOTRACK |
 * XT_CT_NOTRACK_ALIAS, -L shows target CT with " NOTRACK", -S writes "-j NOTRACK" again
 * (ct_print_name_alias), and the alias takes no options.
 */
import { paramProblem } from '../../errors.js';
import { xtStrtoul } from '../../util/strtoul.js';
import type { TargetExtension } from '../types.js';

const O_NOTRACK = 0;
const O_HELPER = 1;
const O_TIMEOUT = 2;
const O_CTEVENTS = 3;
const O_EXPEVENTS = 4;
const O_ZONE = 5;
const O_ZONE_ORIG = 6;
const O_ZONE_REPLY = 7;

export interface CtData {
  /** XT_CT_NOTRACK */
  notrack: boolean;
  /** XT_CT_NOTRACK_ALIAS: the rule was written as -j NOTRACK */
  alias: boolean;
  helper: string;
  timeout: string;
  /** bit set of ct_event_tbl[] events (1 << IPCT_*) */
  ctevents: number;
  /** bit set of exp_event_tbl[] events (1 << IPEXP_*) */
  expevents: number;
  zone: number;
  /** XT_CT_ZONE_DIR_ORIG / XT_CT_ZONE_DIR_REPL / XT_CT_ZONE_MARK */
  zoneOrig: boolean;
  zoneReply: boolean;
  zoneMark: boolean;
}

/** ct_event_tbl[]: name and enum ip_conntrack_events bit, in print order */
const CT_EVENTS: [string, number][] = [
  ['new', 0],
  ['related', 1],
  ['destroy', 2],
  ['reply', 3],
  ['assured', 4],
  ['protoinfo', 5],
  ['helper', 6],
  ['mark', 7],
  ['natseqinfo', 8],
  ['secmark', 9],
];
const EXP_EVENTS: [string, number][] = [['new', 0]];

/**
 * The conntrack helpers the kernel registers (nf_conntrack_{ftp,tftp,irc,sip,pptp,h323,amanda,
 * snmp,netbios_ns,sane}, nf_nat_snmp_basic) and the layer-4 protocol each is registered for;
 * nf_conntrack_helper_try_module_get() compares names case-sensitively.
 */
const HELPERS: Record<string, number[]> = {
  ftp: [6],
  tftp: [17],
  irc: [6],
  sip: [17, 6],
  pptp: [6],
  'Q.931': [6],
  RAS: [17],
  'H.245': [17],
  amanda: [17],
  snmp: [17],
  snmp_trap: [17],
  'netbios-ns': [17],
  sane: [6],
};

/** ct_parse_events(): comma-separated names, each must be known (an empty one included) */
function parseEvents(table: [string, number][], arg: string): number {
  let mask = 0;
  for (const t of arg.split(',')) {
    const e = table.find(([n]) => n === t);
    if (!e) throw paramProblem(`Unknown event type "${t}"`);
    mask |= 1 << e[1];
  }
  return mask;
}

function eventsText(table: [string, number][], mask: number): string {
  return table
    .filter(([, bit]) => mask & (1 << bit))
    .map(([n]) => n)
    .join(',');
}

function zoneText(prefix: string, d: CtData): string {
  let s = ` ${prefix}`;
  // one direction only gets a suffix; both (or neither) is the plain zone
  if (d.zoneOrig && !d.zoneReply) s += '-orig';
  if (d.zoneReply && !d.zoneOrig) s += '-reply';
  return s + (d.zoneMark ? ' mark' : ` ${d.zone}`);
}

function ctOptions(d: CtData, dashes: string): string {
  let s = '';
  if (d.notrack) s += ` ${dashes}notrack`;
  if (d.helper) s += ` ${dashes}helper ${d.helper}`;
  if (d.timeout) s += ` ${dashes}timeout ${d.timeout}`;
  if (d.ctevents) s += ` ${dashes}ctevents ${eventsText(CT_EVENTS, d.ctevents)}`;
  if (d.expevents) s += ` ${dashes}expevents ${eventsText(EXP_EVENTS, d.expevents)}`;
  if (d.zoneMark || d.zone) s += zoneText(`${dashes}zone`, d);
  return s;
}

const fresh = (): CtData => ({
  notrack: false,
  alias: false,
  helper: '',
  timeout: '',
  ctevents: 0,
  expevents: 0,
  zone: 0,
  zoneOrig: false,
  zoneReply: false,
  zoneMark: false,
});

export const CT: TargetExtension<CtData> = {
  kind: 'target',
  name: 'CT',
  revision: 2,
  // ct_help_v1() of libxt_CT.c, byte for byte as iptables 1.8.9 prints it
  help:
    'CT target options:\n' +
    ' --notrack\t\t\tDon\'t track connection\n' +
    ' --helper name\t\t\tUse conntrack helper \'name\' for connection\n' +
    ' --timeout name \t\tUse timeout policy \'name\' for connection\n' +
    ' --ctevents event[,event...]\tGenerate specified conntrack events for connection\n' +
    ' --expevents event[,event...]\tGenerate specified expectation events for connection\n' +
    ' --zone {ID|mark}\t\tAssign/Lookup connection in zone ID/packet nfmark\n' +
    ' --zone-orig {ID|mark}\t\tSame as \'zone\' option, but only applies to ORIGINAL direction\n' +
    ' --zone-reply {ID|mark} \tSame as \'zone\' option, but only applies to REPLY direction\n',
  options: [
    { name: 'notrack', id: O_NOTRACK, type: 'none' },
    // char helper[16], char timeout[32]: longer names are cut
    { name: 'helper', id: O_HELPER, type: 'string', size: 16 },
    { name: 'timeout', id: O_TIMEOUT, type: 'string', size: 32 },
    { name: 'ctevents', id: O_CTEVENTS, type: 'string' },
    { name: 'expevents', id: O_EXPEVENTS, type: 'string' },
    { name: 'zone-orig', id: O_ZONE_ORIG, type: 'string' },
    { name: 'zone-reply', id: O_ZONE_REPLY, type: 'string' },
    { name: 'zone', id: O_ZONE, type: 'string' },
  ],
  init: () => fresh(),
  parse({ entry, arg, val, data }) {
    switch (entry.id) {
      case O_NOTRACK:
        data.notrack = true;
        break;
      case O_HELPER:
        data.helper = val.str!;
        break;
      case O_TIMEOUT:
        data.timeout = val.str!;
        break;
      case O_CTEVENTS:
        data.ctevents = parseEvents(CT_EVENTS, arg!);
        break;
      case O_EXPEVENTS:
        data.expevents = parseEvents(EXP_EVENTS, arg!);
        break;
      default: {
        // ct_parse_zone_id(): direction flags accumulate, the id is reset, "mark" is never unset
        if (entry.id === O_ZONE_ORIG) data.zoneOrig = true;
        if (entry.id === O_ZONE_REPLY) data.zoneReply = true;
        data.zone = 0;
        if (arg!.toLowerCase() === 'mark') {
          data.zoneMark = true;
        } else {
          const r = xtStrtoul(arg!, 0, 0xffff);
          if (!r.ok) throw paramProblem(`Cannot parse ${arg} as a zone ID`);
          data.zone = Number(r.value);
        }
      }
    }
  },
  print(d) {
    if (d.alias) return ' NOTRACK';
    return ' CT' + ctOptions(d, '');
  },
  save: (d) => (d.alias ? '' : ctOptions(d, '--')),
  saveName: (d) => (d.alias ? 'NOTRACK' : 'CT'),
  /**
   * The kernel's CT revisions 1 and 2 declare .usersize = offsetof(struct xt_ct_target_info, ct),
   * the revision-0 layout, so only 32 bytes go back to userspace: the timeout name keeps its
   * first 4 characters. (iptables -C/-D compare against that read-back form while the rule they
   * are given keeps the whole name, so the real binary finds such a rule only when it is given
   * at most those 4 characters; here both sides are cut, see the report.)
   */
  canonicalize: (d) => ({ ...d, timeout: d.timeout.slice(0, 4) }),
  tables: ['raw'],
  kernelCheck(d, { frame }) {
    // xt_ct_tg_check(): --notrack skips every other setting
    if (d.notrack) return undefined;
    if (d.helper) {
      // xt_ct_find_proto() / nf_conntrack_helper_try_module_get(): the kernel answers ENOENT,
      // which iptables reports as "No such file or directory"
      const proto = frame.invProto ? 0 : frame.proto;
      if (!proto) return `CT --helper needs a layer-4 protocol (-p, not inverted); the kernel answers ENOENT`;
      if (!HELPERS[d.helper]?.includes(proto)) return `no conntrack helper "${d.helper}" for protocol ${proto}; the kernel answers ENOENT`;
    }
    // no timeout policy can exist in the lab (nfct is not modelled): the lookup fails
    if (d.timeout) return `no conntrack timeout policy "${d.timeout}" exists`;
    return undefined;
  },
  /**
   * xt_ct_target(): a packet that already carries conntrack (skb->_nfct set, e.g. by an earlier
   * CT rule) is left alone; otherwise it gets the template (or is marked untracked).
   * Not expressible in TargetResult: --zone-orig/--zone-reply apply the zone to one direction
   * only (reported as the zone, with a note), --expevents and --timeout (noted).
   */
  apply(d, pkt) {
    if (pkt.ct) return { verdict: 'CONTINUE', note: 'CT: packet already has conntrack attached' };
    if (d.notrack) return { verdict: 'CONTINUE', ct: { notrack: true } };
    const ct: { zone?: number; helper?: string; ctevents?: string[] } = {};
    const notes: string[] = [];
    // nf_ct_zone_tmpl(): a "mark" zone is the packet mark (16 bits) when conntrack looks it up
    const zone = d.zoneMark ? pkt.mark & 0xffff : d.zone;
    if (zone || d.zoneMark) ct.zone = zone;
    if (d.zoneOrig !== d.zoneReply) notes.push(`zone ${zone} applies to the ${d.zoneOrig ? 'original' : 'reply'} direction only`);
    if (d.helper) ct.helper = d.helper;
    if (d.ctevents) ct.ctevents = eventsText(CT_EVENTS, d.ctevents).split(',');
    if (d.expevents) notes.push(`expectation events ${eventsText(EXP_EVENTS, d.expevents)}`);
    return { verdict: 'CONTINUE', ct, ...(notes.length ? { note: `CT: ${notes.join('; ')}` } : {}) };
  },
};

/**
 * -j NOTRACK: notrack_ct2_tg_init() and no options of its own. Its real name is CT, so the rule
 * holds a CT target flagged as the alias, which CT prints as " NOTRACK" and saves as -j NOTRACK.
 */
export const NOTRACK: TargetExtension<CtData> = {
  kind: 'target',
  name: 'NOTRACK',
  revision: 2,
  realName: 'CT',
  options: [],
  init: () => ({ ...fresh(), notrack: true, alias: true }),
  print: (d, ctx) => CT.print(d, ctx),
  save: (d, ctx) => CT.save(d, ctx),
  saveName: () => 'NOTRACK',
  tables: ['raw'],
  apply: (d, pkt, ctx) => CT.apply!(d, pkt, ctx),
};
