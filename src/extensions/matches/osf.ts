/**
 * osf match (libxt_osf.c of iptables 1.8.9, IPv4 only; xt_osf): passive OS fingerprinting of TCP
 * SYNs against the fingerprints userspace loads into the kernel (nfnl_osf -f pf.os). Nobody loads
 * any in the lab, and with none loaded nf_osf_match() finds nothing to compare: no rule matches,
 * negated or not (measured, fixtures/kernel/140-osf.scn). The kernel takes the match for TCP in
 * PREROUTING, INPUT and FORWARD only (fixtures/cli/ext-osf.case).
 */
import type { MatchExtension } from '../types.js';
import { needsProtocol } from '../util/proto.js';

const O_GENRE = 0;
const O_TTL = 1;
const O_LOGLEVEL = 2;

/** xt_osf.h: MAXGENRELEN */
const MAXGENRELEN = 32;

/** struct xt_osf_info */
export interface OsfData {
  genre: string;
  invert: boolean;
  /** --ttl and --log, when given */
  ttl?: number;
  loglevel?: number;
}

export const osf: MatchExtension<OsfData> = {
  kind: 'match',
  name: 'osf',
  // IPv4 only (ip6tables has no osf)
  family: 4,
  hooks: ['PREROUTING', 'INPUT', 'FORWARD'],
  // osf_help() of libxt_osf.c
  help:
    'OS fingerprint match options:\n' +
    '[!] --genre string     Match a OS genre by passive fingerprinting.\n' +
    '--ttl level            Use some TTL check extensions to determine OS:\n' +
    '       0                       true ip and fingerprint TTL comparison. Works for LAN.\n' +
    '       1                       check if ip TTL is less than fingerprint one. Works for global addresses.\n' +
    '       2                       do not compare TTL at all. This allows NMAP detection, but can produce false results.\n' +
    '--log level            Log determined genres into dmesg even if they do not match desired one:\n' +
    '       0                       log all matched or unknown signatures.\n' +
    '       1                       log only first one.\n' +
    '       2                       log all known matched signatures.\n',
  options: [
    { name: 'genre', id: O_GENRE, type: 'string', mandatory: true, invert: true, size: MAXGENRELEN },
    { name: 'ttl', id: O_TTL, type: 'uint32', min: 0, max: 2 },
    { name: 'log', id: O_LOGLEVEL, type: 'uint32', min: 0, max: 2 },
  ],
  init: () => ({ genre: '', invert: false }),
  parse({ entry, val, invert, data }) {
    switch (entry.id) {
      case O_GENRE:
        data.genre = val.str!;
        data.invert = invert;
        break;
      case O_TTL:
        data.ttl = val.num!;
        break;
      case O_LOGLEVEL:
        data.loglevel = val.num!;
        break;
    }
  },
  // xt_osf's .proto: TCP only
  kernelCheck: needsProtocol(6, 'tcp', 'the osf match'),
  print: (d) => ` OS fingerprint match ${d.invert ? '! ' : ''}${d.genre}`,
  save(d) {
    let s = `${d.invert ? ' !' : ''} --genre ${d.genre}`;
    if (d.ttl !== undefined) s += ` --ttl ${d.ttl}`;
    if (d.loglevel !== undefined) s += ` --log ${d.loglevel}`;
    return s;
  },
  // no fingerprints loaded: nf_osf_match() compares nothing and reports no match, negated or not
  match: () => false,
};
