/**
 * dccp match (libxt_dccp.c, xt_dccp): DCCP source and destination port ranges, packet types and
 * an option number. The kernel takes it only in a rule of `-p dccp` (33), and the lab traces TCP,
 * UDP and ICMP only, so a traced packet never reaches one (no match()). Measured:
 * fixtures/cli/ext-more.case.
 */
import { paramProblem } from '../../errors.js';
import { printPortRange } from '../util/ports.js';
import { needsProtocol } from '../util/proto.js';
import type { MatchExtension } from '../types.js';

const O_SPORT = 0;
const O_DPORT = 1;
const O_TYPES = 2;
const O_OPTION = 3;

export interface DccpData {
  spts?: [number, number];
  invSpts?: boolean;
  dpts?: [number, number];
  invDpts?: boolean;
  /** bit i: packet type i (INVALID, 10, also sets 11-15) */
  types?: number;
  invTypes?: boolean;
  option?: number;
  invOption?: boolean;
}

/** dccp_pkt_types[], by type number */
const TYPES = ['REQUEST', 'RESPONSE', 'DATA', 'ACK', 'DATAACK', 'CLOSEREQ', 'CLOSE', 'RESET', 'SYNC', 'SYNCACK', 'INVALID'];
const INVALID = 10;
/** the bits of types 11-15, which INVALID stands for too */
const INVALID_OTHER_TYPE_MASK = 0xf800;

/** parse_dccp_types(): strtok() on ',' (empty names vanish), names case-insensitive */
function parseTypes(list: string): number {
  let mask = 0;
  for (const name of list.split(',').filter((x) => x)) {
    const i = TYPES.findIndex((t) => t.toLowerCase() === name.toLowerCase());
    if (i < 0) throw paramProblem(`Unknown DCCP type \`${name}'`);
    mask |= 1 << i;
  }
  if (mask & (1 << INVALID)) mask |= INVALID_OTHER_TYPE_MASK;
  return mask;
}

/** print_types(): numbers, or names up to INVALID (which stands for the rest) */
function typesText(types: number, numeric: boolean): string {
  const out: string[] = [];
  for (let i = 0; i < 16; i++) {
    if (!(types & (1 << i))) continue;
    if (numeric) out.push(String(i));
    else {
      out.push(TYPES[i]!);
      if (i === INVALID) break;
    }
  }
  return out.join(',');
}

const range = ([lo, hi]: [number, number]) => (lo === hi ? `${lo}` : `${lo}:${hi}`);

export const dccp: MatchExtension<DccpData> = {
  kind: 'match',
  name: 'dccp',
  // dccp_help() of libxt_dccp.c
  help:
    'dccp match options\n' +
    '[!] --source-port port[:port]                          match source port(s)\n' +
    ' --sport ...\n' +
    '[!] --destination-port port[:port]                     match destination port(s)\n' +
    ' --dport ...\n' +
    '[!] --dccp-types type[,...]                            match when packet is one of the given types\n' +
    '[!] --dccp-option option                               match if option (by number!) is set\n',
  options: [
    { name: 'source-port', id: O_SPORT, type: 'portrc', invert: true },
    { name: 'sport', id: O_SPORT, type: 'portrc', invert: true },
    { name: 'destination-port', id: O_DPORT, type: 'portrc', invert: true },
    { name: 'dport', id: O_DPORT, type: 'portrc', invert: true },
    { name: 'dccp-types', id: O_TYPES, type: 'string', invert: true },
    { name: 'dccp-option', id: O_OPTION, type: 'uint8', min: 1, max: 255, invert: true },
  ],
  init: () => ({}),
  parse({ entry, val, arg, invert, data }) {
    switch (entry.id) {
      case O_SPORT:
        data.spts = [val.portRange![0], val.portRange![1]];
        if (invert) data.invSpts = true;
        break;
      case O_DPORT:
        data.dpts = [val.portRange![0], val.portRange![1]];
        if (invert) data.invDpts = true;
        break;
      case O_TYPES:
        data.types = parseTypes(arg!);
        if (invert) data.invTypes = true;
        break;
      case O_OPTION:
        data.option = val.num!;
        if (invert) data.invOption = true;
        break;
    }
  },
  print(d, { numeric }) {
    let s = ' dccp';
    if (d.spts) s += printPortRange('spt', d.spts[0], d.spts[1], !!d.invSpts, 'dccp', numeric);
    if (d.dpts) s += printPortRange('dpt', d.dpts[0], d.dpts[1], !!d.invDpts, 'dccp', numeric);
    if (d.types !== undefined) s += `${d.invTypes ? ' !' : ''} ${typesText(d.types, numeric)}`;
    if (d.option !== undefined && (d.option || d.invOption)) s += ` option=${d.invOption ? '!' : ''}${d.option}`;
    return s;
  },
  save(d) {
    let s = '';
    if (d.spts) s += `${d.invSpts ? ' !' : ''} --sport ${range(d.spts)}`;
    if (d.dpts) s += `${d.invDpts ? ' !' : ''} --dport ${range(d.dpts)}`;
    if (d.types !== undefined) s += `${d.invTypes ? ' !' : ''} --dccp-types ${typesText(d.types, false)}`;
    if (d.option !== undefined) s += `${d.invOption ? ' !' : ''} --dccp-option ${d.option}`;
    return s;
  },
  // xt_dccp has .proto = IPPROTO_DCCP
  kernelCheck: needsProtocol(33, 'dccp', 'the dccp match'),
};
