/**
 * The IPsec header matches: esp (libxt_esp.c of iptables 1.8.9, net/netfilter/xt_esp.c, both
 * families), ah for iptables (libipt_ah.c, net/ipv4/netfilter/ipt_ah.c) and ah for ip6tables
 * (libip6t_ah.c, net/ipv6/netfilter/ip6t_ah.c, with --ahlen and --ahres), and ipcomp (libxt_ipcomp.c,
 * net/netfilter/xt_ipcomp.c: IPComp's CPI, both families; fixtures/cli/ext-more.case).
 *
 * Measured (fixtures/cli/ext-esp-ah.case): the SPI range is an x6 uint32 range ("" is 0, ":5" is
 * 0:5, "5:" is 5:4294967295, a reversed range is kept), the full range 0:4294967295 is saved as
 * nothing (so `! --espspi 0:4294967295` is saved without its '!', but -L shows
 * `spis:!0:4294967295`). The kernel registers esp (both families) and the IPv4 ah for their own
 * protocol only (-p esp / -p ah, not inverted); the IPv6 ah has no such restriction, since AH is
 * an extension header that ip6t_ah looks for with ipv6_find_hdr().
 */
import { paramProblem, SimError } from '../../errors.js';
import type { PacketView } from '../../engine/ext-api.js';
import { rangeOf } from '../xtoptions.js';
import type { MatchExtension, OptionEntry, ParseCall } from '../types.js';
import { needsProtocol } from '../util/proto.js';

const SPI_MAX = 0xffffffff;

export interface SpiData {
  /** spis[0], spis[1] */
  min: number;
  max: number;
  /** XT_ESP_INV_SPI / IPT_AH_INV_SPI / IP6T_AH_INV_SPI */
  invert: boolean;
}

export interface AhData extends SpiData {
  /** --ahlen, 0 = not checked */
  hdrlen: number;
  invLen: boolean;
  /** --ahres */
  hdrres: boolean;
}

const spiOption = (name: string): OptionEntry => ({ name, id: 0, type: 'uint32rc', invert: true });
const initSpi = (): SpiData => ({ min: 0, max: SPI_MAX, invert: false });

/** esp_parse()/ah_parse(): one value is min = max */
function parseSpi(d: SpiData, { val, invert }: Pick<ParseCall<SpiData>, 'val' | 'invert'>): void {
  [d.min, d.max] = rangeOf(val);
  if (invert) d.invert = true;
}

const isAll = (d: SpiData) => d.min === 0 && d.max === SPI_MAX;

/** print_spis(): "spi:[!]N" or "spis:[!]MIN:MAX", nothing for an uninverted full range */
function spisText(d: SpiData): string {
  if (isAll(d) && !d.invert) return '';
  const inv = d.invert ? '!' : '';
  return d.min === d.max ? `spi:${inv}${d.min}` : `spis:${inv}${d.min}:${d.max}`;
}

/** esp_save()/ah_save(): nothing for the full range, whatever '!' says */
function saveSpi(d: SpiData, option: string): string {
  if (isAll(d)) return '';
  return `${d.invert ? ' !' : ''} --${option} ${d.min === d.max ? d.min : `${d.min}:${d.max}`}`;
}

/**
 * esp_mt()/ah_mt(): a non-first fragment never matches; otherwise spi_match(min, max, spi,
 * invert) = (min <= spi <= max) XOR invert on the SPI of the header. The rule's -p keeps other
 * protocols away (xt_check_match refuses the rule without it). Traced packets carry no ESP/AH
 * header, so only a test whose answer is the same for every SPI can be decided: the full range
 * (true, or false when inverted) and a reversed one (false, or true when inverted).
 */
function spiMatch(header: 'ESP' | 'AH' | 'IPComp', proto: number) {
  return (d: SpiData, pkt: PacketView): boolean => {
    if (pkt.proto !== proto || pkt.fragment) return false;
    if (isAll(d)) return !d.invert;
    if (d.min > d.max) return d.invert;
    throw new SimError(`cannot trace through an ${header.toLowerCase()} match on SPI ${spisText(d).replace(/^spis?:/, '')}: traced packets carry no ${header} header, so their SPI is unknown`, 3);
  };
}

