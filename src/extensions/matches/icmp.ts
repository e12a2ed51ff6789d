/**
 * icmp match (libipt_icmp, ip_tables' icmp_match): --icmp-type NAME | TYPE[/CODE[:CODE]] | any.
 * Type 255 is the "any" wildcard the kernel checks first. Its IPv6 twin icmp6 (libip6t_icmp6)
 * parses and prints with the same code (libxt_icmp.h) and its own table of names.
 */
import { paramProblem } from '../../errors.js';
import { xtStrtoul } from '../../util/strtoul.js';
import type { MatchExtension } from '../types.js';
import { needsProtocol } from '../util/proto.js';

export interface IcmpData {
  type: number;
  code: [number, number];
  invert?: boolean;
}

type IcmpNames = [string, number, number, number][];

/** libxt_icmp.h icmp_codes[]: name, type, code_min, code_max */
const ICMP_CODES: IcmpNames = [
  ['any', 0xff, 0, 0xff],
  ['echo-reply', 0, 0, 0xff],
  ['pong', 0, 0, 0xff],
  ['destination-unreachable', 3, 0, 0xff],
  ['network-unreachable', 3, 0, 0],
  ['host-unreachable', 3, 1, 1],
  ['protocol-unreachable', 3, 2, 2],
  ['port-unreachable', 3, 3, 3],
  ['fragmentation-needed', 3, 4, 4],
  ['source-route-failed', 3, 5, 5],
  ['network-unknown', 3, 6, 6],
  ['host-unknown', 3, 7, 7],
  ['network-prohibited', 3, 9, 9],
  ['host-prohibited', 3, 10, 10],
  ['TOS-network-unreachable', 3, 11, 11],
  ['TOS-host-unreachable', 3, 12, 12],
  ['communication-prohibited', 3, 13, 13],
  ['host-precedence-violation', 3, 14, 14],
  ['precedence-cutoff', 3, 15, 15],
  ['source-quench', 4, 0, 0xff],
  ['redirect', 5, 0, 0xff],
  ['network-redirect', 5, 0, 0],
  ['host-redirect', 5, 1, 1],
  ['TOS-network-redirect', 5, 2, 2],
  ['TOS-host-redirect', 5, 3, 3],
  ['echo-request', 8, 0, 0xff],
  ['ping', 8, 0, 0xff],
  ['router-advertisement', 9, 0, 0xff],
  ['router-solicitation', 10, 0, 0xff],
  ['time-exceeded', 11, 0, 0xff],
  ['ttl-exceeded', 11, 0, 0xff],
  ['ttl-zero-during-transit', 11, 0, 0],
  ['ttl-zero-during-reassembly', 11, 1, 1],
  ['parameter-problem', 12, 0, 0xff],
  ['ip-header-bad', 12, 0, 0],
  ['required-option-missing', 12, 1, 1],
  ['timestamp-request', 13, 0, 0xff],
  ['timestamp-reply', 14, 0, 0xff],
  ['address-mask-request', 17, 0, 0xff],
  ['address-mask-reply', 18, 0, 0xff],
];

/** icmpv6_codes[] of libip6t_icmp6.c */
const ICMPV6_CODES: IcmpNames = [
  ['destination-unreachable', 1, 0, 0xff],
  ['no-route', 1, 0, 0],
  ['communication-prohibited', 1, 1, 1],
  ['beyond-scope', 1, 2, 2],
  ['address-unreachable', 1, 3, 3],
  ['port-unreachable', 1, 4, 4],
  ['failed-policy', 1, 5, 5],
  ['reject-route', 1, 6, 6],
  ['packet-too-big', 2, 0, 0xff],
  ['time-exceeded', 3, 0, 0xff],
  ['ttl-exceeded', 3, 0, 0xff],
  ['ttl-zero-during-transit', 3, 0, 0],
  ['ttl-zero-during-reassembly', 3, 1, 1],
  ['parameter-problem', 4, 0, 0xff],
  ['bad-header', 4, 0, 0],
  ['unknown-header-type', 4, 1, 1],
  ['unknown-option', 4, 2, 2],
  ['echo-request', 128, 0, 0xff],
  ['ping', 128, 0, 0xff],
  ['echo-reply', 129, 0, 0xff],
  ['pong', 129, 0, 0xff],
  ['router-solicitation', 133, 0, 0xff],
  ['router-advertisement', 134, 0, 0xff],
  ['neighbour-solicitation', 135, 0, 0xff],
  ['neighbor-solicitation', 135, 0, 0xff],
  ['neighbour-advertisement', 136, 0, 0xff],
  ['neighbor-advertisement', 136, 0, 0xff],
  ['redirect', 137, 0, 0xff],
];

