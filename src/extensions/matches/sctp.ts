/**
 * sctp match (libxt_sctp, xt_sctp): --sport/--dport port[:port] and
 * --chunk-types any|all|only CHUNK[:FLAGS][,...]. Old-style option parsing, with its own messages.
 */
import { SimError, paramProblem } from '../../errors.js';
import type { MatchExtension, OptionEntry } from '../types.js';
import { inRange, printPortRange } from '../util/ports.js';
import { parsePortSpec } from './tcp.js';
import { needsProtocol } from '../util/proto.js';

export interface SctpFlagInfo {
  /**
   * what libxt_sctp stores as the chunk type: the index of the chunk in its name table (the C
   * passes the loop index), equal to the type only for DATA, ABORT and SHUTDOWN_COMPLETE
   */
  chunktype: number;
  flag: number;
  mask: number;
}

export interface SctpData {
  spts?: [number, number];
  dpts?: [number, number];
  invSrc?: boolean;
  invDst?: boolean;
  invChunks?: boolean;
  /** SCTP_CHUNK_MATCH_ANY 1, _ALL 2, _ONLY 4; present with --chunk-types */
  chunkMatch?: number;
  /** the chunk map with every bit set ("ALL") */
  allChunks?: boolean;
  /** chunk types set in the map, ascending */
  chunks?: number[];
  flagInfo?: SctpFlagInfo[];
}

/** sctp_chunk_names[]: name, chunk type, valid flag letters from bit 7 down to bit 0 */
const CHUNK_NAMES: [string, number, string][] = [
  ['DATA', 0, '----IUBE'],
  ['INIT', 1, '--------'],
  ['INIT_ACK', 2, '--------'],
  ['SACK', 3, '--------'],
  ['HEARTBEAT', 4, '--------'],
  ['HEARTBEAT_ACK', 5, '--------'],
  ['ABORT', 6, '-------T'],
  ['SHUTDOWN', 7, '--------'],
  ['SHUTDOWN_ACK', 8, '--------'],
  ['ERROR', 9, '--------'],
  ['COOKIE_ECHO', 10, '--------'],
  ['COOKIE_ACK', 11, '--------'],
  ['ECN_ECNE', 12, '--------'],
  ['ECN_CWR', 13, '--------'],
  ['SHUTDOWN_COMPLETE', 14, '-------T'],
  ['I_DATA', 64, '----IUBE'],
  ['RE_CONFIG', 130, '--------'],
  ['PAD', 132, '--------'],
  ['ASCONF', 193, '--------'],
  ['ASCONF_ACK', 128, '--------'],
  ['FORWARD_TSN', 192, '--------'],
  ['I_FORWARD_TSN', 194, '--------'],
];

const MATCH_ANY = 1;
const MATCH_ALL = 2;
const MATCH_ONLY = 4;
const NUM_SCTP_FLAGS = 4;

const opts: OptionEntry[] = [
  { name: 'source-port', id: 0, type: 'raw', hasArg: 1 },
  { name: 'sport', id: 0, type: 'raw', hasArg: 1 },
  { name: 'destination-port', id: 1, type: 'raw', hasArg: 1 },
  { name: 'dport', id: 1, type: 'raw', hasArg: 1 },
  { name: 'chunk-types', id: 2, type: 'raw', hasArg: 1, extraArgs: 1 },
];

/** save_chunk_flag_info(): one entry per chunk (by table index), at most four */
function saveFlag(info: SctpFlagInfo[], chunktype: number, bit: number, set: boolean): void {
  let e = info.find((f) => f.chunktype === chunktype);
  if (!e) {
    if (info.length === NUM_SCTP_FLAGS) {
      throw paramProblem(
        'Number of chunk types with flags exceeds currently allowed limit. Increasing this limit involves changing IPT_NUM_SCTP_FLAGS and recompiling both the kernel space and user space modules',
      );
    }
    e = { chunktype, flag: 0, mask: 0 };
    info.push(e);
  }
  e.mask |= 1 << bit;
  if (set) e.flag |= 1 << bit;
}

/**
 * parse_sctp_chunks() / parse_sctp_chunk(): "ALL" and "NONE" only as the whole list; otherwise
 * strtok() on ',' (empty items vanish), each name case-insensitive with optional ":FLAGS", a flag
 * letter (or '-') upper-case for set, lower-case for clear.
 */
function parseChunks(d: SctpData, matchType: string, list: string): void {
  const mt = matchType.toUpperCase();
  if (mt === 'ANY') d.chunkMatch = MATCH_ANY;
  else if (mt === 'ALL') d.chunkMatch = MATCH_ALL;
  else if (mt === 'ONLY') d.chunkMatch = MATCH_ONLY;
  else throw paramProblem('Match type has to be one of "ALL", "ANY" or "ONLY"');
  d.chunks = [];
  d.flagInfo = [];
  if (list.toUpperCase() === 'ALL') {
    d.allChunks = true;
    return;
  }
  if (list.toUpperCase() === 'NONE') return;
  const set = new Set<number>();
  for (const item of list.split(',').filter((x) => x.length)) {
    const colon = item.indexOf(':');
    const name = colon >= 0 ? item.slice(0, colon) : item;
    const idx = CHUNK_NAMES.findIndex(([n]) => n.toLowerCase() === name.toLowerCase());
    if (idx < 0) throw paramProblem(`Unknown sctp chunk \`${name}'`);
    const [, type, valid] = CHUNK_NAMES[idx]!;
    set.add(type);
    if (colon < 0) continue;
    for (const ch of item.slice(colon + 1)) {
      const pos = valid.indexOf(ch.toUpperCase());
      if (pos < 0) throw paramProblem(`Invalid flags for chunk type ${idx}`);
      saveFlag(d.flagInfo, idx, 7 - pos, ch !== ch.toLowerCase());
    }
  }
  d.chunks = [...set].sort((a, b) => a - b);
}

