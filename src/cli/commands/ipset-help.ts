/**
 * `ipset help TYPENAME` (ipset 7.17, lib/ipset.c): after the general help, the type's commands
 * with the help of each option it takes, its usage and its family, as libipset's type tables
 * give them; recorded in fixtures/cli/ipset-help.case. Kept for the types the emulator models.
 */
import { ICMP_NAMES, ICMPV6_NAMES } from '../../net/ipset.js';

const HASH_CREATE = ['[family inet|inet6]|[-4|-6]', '[hashsize VALUE]', '[maxelem VALUE]', '[timeout VALUE]', '[counters]', '[comment]', '[forceadd]', '[skbinfo]', '[bucketsize VALUE]', '[initval VALUE]'];
const SKB = ['[skbmark VALUE]', '[skbprio VALUE]', '[skbqueue VALUE]'];
const ADD = ['[timeout VALUE]', '[packets VALUE]', '[bytes VALUE]', '[comment "string"]', ...SKB];
const ADD_NOMATCH = ['[timeout VALUE]', '[nomatch]', '[packets VALUE]', '[bytes VALUE]', '[comment "string"]', ...SKB];
const NETMASK = ['[netmask CIDR]', '[bitmask bitmask]'];

const FAMILY46 = 'where depending on the INET family\n      ';
const PORT_RANGES = '      Adding/deleting multiple elements with TCP/SCTP/UDP/UDPLITE\n      port range is supported both for IPv4 and IPv6.';

interface TypeHelp {
  /** create, add, del, test: the element's (or create's) syntax and the options' help */
  cmds: [string, string[]][];
  usage: string;
  /** ipset_port_usage() after the usage */
  ports?: boolean;
  family: 'inet and inet6' | 'neutral' | 'inet';
}

const TYPES: Record<string, TypeHelp> = {
  'hash:ip': {
    cmds: [['', [...HASH_CREATE.slice(0, 3), ...NETMASK, ...HASH_CREATE.slice(3)]], ['IP', ADD], ['IP', []], ['IP', []]],
    usage: `${FAMILY46}IP is a valid IPv4 or IPv6 address (or hostname),\n      CIDR is a valid IPv4 or IPv6 CIDR prefix.\n      Adding/deleting multiple elements in IP/CIDR or FROM-TO form\n      is supported for IPv4.`,
    family: 'inet and inet6',
  },
  'hash:net': {
    cmds: [['', HASH_CREATE], ['IP[/CIDR]', ADD_NOMATCH], ['IP[/CIDR]', []], ['IP[/CIDR]', ['[nomatch]']]],
    usage: `${FAMILY46}IP is an IPv4 or IPv6 address (or hostname),\n      CIDR is a valid IPv4 or IPv6 CIDR prefix.`,
    family: 'inet and inet6',
  },
  'hash:ip,port': {
    cmds: [['', [...HASH_CREATE, ...NETMASK]], ['IP,[PROTO:]PORT', ADD], ['IP,[PROTO:]PORT', []], ['IP,[PROTO:]PORT', []]],
    usage: `${FAMILY46}IP is a valid IPv4 or IPv6 address (or hostname).\n      Adding/deleting multiple elements in IP/CIDR or FROM-TO form\n      is supported for IPv4.\n${PORT_RANGES}`,
    ports: true,
    family: 'inet and inet6',
  },
  'hash:net,port': {
    cmds: [['', HASH_CREATE], ['IP[/CIDR]|FROM-TO,[PROTO:]PORT', ADD_NOMATCH], ['IP[/CIDR]|FROM-TO,[PROTO:]PORT', []], ['IP[/CIDR],[PROTO:]PORT', ['[nomatch]']]],
    usage: `${FAMILY46}IP is a valid IPv4 or IPv6 address (or hostname),\n      CIDR is a valid IPv4 or IPv6 CIDR prefix.\n${PORT_RANGES}`,
    ports: true,
    family: 'inet and inet6',
  },
  'hash:ip,port,ip': {
    cmds: [['', HASH_CREATE], ['IP,[PROTO:]PORT,IP', ADD], ['IP,[PROTO:]PORT,IP', []], ['IP,[PROTO:]PORT,IP', []]],
    usage: `${FAMILY46}IP is a valid IPv4 or IPv6 address (or hostname).\n      Adding/deleting multiple elements in IP/CIDR or FROM-TO form\n      in the first IP component is supported for IPv4.\n${PORT_RANGES}`,
    ports: true,
    family: 'inet and inet6',
  },
  'hash:ip,port,net': {
    cmds: [['', HASH_CREATE], ['IP,[PROTO:]PORT,IP[/CIDR]', ADD_NOMATCH], ['IP,[PROTO:]PORT,IP[/CIDR]', []], ['IP,[PROTO:]PORT,IP[/CIDR]', ['[nomatch]']]],
    usage: `${FAMILY46}IP are valid IPv4 or IPv6 addresses (or hostnames),\n      CIDR is a valid IPv4 or IPv6 CIDR prefix.\n      Adding/deleting multiple elements in IP/CIDR or FROM-TO form\n      in the first IP component is supported for IPv4.\n${PORT_RANGES}`,
    ports: true,
    family: 'inet and inet6',
  },
  'list:set': {
    cmds: [
      ['', ['[size VALUE]', '[timeout VALUE]', '[counters]', '[comment]', '[skbinfo]']],
      ['NAME [before|after NAME]', ['[timeout VALUE]', '[before|after NAME]', '[packets VALUE]', '[bytes VALUE]', '[comment "string"]', ...SKB]],
      ['NAME [before|after NAME]', ['[before|after NAME]']],
      ['NAME [before|after NAME]', ['[before|after NAME]']],
    ],
    usage: 'where NAME are existing set names.',
    family: 'neutral',
  },
  'bitmap:port': {
    cmds: [['range [PROTO:]FROM-TO', ['[timeout VALUE]', '[counters]', '[comment]', '[skbinfo]']], ['[PROTO:]PORT|FROM-TO', ADD], ['[PROTO:]PORT|FROM-TO', []], ['[PROTO:]PORT', []]],
    usage:
      'where PORT, FROM and TO are port numbers or port names from /etc/services.\n      PROTO is only needed if a service name is used and it does not exist\n      as a TCP service; just the resolved service numer is stored in the set.',
    family: 'neutral',
  },
  'bitmap:ip': {
    cmds: [['range IP/CIDR|FROM-TO', ['[netmask CIDR]', '[timeout VALUE]', '[counters]', '[comment]', '[skbinfo]']], ['IP|IP/CIDR|FROM-TO', ADD], ['IP|IP/CIDR|FROM-TO', []], ['IP', []]],
    usage: 'where IP, FROM and TO are IPv4 addresses (or hostnames),\n      CIDR is a valid IPv4 CIDR prefix.',
    family: 'inet',
  },
};