/** parse_range(): "n" or "n:m", 0-255 each; the index after it, or undefined */
function parseRange(s: string, at: number): { range: [number, number]; next: number } | undefined {
  const a = xtStrtoul(s.slice(at), 0, 255, true);
  if (!a.ok) return undefined;
  let next = at + a.end;
  let hi = Number(a.value);
  if (s[next] === ':') {
    const b = xtStrtoul(s.slice(next + 1), 0, 255, true);
    if (!b.ok) return undefined;
    hi = Number(b.value);
    next = next + 1 + b.end;
  }
  return { range: [Number(a.value), hi], next };
}

/**
 * __parse_icmp() + __ipt_parse_icmp(): a name is any unambiguous prefix (case-insensitive) of a
 * table entry, otherwise numbers; a code range after '/' is kept as given. `label` is how the
 * messages name the protocol (ICMP, ICMPv6).
 */
function parseIcmpType(s: string, names: IcmpNames, label: string): { type: number; code: [number, number] } {
  let match = -1;
  for (let i = 0; i < names.length; i++) {
    if (!names[i]![0].toLowerCase().startsWith(s.toLowerCase())) continue;
    if (match >= 0) {
      throw paramProblem(`Ambiguous ${label} type \`${s}': \`${names[match]![0]}' or \`${names[i]![0]}'?`);
    }
    match = i;
  }
  if (match >= 0) {
    const [, type, lo, hi] = names[match]!;
    return { type, code: [lo, hi] };
  }
  const t = parseRange(s, 0);
  if (!t) throw paramProblem(`Unknown ${label} type \`${s}'`);
  let code: [number, number] = [0, 255];
  let next = t.next;
  if (next < s.length) {
    if (s[next] !== '/') throw paramProblem(`unknown character ${s[next]}`);
    const c = parseRange(s, next + 1);
    if (!c) throw paramProblem(`Unknown ${label} code \`${s}'`);
    code = c.range;
    next = c.next;
    if (next < s.length) throw paramProblem(`unknown character ${s[next]}`);
  }
  if (t.range[0] !== t.range[1]) throw paramProblem(`${label} type range not supported`);
  return { type: t.range[0], code };
}

/** print_icmptype(): the table name when type and code range equal an entry, else numbers */
function icmpText(d: IcmpData, numeric: boolean, names: IcmpNames): string {
  if (!numeric) {
    const e = names.find(([, t, lo, hi]) => t === d.type && lo === d.code[0] && hi === d.code[1]);
    if (e) return ` ${d.invert ? '!' : ''}${e[0]}`;
  }
  // no space before "type" unless inverted: " icmptype 8", " icmp !type 8"
  let s = `${d.invert ? ' !' : ''}type ${d.type}`;
  if (d.code[0] === d.code[1]) s += ` code ${d.code[0]}`;
  else if (d.code[0] !== 0 || d.code[1] !== 0xff) s += ` codes ${d.code[0]}-${d.code[1]}`;
  return s;
}

/** icmp_save() / icmp6_save(): the type, and only the lower code unless the range is full */
function typeSave(d: IcmpData, option: string): string {
  let s = `${d.invert ? ' !' : ''} --${option} ${d.type}`;
  if (d.code[0] !== 0 || d.code[1] !== 0xff) s += `/${d.code[0]}`;
  return s;
}

