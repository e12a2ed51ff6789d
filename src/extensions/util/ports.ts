/**
 * Ports as the tcp/udp/multiport extensions parse and print them.
 */
import { paramProblem } from '../../errors.js';
import { portToService, serviceToPort } from '../../net/netdb.js';
import { parseUint } from '../../util/strtoul.js';

/** xtables_parse_port(port, proto): a base-0 number up to 65535 or a service name of `proto` */
export function parsePort(port: string, proto: string): number {
  const n = parseUint(port, 0, 65535);
  if (n !== undefined) return n;
  const s = serviceToPort(port, proto);
  if (s !== undefined) return s;
  throw paramProblem(`invalid port/service \`${port}' specified`);
}

/** the service name of a port for -L, or the number (numeric or unknown) */
export function portName(port: number, proto: string, numeric: boolean): string {
  return (numeric ? undefined : portToService(port, proto)) ?? String(port);
}

/** print_ports() of libxt_tcp/libxt_udp: " dpt:http", " spts:1024:65535", " dpt:!22" */
export function printPortRange(label: string, min: number, max: number, invert: boolean, proto: string, numeric: boolean): string {
  if (min === 0 && max === 0xffff && !invert) return '';
  const inv = invert ? '!' : '';
  if (min === max) return ` ${label}:${inv}${portName(min, proto, numeric)}`;
  return ` ${label}s:${inv}${portName(min, proto, numeric)}:${portName(max, proto, numeric)}`;
}

/** save form: " ! --dport 80" / " --sport 1024:65535" */
export function savePortRange(opt: string, min: number, max: number, invert: boolean): string {
  if (min === 0 && max === 0xffff) return '';
  return `${invert ? ' !' : ''} --${opt} ${min === max ? min : `${min}:${max}`}`;
}

export function inRange(p: number | undefined, min: number, max: number): boolean {
  return p !== undefined && p >= min && p <= max;
}

/**
 * One expression iptables-nft stored for a tcp or udp match, as the kernel tests it (nft.c
 * add_nft_tcpudp, add_nft_tcp): a port in [lo, hi] (or, inverted, not), a single source and
 * destination port as one 32-bit compare (both equal, or inverted: not both), TCP flags.
 */
export type PortTest =
  | { t: 'sport' | 'dport'; lo: number; hi: number; inv: boolean }
  | { t: 'ports'; sport: number; dport: number; inv: boolean }
  | { t: 'flags'; mask: number; cmp: number; inv: boolean };

/** every one of `tests` holds for the packet (the rule's expressions, all of which the kernel evaluates) */
export function portTestsHold(tests: readonly PortTest[], sport: number | undefined, dport: number | undefined, tcpFlags: number): boolean {
  for (const x of tests) {
    const hit =
      x.t === 'ports' ? sport === x.sport && dport === x.dport : x.t === 'flags' ? (tcpFlags & x.mask) === x.cmp : inRange(x.t === 'sport' ? sport : dport, x.lo, x.hi);
    if (hit === x.inv) return false;
  }
  return true;
}
