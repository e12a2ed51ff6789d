/**
 * TCPOPTSTRIP target (libxt_TCPOPTSTRIP.c, xt_TCPOPTSTRIP): overwrites the listed TCP options of a
 * packet with NOPs and lets it go on; mangle table, `-p tcp` rules only. Of the options, the lab's
 * packets carry the MSS (on SYNs and SYN-ACKs), which a stripped packet loses: the tcpmss match
 * then finds none. Measured: fixtures/cli/ext-more.case, fixtures/kernel/116-realm-audit.scn.
 */
import { paramProblem } from '../../errors.js';
import { parseUint } from '../../util/strtoul.js';
import { needsProtocol } from '../util/proto.js';
import type { TargetExtension } from '../types.js';

export interface TcpoptstripData {
  /** the option kinds to strip, ascending (the C bitmap's set bits) */
  options: number[];
}

/** tcp_optionmap[]: names, what the help calls them, option kinds */
const OPTION_NAMES: [string, string, number][] = [
  ['wscale', 'Window scale', 3],
  ['mss', 'Maximum Segment Size', 2],
  ['sack-permitted', 'SACK permitted', 4],
  ['sack', 'Selective ACK', 5],
  ['timestamp', 'Timestamp', 8],
  ['md5', 'MD5 signature', 19],
];
const MSS = 2;

/** parse_list(): comma-separated names or numbers 2-255, each once */
function parseList(data: TcpoptstripData, arg: string): void {
  for (const item of arg.split(',')) {
    let option = OPTION_NAMES.find(([name]) => name === item)?.[2] ?? 0;
    if (option === 0) {
      const n = parseUint(item, 0, 255);
      if (n === undefined) throw paramProblem(`Bad TCP option value "${item}"`);
      option = n;
    }
    if (option < 2) throw paramProblem('Option value may not be 0 or 1');
    if (data.options.includes(option)) throw paramProblem(`Option "${item}" already specified`);
    data.options.push(option);
  }
  data.options.sort((a, b) => a - b);
}

/** tcpoptstrip_print_list() */
const listText = (d: TcpoptstripData, numeric: boolean): string =>
  d.options.map((o) => (numeric ? undefined : OPTION_NAMES.find(([, , kind]) => kind === o)?.[0]) ?? `${o}`).join(',');

export const TCPOPTSTRIP: TargetExtension<TcpoptstripData> = {
  kind: 'target',
  name: 'TCPOPTSTRIP',
  // tcpoptstrip_tg_help() of libxt_TCPOPTSTRIP.c
  help:
    'TCPOPTSTRIP target options:\n' +
    '  --strip-options value     strip specified TCP options denoted by value\n' +
    '                            (separated by comma) from TCP header\n' +
    '  Instead of the numeric value, you can also use the following names:\n' +
    OPTION_NAMES.map(([name, desc]) => `    ${name.padEnd(14)}    strip "${desc}" option\n`).join(''),
  options: [{ name: 'strip-options', id: 0, type: 'string' }],
  init: () => ({ options: [] }),
  parse: ({ arg, data }) => parseList(data, arg!),
  // nothing at all for an empty list
  print: (d, { numeric }) => (d.options.length ? ` TCPOPTSTRIP options ${listText(d, numeric)}` : ''),
  save: (d) => (d.options.length ? ` --strip-options ${listText(d, true)}` : ''),
  tables: ['mangle'],
  // xt_TCPOPTSTRIP has .proto = IPPROTO_TCP
  kernelCheck: needsProtocol(6, 'tcp', 'the TCPOPTSTRIP target'),
  // tcpoptstrip_mangle_packet(): a fragment is left as it is; the options in the header become NOPs
  apply(d, pkt) {
    if (pkt.proto !== 6 || pkt.fragment) return { verdict: 'CONTINUE' };
    if (!d.options.includes(MSS) || pkt.tcpMss === undefined) return { verdict: 'CONTINUE', note: `TCPOPTSTRIP: none of ${listText(d, false)} in the packet (the lab's packets carry only an MSS option, on SYNs)` };
    const old = pkt.tcpMss;
    pkt.tcpMss = undefined;
    return { verdict: 'CONTINUE', note: `TCPOPTSTRIP replaced the MSS option (${old}) with NOPs` };
  },
};