export const icmp: MatchExtension<IcmpData> = {
  kind: 'match',
  name: 'icmp',
  // IPv4 only (libipt_*)
  family: 4,
  // icmp_help() of libipt_icmp.c, byte for byte as iptables 1.8.9 prints it
  help:
    'icmp match options:\n' +
    '[!] --icmp-type typename\tmatch icmp type\n' +
    '[!] --icmp-type type[/code]\t(or numeric type or type/code)\n' +
    'Valid ICMP Types:\n' +
    'any\n' +
    'echo-reply (pong)\n' +
    'destination-unreachable\n' +
    '   network-unreachable\n' +
    '   host-unreachable\n' +
    '   protocol-unreachable\n' +
    '   port-unreachable\n' +
    '   fragmentation-needed\n' +
    '   source-route-failed\n' +
    '   network-unknown\n' +
    '   host-unknown\n' +
    '   network-prohibited\n' +
    '   host-prohibited\n' +
    '   TOS-network-unreachable\n' +
    '   TOS-host-unreachable\n' +
    '   communication-prohibited\n' +
    '   host-precedence-violation\n' +
    '   precedence-cutoff\n' +
    'source-quench\n' +
    'redirect\n' +
    '   network-redirect\n' +
    '   host-redirect\n' +
    '   TOS-network-redirect\n' +
    '   TOS-host-redirect\n' +
    'echo-request (ping)\n' +
    'router-advertisement\n' +
    'router-solicitation\n' +
    'time-exceeded (ttl-exceeded)\n' +
    '   ttl-zero-during-transit\n' +
    '   ttl-zero-during-reassembly\n' +
    'parameter-problem\n' +
    '   ip-header-bad\n' +
    '   required-option-missing\n' +
    'timestamp-request\n' +
    'timestamp-reply\n' +
    'address-mask-request\n' +
    'address-mask-reply\n',
  options: [{ name: 'icmp-type', id: 0, type: 'string', mandatory: true, invert: true }],
  // icmp_init(): "any" until --icmp-type says otherwise
  init: () => ({ type: 0xff, code: [0, 0xff] }),
  parse({ arg, invert, data }) {
    const r = parseIcmpType(arg!, ICMP_CODES, 'ICMP');
    data.type = r.type;
    data.code = r.code;
    if (invert) data.invert = true;
  },
  print: (d, { numeric }) => ` icmp${icmpText(d, numeric, ICMP_CODES)}`,
  // icmp_save(): "any" for type 255
  save: (d) => (d.type === 0xff ? `${d.invert ? ' !' : ''} --icmp-type any` : typeSave(d, 'icmp-type')),
  // the xt core refuses a match registered for IPPROTO_ICMP on other (or inverted) protocols
  kernelCheck: needsProtocol(1, 'icmp', 'the icmp match'),
  // icmp_match() / icmp_type_code_match(): type 255 matches every ICMP message
  match(d, pkt) {
    if (pkt.proto !== 1 || pkt.fragment || pkt.icmpType === undefined) return false;
    const code = pkt.icmpCode ?? 0;
    const hit = d.type === 0xff || (pkt.icmpType === d.type && code >= d.code[0] && code <= d.code[1]);
    return hit !== !!d.invert;
  },
};

/** icmp6: ip6tables rules only, which the lab keeps but never runs packets through (no match()) */
export const icmp6: MatchExtension<IcmpData> = {
  kind: 'match',
  name: 'icmp6',
  // xtables_find_match()'s trivial alias: -m icmpv6, -m ipv6-icmp and -p icmpv6 load icmp6
  aliases: ['icmpv6', 'ipv6-icmp'],
  family: 6,
  // icmp6_help() of libip6t_icmp6.c, byte for byte as iptables 1.8.9 prints it
  help:
    'icmpv6 match options:\n' +
    '[!] --icmpv6-type typename\tmatch icmpv6 type\n' +
    '\t\t\t\t(or numeric type or type/code)\n' +
    'Valid ICMPv6 Types:\n' +
    'destination-unreachable\n' +
    '   no-route\n' +
    '   communication-prohibited\n' +
    '   beyond-scope\n' +
    '   address-unreachable\n' +
    '   port-unreachable\n' +
    '   failed-policy\n' +
    '   reject-route\n' +
    'packet-too-big\n' +
    'time-exceeded (ttl-exceeded)\n' +
    '   ttl-zero-during-transit\n' +
    '   ttl-zero-during-reassembly\n' +
    'parameter-problem\n' +
    '   bad-header\n' +
    '   unknown-header-type\n' +
    '   unknown-option\n' +
    'echo-request (ping)\n' +
    'echo-reply (pong)\n' +
    'router-solicitation\n' +
    'router-advertisement\n' +
    'neighbour-solicitation (neighbor-solicitation)\n' +
    'neighbour-advertisement (neighbor-advertisement)\n' +
    'redirect\n',
  options: [{ name: 'icmpv6-type', id: 0, type: 'string', mandatory: true, invert: true }],
  init: () => ({ type: 0, code: [0, 0] }),
  parse({ arg, invert, data }) {
    const r = parseIcmpType(arg!, ICMPV6_CODES, 'ICMPv6');
    data.type = r.type;
    data.code = r.code;
    if (invert) data.invert = true;
  },
  // " ipv6-icmptype 133" numerically, " ipv6-icmp router-solicitation" by name (measured)
  print: (d, { numeric }) => ` ipv6-icmp${icmpText(d, numeric, ICMPV6_CODES)}`,
  save: (d) => typeSave(d, 'icmpv6-type'),
  // registered for IPPROTO_ICMPV6: the kernel refuses it on other (or inverted) protocols
  kernelCheck: needsProtocol(58, 'ipv6-icmp', 'the icmp6 match'),
};