/** print_chunk_flags(): letters from bit 7 down, from the name table entry at the chunk's type */
function flagsText(type: number, f: SctpFlagInfo): string {
  let s = f.mask ? ':' : '';
  const valid = CHUNK_NAMES[type]![2];
  for (let i = 7; i >= 0; i--) {
    if (!(f.mask & (1 << i))) continue;
    const c = valid[7 - i]!;
    s += f.flag & (1 << i) ? c : c.toLowerCase();
  }
  return s;
}

/** print_chunks() */
function chunksText(d: SctpData, numeric: boolean): string {
  let s = d.chunkMatch === MATCH_ANY ? ' any' : d.chunkMatch === MATCH_ALL ? ' all' : ' only';
  if (d.allChunks) return `${s} ALL`;
  const chunks = d.chunks ?? [];
  if (!chunks.length) return `${s} NONE`;
  s += ' ';
  s += chunks
    .map((type) => {
      let t = numeric ? `0x${type.toString(16).toUpperCase().padStart(4, '0')}` : CHUNK_NAMES.find(([, ct]) => ct === type)![0];
      // flags were stored under the table index; they show only where index and type agree
      for (const f of d.flagInfo ?? []) if (f.chunktype === type) t += flagsText(type, f);
      return t;
    })
    .join(',');
  return s;
}

function savePorts(opt: string, r: [number, number] | undefined, inv?: boolean): string {
  if (!r) return '';
  return `${inv ? ' !' : ''} --${opt} ${r[0] !== r[1] ? `${r[0]}:${r[1]}` : r[0]}`;
}

export const sctp: MatchExtension<SctpData> = {
  kind: 'match',
  name: 'sctp',
  // sctp_help() of libxt_sctp.c, byte for byte as iptables 1.8.9 prints it
  help:
    'sctp match options\n' +
    '[!] --source-port port[:port]                          match source port(s)\n' +
    ' --sport ...\n' +
    '[!] --destination-port port[:port]                     match destination port(s)\n' +
    ' --dport ...\n' +
    '[!] --chunk-types (all|any|none) (chunktype[:flags])+\tmatch if all, any or none of\n' +
    '\t\t\t\t\t\t        chunktypes are present\n' +
    'chunktypes - DATA INIT INIT_ACK SACK HEARTBEAT HEARTBEAT_ACK ABORT SHUTDOWN SHUTDOWN_ACK ERROR COOKIE_ECHO COOKIE_ACK ECN_ECNE ECN_CWR SHUTDOWN_COMPLETE ASCONF ASCONF_ACK FORWARD_TSN ALL NONE\n',
  options: opts,
  init: () => ({}),
  parse({ entry, arg, extra, invert, data, xflags }) {
    const seen = (id: number) => (xflags & (1 << id)) !== 0;
    switch (entry.id) {
      case 0:
        if (seen(0)) throw paramProblem("Only one `--source-port' allowed");
        data.spts = parsePortSpec(arg!, 'sctp');
        if (invert) data.invSrc = true;
        break;
      case 1:
        if (seen(1)) throw paramProblem("Only one `--destination-port' allowed");
        data.dpts = parsePortSpec(arg!, 'sctp');
        if (invert) data.invDst = true;
        break;
      case 2:
        if (seen(2)) throw paramProblem("Only one `--chunk-types' allowed");
        if (extra.length < 1) throw paramProblem('--chunk-types requires two args');
        parseChunks(data, arg!, extra[0]!);
        if (invert) data.invChunks = true;
        break;
    }
  },
  print(d, { numeric }) {
    let s = ' sctp';
    if (d.spts) s += printPortRange('spt', d.spts[0], d.spts[1], !!d.invSrc, 'sctp', numeric);
    if (d.dpts) s += printPortRange('dpt', d.dpts[0], d.dpts[1], !!d.invDst, 'sctp', numeric);
    if (d.chunkMatch) s += `${d.invChunks ? ' !' : ''}${chunksText(d, numeric)}`;
    return s;
  },
  save(d) {
    let s = savePorts('sport', d.spts, d.invSrc) + savePorts('dport', d.dpts, d.invDst);
    if (d.chunkMatch) s += `${d.invChunks ? ' !' : ''} --chunk-types${chunksText(d, false)}`;
    return s;
  },
  // xt_sctp is registered for IPPROTO_SCTP: the xt core refuses it on other rules
  kernelCheck: needsProtocol(132, 'sctp', 'the sctp match'),
  /**
   * sctp_mt(): ports as tcp/udp. The chunks of an SCTP packet are not part of the emulator's
   * packets, so a rule with --chunk-types cannot be evaluated and stops the trace.
   */
  match(d, pkt) {
    if (d.chunkMatch) {
      throw new SimError('cannot trace through a rule using sctp --chunk-types: the chunks of SCTP packets are not modelled', 3);
    }
    if (pkt.proto !== 132 || pkt.fragment) return false;
    if (d.spts && inRange(pkt.sport, d.spts[0], d.spts[1]) === !!d.invSrc) return false;
    if (d.dpts && inRange(pkt.dport, d.dpts[0], d.dpts[1]) === !!d.invDst) return false;
    return true;
  },
};