export const esp: MatchExtension<SpiData> = {
  kind: 'match',
  name: 'esp',
  // esp_help() of libxt_esp.c
  help: 'esp match options:\n[!] --espspi spi[:spi]\n\t\t\t\tmatch spi (range)\n',
  options: [spiOption('espspi')],
  init: initSpi,
  parse: (c) => parseSpi(c.data, c),
  print: (d) => ` esp${spisText(d) && ` ${spisText(d)}`}`,
  save: (d) => saveSpi(d, 'espspi'),
  kernelCheck: needsProtocol(50, 'esp', 'the esp match'),
  match: spiMatch('ESP', 50),
};

const O_AHSPI = 0;
const O_AHLEN = 1;
const O_AHRES = 2;

/**
 * ah: one module for both tools, since the rule stores the name "ah" either way. iptables' form
 * (libipt_ah) has only --ahspi: ip6tables' --ahlen and --ahres are refused in an iptables rule
 * with getopt's message (an abbreviation is named in full there, where getopt would repeat it as
 * typed).
 */
export const ah: MatchExtension<AhData> = {
  kind: 'match',
  name: 'ah',
  // ah_help() of libipt_ah.c
  help: 'ah match options:\n[!] --ahspi spi[:spi]\n\t\t\t\tmatch spi (range)\n',
  // ah_help() of libip6t_ah.c
  help6:
    'ah match options:\n' +
    '[!] --ahspi spi[:spi]          match spi (range)\n' +
    '[!] --ahlen length             total length of this header\n' +
    ' --ahres                       check the reserved field too\n',
  options: [spiOption('ahspi'), { name: 'ahlen', id: O_AHLEN, type: 'uint32', invert: true }, { name: 'ahres', id: O_AHRES, type: 'none' }],
  init: () => ({ ...initSpi(), hdrlen: 0, invLen: false, hdrres: false }),
  parse(c: ParseCall<AhData>) {
    const d = c.data;
    if (c.entry.id !== O_AHSPI && c.frame.family !== 6) throw paramProblem(`unknown option "--${c.entry.name}"`);
    if (c.entry.id === O_AHSPI) parseSpi(d, c);
    else if (c.entry.id === O_AHLEN) {
      d.hdrlen = c.val.num!;
      if (c.invert) d.invLen = true;
    } else d.hdrres = true;
  },
  // ah_print() of both: " ah ", then print_spis() without a space of its own; libip6t_ah's then
  // print_len() ("length:[!]N" unless 0 and not inverted) and " reserved", glued on as in C
  print: (d) => ` ah ${spisText(d)}${d.hdrlen !== 0 || d.invLen ? `length:${d.invLen ? '!' : ''}${d.hdrlen}` : ''}${d.hdrres ? ' reserved' : ''}`,
  save: (d) =>
    saveSpi(d, 'ahspi') + (d.hdrlen !== 0 || d.invLen ? `${d.invLen ? ' !' : ''} --ahlen ${d.hdrlen}` : '') + (d.hdrres ? ' --ahres' : ''),
  // ipt_ah has .proto = IPPROTO_AH; ip6t_ah looks for the header among the extension headers and
  // has no .proto
  kernelCheck: (d, where) => (where.frame.family === 6 ? undefined : needsProtocol(51, 'ah', 'the ah match')(d, where)),
  // ah_mt() of ipt_ah; IPv6 packets are not traced
  match: spiMatch('AH', 51),
};

export interface IpcompData extends SpiData {
  /** --compres (which the kernel ignores) */
  hdrres: boolean;
}

export const ipcomp: MatchExtension<IpcompData> = {
  kind: 'match',
  name: 'ipcomp',
  // comp_help() of libxt_ipcomp.c
  help: 'comp match options:\n[!] --ipcompspi spi[:spi]\n\t\t\t\tmatch spi (range)\n',
  options: [spiOption('ipcompspi'), { name: 'compres', id: 1, type: 'none' }],
  // no init(): without --ipcompspi the range is 0:0 (measured: saved as `--ipcompspi 0`)
  init: () => ({ min: 0, max: 0, invert: false, hdrres: false }),
  parse(c: ParseCall<IpcompData>) {
    if (c.entry.id === 0) parseSpi(c.data, c);
    else c.data.hdrres = true;
  },
  // comp_print(): " comp ", then print_spis() without a space of its own
  print: (d) => ` comp ${spisText(d)}${d.hdrres ? ' reserved' : ''}`,
  save: (d) => saveSpi(d, 'ipcompspi') + (d.hdrres ? ' --compres' : ''),
  // xt_ipcomp has .proto = IPPROTO_COMP
  kernelCheck: needsProtocol(108, 'ipcomp', 'the ipcomp match'),
  match: spiMatch('IPComp', 108),
};