/** ipset_port_usage(): the [PROTO:]PORT patterns and the ICMP and ICMPv6 names, each once */
function portUsage(): string {
  const names = (table: [string, number][]): string => table.map(([n]) => `               ${n}\n`).join('');
  return (
    '      [PROTO:]PORT is a valid pattern of the following:\n' +
    '           PORTNAME         TCP port name from /etc/services\n' +
    '           PORTNUMBER       TCP port number identifier\n' +
    '           tcp|sctp|udp|udplite:PORTNAME|PORTNUMBER\n' +
    '           icmp:CODENAME    supported ICMP codename\n' +
    '           icmp:TYPE/CODE   ICMP type/code value\n' +
    '           icmpv6:CODENAME  supported ICMPv6 codename\n' +
    '           icmpv6:TYPE/CODE ICMPv6 type/code value\n' +
    '           PROTO:0          all other protocols\n\n' +
    `           Supported ICMP codenames:\n${names(ICMP_NAMES)}           Supported ICMPv6 codenames:\n${names(ICMPV6_NAMES)}`
  );
}

const PREFIX = ['create SETNAME', 'add    SETNAME', 'del    SETNAME', 'test   SETNAME'];

/** the type-specific part of `ipset help TYPE` for a modelled type (by its name), else undefined */
export function typeHelp(type: string): string | undefined {
  const t = TYPES[type];
  if (!t) return undefined;
  let s = `\n${type} type specific options:\n\n`;
  t.cmds.forEach(([syntax, args], i) => {
    s += `${PREFIX[i]} ${type} ${syntax}\n`;
    for (const a of args) s += `               ${a}\n`;
  });
  s += `\n${t.usage}\n`;
  if (t.ports) s += portUsage();
  s += t.family === 'neutral' ? `\nType ${type} is family neutral.\n` : t.family === 'inet' ? `\nType ${type} supports family inet only.\n` : `\nType ${type} supports inet and inet6.\n`;
  return s;
}
