/**
 * srh match (libip6t_srh.c revision 1, ip6t_srh): fields of the IPv6 Segment Routing Header and
 * its previous, next and last segment IDs. ip6tables only; the lab keeps such rules but runs no
 * IPv6 packets (no match()). Measured: fixtures/cli/ip6tables-ext-headers.case.
 */
import { hostmask6 } from '../xtoptions.js';
import type { MatchExtension, OptionEntry } from '../types.js';

/** the header fields tested, in the order ip6tables prints them: option, printed name, field */
const FIELDS: [string, string, 'nextHdr' | 'hdrLen' | 'segsLeft' | 'lastEntry' | 'tag'][] = [
  ['srh-next-hdr', 'next-hdr', 'nextHdr'],
  ['srh-hdr-len-eq', 'hdr-len-eq', 'hdrLen'],
  ['srh-hdr-len-gt', 'hdr-len-gt', 'hdrLen'],
  ['srh-hdr-len-lt', 'hdr-len-lt', 'hdrLen'],
  ['srh-segs-left-eq', 'segs-left-eq', 'segsLeft'],
  ['srh-segs-left-gt', 'segs-left-gt', 'segsLeft'],
  ['srh-segs-left-lt', 'segs-left-lt', 'segsLeft'],
  ['srh-last-entry-eq', 'last-entry-eq', 'lastEntry'],
  ['srh-last-entry-gt', 'last-entry-gt', 'lastEntry'],
  ['srh-last-entry-lt', 'last-entry-lt', 'lastEntry'],
  ['srh-tag', 'tag', 'tag'],
];
/** the segment IDs, after the fields: option, printed name */
const SIDS: [string, string][] = [
  ['srh-psid', 'psid'],
  ['srh-nsid', 'nsid'],
  ['srh-lsid', 'lsid'],
];

export interface SrhData {
  /** IP6T_SRH_* bits of the options given (bit i: FIELDS[i], then SIDS) */
  flags: number;
  /** IP6T_SRH_INV_* bits, the same order */
  inv: number;
  /**
   * the fields' values; the three hdr-len options share hdrLen (as the three of segs-left and of
   * last-entry share theirs): the last one given sets it for all
   */
  nextHdr: number;
  hdrLen: number;
  segsLeft: number;
  lastEntry: number;
  tag: number;
  /** psid, nsid, lsid: address as given and prefix length */
  sids: ([string, number] | null)[];
}

const options: OptionEntry[] = [
  ...FIELDS.map(([name, , field], id): OptionEntry => ({ name, id, type: field === 'tag' ? 'uint16' : 'uint8', invert: true })),
  ...SIDS.map(([name], i): OptionEntry => ({ name, id: FIELDS.length + i, type: 'hostmask', invert: true })),
];

export const srh: MatchExtension<SrhData> = {
  kind: 'match',
  name: 'srh',
  family: 6,
  revision: 1,
  v6Addresses: true,
  // srh_help() of libip6t_srh.c, byte for byte as ip6tables 1.8.9 prints it
  help:
    'srh match options:\n' +
    '[!] --srh-next-hdr\t\tnext-hdr        Next Header value of SRH\n' +
    '[!] --srh-hdr-len-eq\t\thdr_len         Hdr Ext Len value of SRH\n' +
    '[!] --srh-hdr-len-gt\t\thdr_len         Hdr Ext Len value of SRH\n' +
    '[!] --srh-hdr-len-lt\t\thdr_len         Hdr Ext Len value of SRH\n' +
    '[!] --srh-segs-left-eq\t\tsegs_left       Segments Left value of SRH\n' +
    '[!] --srh-segs-left-gt\t\tsegs_left       Segments Left value of SRH\n' +
    '[!] --srh-segs-left-lt\t\tsegs_left       Segments Left value of SRH\n' +
    '[!] --srh-last-entry-eq \tlast_entry      Last Entry value of SRH\n' +
    '[!] --srh-last-entry-gt \tlast_entry      Last Entry value of SRH\n' +
    '[!] --srh-last-entry-lt \tlast_entry      Last Entry value of SRH\n' +
    '[!] --srh-tag\t\t\ttag             Tag value of SRH\n' +
    '[!] --srh-psid\t\t\taddr[/mask]\tSRH previous SID\n' +
    '[!] --srh-nsid\t\t\taddr[/mask]\tSRH next SID\n' +
    '[!] --srh-lsid\t\t\taddr[/mask]\tSRH Last SID\n',
  options,
  init: () => ({ flags: 0, inv: 0, nextHdr: 0, hdrLen: 0, segsLeft: 0, lastEntry: 0, tag: 0, sids: [null, null, null] }),
  parse({ entry, val, invert, data }) {
    const id = entry.id;
    data.flags |= 1 << id;
    if (invert) data.inv |= 1 << id;
    if (id < FIELDS.length) data[FIELDS[id]![2]] = val.num!;
    else data.sids[id - FIELDS.length] = hostmask6(val);
  },
  // srh1_print(): "name:[!]value" for the fields, "name [!] addr/len" for the segment IDs
  print(d) {
    let s = ' srh';
    FIELDS.forEach(([, name, field], i) => {
      if (d.flags & (1 << i)) s += ` ${name}:${d.inv & (1 << i) ? '!' : ''}${d[field]}`;
    });
    SIDS.forEach(([, name], i) => {
      const a = d.sids[i];
      if (a) s += ` ${name} ${d.inv & (1 << (FIELDS.length + i)) ? '!' : ''} ${a[0]}/${a[1]}`;
    });
    return s;
  },
  save(d) {
    let s = '';
    FIELDS.forEach(([option, , field], i) => {
      if (d.flags & (1 << i)) s += `${d.inv & (1 << i) ? ' !' : ''} --${option} ${d[field]}`;
    });
    SIDS.forEach(([option], i) => {
      const a = d.sids[i];
      if (a) s += `${d.inv & (1 << (FIELDS.length + i)) ? ' !' : ''} --${option} ${a[0]}/${a[1]}`;
    });
    return s;
  },
};
