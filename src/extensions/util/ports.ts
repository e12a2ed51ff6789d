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
