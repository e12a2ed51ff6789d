/**
 * multiport match, revision 1 (libxt_multiport, xt_multiport): up to 15 ports (a range takes two
 * slots) as --sports, --dports or --ports (either), for tcp, udp, udplite, sctp and dccp rules.
 */
import { paramProblem } from '../../errors.js';
import { portToService } from '../../net/netdb.js';
import type { MatchExtension, OptionEntry } from '../types.js';
import { parsePort } from '../util/ports.js';

export interface MultiportData {
  /** XT_MULTIPORT_SOURCE 0, XT_MULTIPORT_DESTINATION 1, XT_MULTIPORT_EITHER 2 */
  flags: number;
  /** single ports and ranges in the order given */
  items: ([number] | [number, number])[];
  invert?: boolean;
}

const O_SOURCE_PORTS = 0;
const O_DEST_PORTS = 1;
const O_SD_PORTS = 2;
const ANY = [O_SOURCE_PORTS, O_DEST_PORTS, O_SD_PORTS];
const MULTI_PORTS = 15;

const opts: OptionEntry[] = [
  { name: 'source-ports', id: O_SOURCE_PORTS, type: 'string', excl: ANY, invert: true },
  { name: 'sports', id: O_SOURCE_PORTS, type: 'string', excl: ANY, invert: true },
  { name: 'destination-ports', id: O_DEST_PORTS, type: 'string', excl: ANY, invert: true },
  { name: 'dports', id: O_DEST_PORTS, type: 'string', excl: ANY, invert: true },
  { name: 'ports', id: O_SD_PORTS, type: 'string', excl: ANY, invert: true },
];

const PROTO_NAMES: Record<number, string> = { 6: 'tcp', 17: 'udp', 136: 'udplite', 132: 'sctp', 33: 'dccp' };

/** check_proto(): the rule's -p, given before -m multiport */
function checkProto(proto: number, invProto: boolean): string {
  if (invProto) throw paramProblem('multiport only works with TCP, UDP, UDPLITE, SCTP and DCCP');
  const name = PROTO_NAMES[proto];
  if (name) return name;
  if (!proto) throw paramProblem("multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or `-p dccp'");
  throw paramProblem('multiport only works with TCP, UDP, UDPLITE, SCTP and DCCP');
}

/**
 * parse_multi_ports_v1(): comma-separated ports or "a:b" ranges (a < b), each resolved with
 * xtables_parse_port() for the rule's protocol; at most 15 slots, a range needing two.
 */
function parsePorts(arg: string, proto: string): MultiportData['items'] {
  const items: MultiportData['items'] = [];
  let slots = 0;
  let rest: string | undefined = arg;
  while (rest !== undefined && slots < MULTI_PORTS) {
    const comma: number = rest.indexOf(',');
    const cp: string = comma >= 0 ? rest.slice(0, comma) : rest;
    rest = comma >= 0 ? rest.slice(comma + 1) : undefined;
    const colon = cp.indexOf(':');
    if (colon >= 0 && slots === MULTI_PORTS - 1) throw paramProblem('too many ports specified');
    const lo = parsePort(colon >= 0 ? cp.slice(0, colon) : cp, proto);
    if (colon >= 0) {
      const hi = parsePort(cp.slice(colon + 1), proto);
      if (lo >= hi) throw paramProblem('invalid portrange specified');
      items.push([lo, hi]);
      slots += 2;
    } else {
      items.push([lo]);
      slots += 1;
    }
  }
  if (rest !== undefined) throw paramProblem('too many ports specified');
  return items;
}

const KIND_PRINT = ['sports', 'dports', 'ports'];
const KIND_SAVE = ['--sports', '--dports', '--ports'];

function portsText(d: MultiportData, proto: number, numeric: boolean): string {
  const name = (p: number) => (numeric ? undefined : portToService(p, PROTO_NAMES[proto] ?? '')) ?? String(p);
  return d.items.map((it) => (it.length === 2 ? `${name(it[0])}:${name(it[1])}` : name(it[0]))).join(',');
}

export const multiport: MatchExtension<MultiportData> = {
  kind: 'match',
  name: 'multiport',
  revision: 1,
  // multiport_help_v1() of libxt_multiport.c, byte for byte as iptables 1.8.9 prints it
  help:
    'multiport match options:\n' +
    '[!] --source-ports port[,port:port,port...]\n' +
    ' --sports ...\n' +
    '\t\t\t\tmatch source port(s)\n' +
    '[!] --destination-ports port[,port:port,port...]\n' +
    ' --dports ...\n' +
    '\t\t\t\tmatch destination port(s)\n' +
    '[!] --ports port[,port:port,port]\n' +
    '\t\t\t\tmatch both source and destination port(s)\n',
  options: opts,
  init: () => ({ flags: 0, items: [] }),
  parse({ entry, arg, invert, data, frame }) {
    const proto = checkProto(frame.proto, frame.invProto);
    data.items = parsePorts(arg!, proto);
    data.flags = entry.id;
    if (invert) data.invert = true;
  },
  finalCheck({ xflags }) {
    if (xflags === 0) throw paramProblem('multiport expection an option');
  },
  // __multiport_print_v1(): the '!' comes after a space of its own ("dports  !22")
  print: (d, { numeric, frame }) => ` multiport ${KIND_PRINT[d.flags]} ${d.invert ? ' !' : ''}${portsText(d, frame.proto, numeric)}`,
  save: (d, { frame }) => `${d.invert ? ' !' : ''} ${KIND_SAVE[d.flags]} ${portsText(d, frame.proto, true)}`,
  // multiport_mt_check(): a port protocol, not inverted
  kernelCheck: (_d, { frame }) =>
    !PROTO_NAMES[frame.proto] || frame.invProto ? 'multiport only works with TCP, UDP, UDPLITE, SCTP and DCCP' : undefined,
  // ports_match_v1(): the first listed port or range that fits decides; fragments never match
  match(d, pkt) {
    if (pkt.fragment || pkt.sport === undefined || pkt.dport === undefined) return false;
    const src = pkt.sport;
    const dst = pkt.dport;
    for (const it of d.items) {
      const lo = it[0];
      const hi = it.length === 2 ? it[1] : it[0];
      const s = src >= lo && src <= hi;
      const t = dst >= lo && dst <= hi;
      if ((d.flags === O_SOURCE_PORTS && s) || (d.flags === O_DEST_PORTS && t) || (d.flags === O_SD_PORTS && (s || t))) {
        return !d.invert;
      }
    }
    return !!d.invert;
  },
};
