/**
 * conntrack-tools 1.4.7's command line: the option table, the checks that say which options a
 * command takes and needs (commands_v_options and each protocol's final check), the filters of the
 * conntrack table and what -I, -U and -G give an entry, and one entry's line as `conntrack -L`
 * prints it. Messages and exit statuses are the real tool's, measured against the kernel
 * (fixtures/kernel/115-conntrack-cli.scn, 125-conntrack-change.scn). What the emulator does not
 * model (-E, -S, the expect/dying/unconfirmed tables, labels, secmarks, ids, per-direction zones,
 * protocols other than TCP, UDP, ICMP echo and the generic one when creating) is refused by name.
 */
import { culprit, Getopt, parseOptstring, type LongOpt } from '../../../grammar/getopt.js';
import { inetAton, parseDotted } from '../../net/ipv4.js';
import { parseIp6 } from '../../net/ipv6.js';
import type { ConntrackEntry } from '../../net/lab.js';
import { protocolByNumber } from '../../net/netdb.js';
import { strtoumax } from '../../util/strtoul.js';

export const VERSION = 'conntrack v1.4.7 (conntrack-tools)';
const TRY = "Try `conntrack -h' or 'conntrack --help' for more information.\n";

/** usage(): what `conntrack`, `-h` and `--help` print (stdout, exit status 0) */
export const HELP =
  'Command line interface for the connection tracking system. Version 1.4.7\n' +
  'Usage: conntrack [commands] [options]\n\n' +
  'Commands:\n' +
  '  -L [table] [options]\t\tList conntrack or expectation table\n' +
  '  -G [table] parameters\t\tGet conntrack or expectation\n' +
  '  -D [table] parameters\t\tDelete conntrack or expectation\n' +
  '  -I [table] parameters\t\tCreate a conntrack or expectation\n' +
  '  -U [table] parameters\t\tUpdate a conntrack\n' +
  '  -E [table] [options]\t\tShow events\n' +
  '  -F [table]\t\t\tFlush table\n' +
  '  -C [table]\t\t\tShow counter\n' +
  '  -S\t\t\t\tShow statistics\n\n' +
  'Tables: conntrack, expect, dying, unconfirmed\n\n' +
  'Conntrack parameters and options:\n' +
  '  -n, --src-nat ip\t\t\tsource NAT ip\n' +
  '  -g, --dst-nat ip\t\t\tdestination NAT ip\n' +
  '  -j, --any-nat ip\t\t\tsource or destination NAT ip\n' +
  '  -m, --mark mark\t\t\tSet mark\n' +
  '  -c, --secmark secmark\t\t\tSet selinux secmark\n' +
  '  -e, --event-mask eventmask\t\tEvent mask, eg. NEW,DESTROY\n' +
  '  -z, --zero \t\t\t\tZero counters while listing\n' +
  '  -o, --output type[,...]\t\tOutput format, eg. xml\n' +
  '  -l, --label label[,...]\t\tconntrack labels\n\n' +
  'Expectation parameters and options:\n' +
  '  --tuple-src ip\tSource address in expect tuple\n' +
  '  --tuple-dst ip\tDestination address in expect tuple\n\n' +
  'Updating parameters and options:\n' +
  '  --label-add label\tAdd label\n' +
  '  --label-del label\tDelete label\n\n' +
  'Common parameters and options:\n' +
  '  -s, --src, --orig-src ip\t\tSource address from original direction\n' +
  '  -d, --dst, --orig-dst ip\t\tDestination address from original direction\n' +
  '  -r, --reply-src ip\t\tSource addres from reply direction\n' +
  '  -q, --reply-dst ip\t\tDestination address from reply direction\n' +
  "  -p, --protonum proto\t\tLayer 4 Protocol, eg. 'tcp'\n" +
  "  -f, --family proto\t\tLayer 3 Protocol, eg. 'ipv6'\n" +
  '  -t, --timeout timeout\t\tSet timeout\n' +
  '  -u, --status status\t\tSet status, eg. ASSURED\n' +
  '  -w, --zone value\t\tSet conntrack zone\n' +
  '  --orig-zone value\t\tSet zone for original direction\n' +
  '  --reply-zone value\t\tSet zone for reply direction\n' +
  '  -b, --buffer-size\t\tNetlink socket buffer size\n' +
  '  --mask-src ip\t\t\tSource mask address\n' +
  '  --mask-dst ip\t\t\tDestination mask address\n';

/** conntrack-tools' commands: the letters, and the ones modelled */
const COMMANDS = 'LIUDGEFVhCSA';
const MODELLED_COMMANDS = 'LIUDGFVhCA';
const TABLES = ['conntrack', 'expect', 'dying', 'unconfirmed'];

/** the option letters: commands take an optional table, -n -g -j an optional address, -z none */
const OPTSTRING = '-:L::I::U::D::G::E::F::A::hVs:d:r:q:p:t:u:e:a:zn::g::j::m:i:f:o:c:b:C::Sw:l:';

/** conntrack-tools' long options (the first name of an option is the one its messages use) */
const LONG: LongOpt[] = [
  ['dump', 2, 'L'], ['create', 2, 'I'], ['add', 2, 'A'], ['delete', 2, 'D'], ['update', 2, 'U'], ['get', 2, 'G'],
  ['flush', 2, 'F'], ['event', 2, 'E'], ['counter', 2, 'C'], ['stats', 0, 'S'], ['version', 0, 'V'], ['help', 0, 'h'],
  ['orig-src', 1, 's'], ['src', 1, 's'], ['orig-dst', 1, 'd'], ['dst', 1, 'd'], ['reply-src', 1, 'r'],
  ['reply-dst', 1, 'q'], ['protonum', 1, 'p'], ['timeout', 1, 't'], ['status', 1, 'u'], ['zero', 0, 'z'],
  ['event-mask', 1, 'e'], ['tuple-src', 1, '['], ['tuple-dst', 1, ']'], ['mask-src', 1, '{'], ['mask-dst', 1, '}'],
  ['nat-range', 1, 'a'], ['mark', 1, 'm'], ['secmark', 1, 'c'], ['id', 1, 'i'], ['family', 1, 'f'],
  ['src-nat', 2, 'n'], ['dst-nat', 2, 'g'], ['output', 1, 'o'], ['buffer-size', 1, 'b'], ['any-nat', 2, 'j'],
  ['zone', 1, 'w'], ['label', 1, 'l'], ['label-add', 1, '<'], ['label-del', 2, '>'], ['orig-zone', 1, '('], ['reply-zone', 1, ')'],
].map(([name, hasArg, val]) => ({ name: name as string, hasArg: hasArg as 0 | 1 | 2, val: val as string }));

/**
 * commands_v_options: for each command, what each option is to it, in the order conntrack checks
 * them (the first problem is the one reported): 0 illegal, 1 compulsory, 2 optional, 3 one of the
 * two tuples (-s and -d, or -r and -q) must be whole. OPTION_ORDER names the options by letter;
 * the option names of the messages are OPTION_NAMES'.
 */
const OPTION_ORDER = 'sdrqptuze[]{}amifngocbjwl<>()';
const OPTION_NAMES = 'src dst reply-src reply-dst protonum timeout status zero event-mask tuple-src tuple-dst mask-src mask-dst nat-range mark id family src-nat dst-nat output secmark buffer-size any-nat zone label label-add label-del orig-zone reply-zone'.split(' ');
const OPTIONS_OF: Record<string, string> = {
  L: '22222022000220202222202220022',
  I: '33331120000002200220000202022',
  U: '22222220000220222222000022200',
  D: '22222220000220222222000220022',
  G: '33331000000000020002000020000',
  F: '00000000000000002000000000000',
  C: '00000000000000000000000000000',
  A: '33331120000002200220000202022',
};
/** the name an option goes by in "Illegal option `--src' with this command" */
const optionName = (v: string): string => OPTION_NAMES[OPTION_ORDER.indexOf(v)]!;
/** options conntrack-tools has that the emulator does not model, by command */
const UNMODELLED: Record<string, string> = { L: 'teczibl[]{}()<>', D: 'teczibl[]{}()<>', I: 'l<>()', A: 'l<>()', U: 'il<>{}', G: 'il', F: '', C: '' };

/** the protocol options -p brings in (tcp, udp and friends: ports; tcp: state; icmp: type, code, id) */
export type ProtoKey = 'sport' | 'dport' | 'rsport' | 'rdport' | 'state' | 'icmpType' | 'icmpCode' | 'icmpId';
const PORT_OPTS: [string, ProtoKey][] = [
  ['orig-port-src', 'sport'], ['sport', 'sport'], ['orig-port-dst', 'dport'], ['dport', 'dport'],
  ['reply-port-src', 'rsport'], ['reply-port-dst', 'rdport'],
];
const PROTO_OPTS: Record<string, [string, ProtoKey][]> = {
  tcp: [...PORT_OPTS, ['state', 'state']],
  udp: PORT_OPTS,
  udplite: PORT_OPTS,
  sctp: PORT_OPTS,
  dccp: PORT_OPTS,
  icmp: [['icmp-type', 'icmpType'], ['icmp-code', 'icmpCode'], ['icmp-id', 'icmpId']],
};
/** the protocols conntrack-tools has a module for, by its names (others by number: the generic one) */
const PROTOCOLS: Record<string, number> = { tcp: 6, udp: 17, udplite: 136, sctp: 132, dccp: 33, icmp: 1, icmpv6: 58, gre: 47 };
/** TCP states by the names -L and --state use; LISTEN is the kernel's SYN_SENT2 now (the same number) */
const TCP_STATES = ['NONE', 'SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'TIME_WAIT', 'CLOSE', 'LISTEN', 'SYN_SENT2'];
export const tcpStateName = (s: string): string => (s === 'LISTEN' ? 'SYN_SENT2' : s);
/**
 * -u's names: the status bit each is (IPS_*), and the name the lab's entries keep it by (none:
 * never set there; the kernel leaves OFFLOAD and HW_OFFLOAD to flow tables, which the lab has not)
 */
export const STATUS: Record<string, { bit: number; lab?: string }> = {
  ASSURED: { bit: 4, lab: 'ASSURED' },
  SEEN_REPLY: { bit: 2, lab: 'SEEN_REPLY' },
  UNSET: { bit: 0 },
  FIXED_TIMEOUT: { bit: 1 << 10, lab: 'FIXED_TIMEOUT' },
  EXPECTED: { bit: 1, lab: 'EXPECTED' },
  OFFLOAD: { bit: 1 << 14 },
  HW_OFFLOAD: { bit: 1 << 15 },
};

/** -n -g -j's address and port ("1.2.3.4", "1.2.3.4:80"); null: the option without one */
export interface NatArg {
  ip: number;
  port?: number;
}

export interface Filter {
  proto?: number;
  /** -f, or the family of an address given: with 6, the lab's IPv4 entries never match */
  family?: 4 | 6;
  src?: [number, number];
  dst?: [number, number];
  replySrc?: number;
  replyDst?: number;
  port: Partial<Record<ProtoKey, number | string>>;
  mark?: [number, number];
  /** -u's names, upper case (-L: each a status bit entries must have) */
  status?: string[];
  zone?: number;
  /** -n -g -j, each with the address it names, or null for any */
  snat?: NatArg | null;
  dnat?: NatArg | null;
  anyNat?: NatArg | null;
  extended?: boolean;
  /** -o save: entries as the conntrack commands that would make them */
  save?: boolean;
  /**
   * a protocol option came after -r or -q: only then does the reply tuple get its protocol
   * (conntrack-tools sets it as it reads such an option), without which the kernel refuses it
   */
  replyL4?: boolean;
  /** -t as atol() reads it, cut to 32 bits */
  timeout?: number;
  /**
   * the mark -I gives and -U writes (value, mask): -m's, but a later -u puts its status bits in the
   * value (conntrack-tools 1.4.7 stores both in one place; measured: `-m 5 -u ASSURED` marks 4)
   */
  setMark?: [number, number];
  /**
   * this line's mark template (value, mask; both 0 without -m): in a -R file conntrack-tools 1.4.7
   * updates marks with the template of the file's last line, whichever line's -U it runs (measured)
   */
  tmplMark?: [number, number];
}

/** what conntrack prints on stderr before it exits with `status` */
export class Exit extends Error {
  constructor(
    readonly text: string,
    readonly status: number,
  ) {
    super(text);
  }
}

/** exit_error(): the program's prefix, and the hint for a parameter problem (2) */
export function fail(message: string, status = 2): never {
  throw new Exit(`${VERSION}: ${message}\n${status === 2 ? TRY : ''}`, status);
}

/** something conntrack-tools has that the emulator does not model */
export function notModelled(what: string): never {
  throw new Exit(`conntrack: ${what}\n`, 2);
}

/** parse_addr(): inet_aton, else an IPv6 address; "/N" (decimal 0-32) only where CIDR is allowed */
function address(arg: string, option: string, cidr: boolean, f: Filter): [number, number] | undefined {
  const slash = arg.indexOf('/');
  if (slash >= 0 && !cidr) fail(`CIDR notation unavailable for \`--${option}'`);
  const text = slash >= 0 ? arg.slice(0, slash) : arg;
  const v4 = inetAton(text);
  let family: 4 | 6;
  if (v4 !== undefined) family = 4;
  else if (parseIp6(text)) family = 6;
  else fail(`Invalid IP address \`${arg}'`);
  if (f.family !== undefined && f.family !== family) fail('mismatched address family');
  f.family = family;
  let bits = family === 4 ? 32 : 128;
  if (slash >= 0) {
    const m = arg.slice(slash + 1);
    if (!/^\d+$/.test(m) || Number(m) > bits) fail('Invalid netmask');
    bits = Number(m);
  }
  if (family === 6) return undefined;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return [v4!, mask];
}

/** strtoul() as conntrack-tools reads marks and zones: leading digits, anything else is 0, cut to the field */
const number = (s: string, bits: number): number => Number(strtoumax(s).value & ((1n << BigInt(bits)) - 1n));
/** atoi() as it reads ports and ICMP fields, atol() as it reads -t: cut to the field */
const atoi = (s: string, bits: number): number => {
  const m = /^\s*([+-]?\d+)/.exec(s);
  return m ? Number(BigInt.asUintN(bits, BigInt(m[1]!))) : 0;
};

/** -u: a comma list of status names (case-insensitive); an empty name fails on the rest of the list */
function statusList(arg: string): string[] {
  const out: string[] = [];
  let rest = arg;
  for (;;) {
    const comma = rest.indexOf(',');
    const name = (comma < 0 ? rest : rest.slice(0, comma)).toUpperCase();
    if (!Object.hasOwn(STATUS, name)) fail(`Bad parameter \`${name === '' ? rest : comma < 0 ? rest : rest.slice(0, comma)}'`);
    out.push(name);
    if (comma < 0) return out;
    rest = rest.slice(comma + 1);
  }
}

/** the status bits of -u's names */
export const statusBits = (names: string[]): number => names.reduce((b, n) => b | STATUS[n]!.bit, 0);

/** -n -g -j: the optional address (and ":port"), attached or in the next word */
function natAddress(arg: string | undefined, g: Getopt, f: Filter): NatArg | null {
  const word = arg ?? (g.hasArg() ? g.take() : undefined);
  if (word === undefined) return null;
  // split_address_and_port(): "a.b.c.d:port" (a word with one colon; more are an IPv6 address)
  const colon = word.indexOf(':');
  const withPort = colon >= 0 && !word.includes(':', colon + 1);
  const a = address(withPort ? word.slice(0, colon) : word, '', false, f);
  if (!a) return null;
  return withPort ? { ip: a[0], port: atoi(word.slice(colon + 1), 16) } : { ip: a[0] };
}

export interface Parsed {
  command: string;
  filter: Filter;
  /** the options given, by letter ('{' and '}' also for -s and -d with a prefix length) */
  given: Set<string>;
  /** what conntrack says on stderr and goes on */
  warnings: string[];
}

/** ICMP types with an inverse (icmp_nlattr_to_tuple's invmap): queries and their answers */
const ICMP_INVERTIBLE = [0, 8, 13, 14, 15, 16, 17, 18];

/** -I, -A, -G and -U on the entries the lab models: IPv4; TCP, UDP, ICMP echo and the generic protocol */
function modelledEntry(command: string, f: Filter): void {
  const unmodelledProto = Object.keys(PROTOCOLS).find((k) => PROTOCOLS[k] === f.proto && !['tcp', 'udp', 'icmp'].includes(k));
  if (unmodelledProto) notModelled(`-${command} -p ${unmodelledProto} is not modelled by iptables-sim (its entries are TCP, UDP, ICMP echo and other protocols without a conntrack-tools module)`);
  if (f.family === 6 && command !== 'U') notModelled(`-${command} of IPv6 entries is not modelled by iptables-sim (the lab tracks IPv4 connections)`);
  const t = f.port.icmpType as number | undefined;
  if ((command === 'I' || command === 'A') && f.proto === 1 && ICMP_INVERTIBLE.includes(t!) && (t !== 8 || f.port.icmpCode !== 0)) {
    notModelled(`-${command} of ICMP type ${t} code ${f.port.icmpCode} entries is not modelled by iptables-sim (it creates echo requests: --icmp-type 8 --icmp-code 0)`);
  }
}

/** the kernel refuses an ICMP tuple whose type has no inverse (ctnetlink: EINVAL) */
export const icmpInvalid = (f: Filter): boolean => f.proto === 1 && !ICMP_INVERTIBLE.includes(f.port.icmpType as number);

/** a protocol's final check (its commands_v_options): ports whole in one direction, TCP's --state, ICMP's type and code */
function protoCheck(command: string, f: Filter): void {
  const p = f.port;
  if (f.proto === 6 || f.proto === 17) {
    if ((command === 'I' || command === 'A') && f.proto === 6 && p.state === undefined) fail("You need to supply the `--state' option for this command");
    if (command === 'I' || command === 'A' || command === 'G') {
      const orig = p.sport !== undefined && p.dport !== undefined;
      const reply = p.rsport !== undefined && p.rdport !== undefined;
      if (!orig && !reply) {
        if (p.sport === undefined && p.dport === undefined && (p.rsport !== undefined || p.rdport !== undefined)) fail("you have to specify `--reply-src-port' and `--reply-dst-port'");
        fail("you have to specify `--sport' and `--dport'");
      }
    }
  }
  if (f.proto === 1 && (command === 'I' || command === 'A' || command === 'G')) {
    if (p.icmpType === undefined) fail("You need to supply the `--icmp-type' option for this command");
    if (p.icmpCode === undefined) fail("You need to supply the `--icmp-code' option for this command");
  }
}

export function parse(argv: string[]): Parsed | 'help' | 'version' {
  let command: string | undefined;
  const given = new Set<string>();
  /** the first option given that the emulator does not model (refused once the command is known legal) */
  let unmodelled: string | undefined;
  /** the first word of each option given (what a refusal names) */
  const textOf = new Map<string, string>();
  const filter: Filter = { port: {} };
  let protoOpts: LongOpt[] = [];
  /** -m's value and mask; -u writes its bits into the value (see Filter.setMark) */
  let markValue: number | undefined;
  const table = () => (protoOpts.length ? [...LONG, ...protoOpts] : LONG);
  const g = new Getopt(argv, parseOptstring(OPTSTRING), table);
  const warnings: string[] = [];
  for (let r = g.next(); r; r = g.next()) {
    // (a word that follows no command is passed over)
    if (r.kind === 'nonoption') continue;
    if (r.kind === 'unknown') fail(`unknown option \`${culprit(argv, g)}'`);
    if (r.kind === 'missing') fail(`option \`${culprit(argv, g)}' requires an argument`);
    const v = r.val;
    if (COMMANDS.includes(v)) {
      if (v === 'h') return 'help';
      if (v === 'V') return 'version';
      if (command !== undefined) fail('Invalid commands combination');
      command = v;
      // the table name: attached, or the next word when it is no option
      const t = r.arg ?? (g.hasArg() ? g.take() : undefined);
      if (t !== undefined && !TABLES.includes(t)) fail(`unknown type \`${t}'`);
      if (!MODELLED_COMMANDS.includes(v)) notModelled(`-${v} is not modelled by iptables-sim (it offers -L, -G, -I, -A, -U, -D, -C, -F, -V and -h)`);
      if (t !== undefined && t !== 'conntrack') notModelled(`the ${t} table is not modelled by iptables-sim (the lab has connections only)`);
      continue;
    }
    const protoKey = v.startsWith('proto:') ? (v.slice(6) as ProtoKey) : undefined;
    if (protoKey) {
      const a = r.arg!;
      if (filter.replySrc !== undefined || filter.replyDst !== undefined) filter.replyL4 = true;
      if (protoKey === 'state') {
        if (!TCP_STATES.includes(a)) fail(`unknown TCP state \`${a}'`);
        filter.port.state = a;
      } else filter.port[protoKey] = atoi(a, protoKey.startsWith('icmp') && protoKey !== 'icmpId' ? 8 : 16);
      continue;
    }
    if (v === 'a') {
      // --nat-range: gone from conntrack-tools, which says so and goes on
      warnings.push(`WARNING: ignoring -${v}, deprecated option.\n`);
      continue;
    }
    given.add(v);
    if (!textOf.has(v)) textOf.set(v, r.text);
    const a = r.arg;
    switch (v) {
      case 's':
        filter.src = address(a!, 'src', true, filter);
        if (filter.src && filter.src[1] !== 0xffffffff) given.add('{');
        break;
      case 'd':
        filter.dst = address(a!, 'dst', true, filter);
        if (filter.dst && filter.dst[1] !== 0xffffffff) given.add('}');
        break;
      case 'r':
        filter.replySrc = address(a!, 'reply-src', false, filter)?.[0];
        break;
      case 'q':
        filter.replyDst = address(a!, 'reply-dst', false, filter)?.[0];
        break;
      case 'p': {
        const n = /^\d+$/.test(a!) ? Number(a) : Object.hasOwn(PROTOCOLS, a!.toLowerCase()) ? PROTOCOLS[a!.toLowerCase()] : undefined;
        if (n === undefined || n > 255) fail(`\`${a}' unsupported protocol`);
        filter.proto = n;
        const name = Object.keys(PROTOCOLS).find((k) => PROTOCOLS[k] === n);
        protoOpts = (PROTO_OPTS[name ?? ''] ?? []).map(([opt, key]) => ({ name: opt, hasArg: 1, val: `proto:${key}` }));
        break;
      }
      case 't':
        filter.timeout = atoi(a!, 32);
        break;
      case 'f':
        if (a !== 'ipv4' && a !== 'ipv6') fail(`\`${a}' unsupported protocol`);
        if (filter.family !== undefined && filter.family !== (a === 'ipv4' ? 4 : 6)) fail('mismatched address family');
        filter.family = a === 'ipv4' ? 4 : 6;
        break;
      case 'm': {
        const slash = a!.indexOf('/');
        filter.mark = slash < 0 ? [number(a!, 32), 0xffffffff] : [number(a!.slice(0, slash), 32), number(a!.slice(slash + 1), 32)];
        markValue = filter.mark[0];
        break;
      }
      case 'u':
        filter.status = statusList(a!);
        markValue = statusBits(filter.status);
        break;
      case 'w':
        filter.zone = number(a!, 16);
        break;
      case 'n':
        filter.snat = natAddress(a, g, filter);
        break;
      case 'g':
        filter.dnat = natAddress(a, g, filter);
        break;
      case 'j':
        filter.anyNat = natAddress(a, g, filter);
        break;
      case 'o':
        for (const o of a!.split(',')) {
          if (o === 'extended') filter.extended = true;
          else if (o === 'save') filter.save = true;
          else if (['xml', 'timestamp', 'id', 'ktimestamp', 'labels', 'userspace'].includes(o)) notModelled(`-o ${o} is not modelled by iptables-sim (it prints the default, extended and save formats)`);
          else fail(`Bad parameter \`${o}'`);
        }
        if (filter.save && filter.extended) fail('cannot combine save output with any other output type, use -o save only', 1);
        break;
    }
  }
  if (command === undefined) return 'help';
  filter.tmplMark = [markValue ?? 0, filter.mark?.[1] ?? 0];
  if (filter.mark) filter.setMark = filter.tmplMark;
  if (given.has('j') && (given.has('n') || given.has('g'))) fail("cannot specify `--src-nat' or `--dst-nat' with `--any-nat'");
  const row = OPTIONS_OF[command]!;
  for (let i = 0; i < OPTION_ORDER.length; i++) {
    const v = OPTION_ORDER[i]!;
    if (row[i] === '1' && !given.has(v)) fail(`You need to supply the \`--${optionName(v)}' option for this command`);
    if (row[i] === '0' && given.has(v)) fail(`Illegal option \`--${optionName(v)}' with this command`);
  }
  if (row[0] === '3' && !(given.has('s') && given.has('d')) && !(given.has('r') && given.has('q'))) {
    if (!given.has('s') && !given.has('d') && (given.has('r') || given.has('q'))) fail("you have to specify `--reply-src' and `--reply-dst'");
    fail("you have to specify `--src' and `--dst'");
  }
  protoCheck(command, filter);
  // (in the order given; -s and -d with a prefix length are no --mask-src or --mask-dst here)
  for (const [v, text] of textOf) if (UNMODELLED[command]!.includes(v)) unmodelled ??= text;
  if (unmodelled) {
    notModelled(
      command === 'L' || command === 'D'
        ? `${unmodelled} is not modelled by iptables-sim (its filters: -s -d -r -q -p -f -m -u -w -n -g -j, and -o extended)`
        : `${unmodelled} is not modelled by iptables-sim with -${command}`,
    );
  }
  if ((command === 'L' || command === 'D') && filter.status?.includes('UNSET')) fail('Operation failed: invalid parameters', 1);
  if (command === 'I' || command === 'A' || command === 'G' || command === 'U') modelledEntry(command, filter);
  return { command, filter, given, warnings };
}

const u32 = (s: string): number => parseDotted(s)!;

/** the entries whose timeout has not run out */
export const liveEntries = (entries: ConntrackEntry[], now: number): ConntrackEntry[] => entries.filter((e) => e.expires > now);

/** libnetfilter_conntrack's NAT tests: the NAT hooks saw the entry, and its reply differs where NAT writes */
function natTests(e: ConntrackEntry): { snat: boolean; spat: boolean; dnat: boolean; dpat: boolean } {
  const srcDone = e.status.includes('SRC_NAT_DONE');
  const dstDone = e.status.includes('DST_NAT_DONE');
  // the port fields as the tuple stores them: an ICMP echo keeps its id in the source field and its
  // type and code (8 0 going, 0 0 back) in the destination one, read as one 16-bit word
  const icmp = e.proto === 1;
  const l4 = (id: number) => ((id & 0xff) << 8) | (id >> 8);
  return {
    snat: srcDone && e.reply[1] !== e.orig[0],
    spat: srcDone && (icmp ? 0 !== l4(e.orig[2]) : e.reply[3] !== e.orig[2]),
    dnat: dstDone && e.reply[0] !== e.orig[1],
    dpat: dstDone && (icmp ? l4(e.reply[2]) !== 8 : e.reply[2] !== e.orig[3]),
  };
}

/** filter_nat(): -n -g -j, each with an address (and a port) it names, or alone: any such NAT */
function natSelects(f: Filter, e: ConntrackEntry): boolean {
  const t = natTests(e);
  const src = (n: NatArg | null) =>
    n === null ? t.snat || t.spat : (t.snat && u32(e.reply[1]) === n.ip) && (n.port === undefined || (t.spat && e.reply[3] === n.port));
  const dst = (n: NatArg | null) =>
    n === null ? t.dnat || t.dpat : (t.dnat && u32(e.reply[0]) === n.ip) && (n.port === undefined || (t.dpat && e.reply[2] === n.port));
  if (f.snat !== undefined && !src(f.snat)) return false;
  if (f.dnat !== undefined && !dst(f.dnat)) return false;
  if (f.anyNat !== undefined && !src(f.anyNat) && !dst(f.anyNat)) return false;
  return true;
}

/** the tuple fields given (addresses, with -s and -d a network; protocol, ports, ICMP type, code and id) */
export function tupleSelects(f: Filter, e: ConntrackEntry): boolean {
  if (f.family === 6) return false;
  if (f.proto !== undefined && e.proto !== f.proto) return false;
  if (f.src && ((u32(e.orig[0]) & f.src[1]) >>> 0) !== ((f.src[0] & f.src[1]) >>> 0)) return false;
  if (f.dst && ((u32(e.orig[1]) & f.dst[1]) >>> 0) !== ((f.dst[0] & f.dst[1]) >>> 0)) return false;
  if (f.replySrc !== undefined && u32(e.reply[0]) !== f.replySrc) return false;
  if (f.replyDst !== undefined && u32(e.reply[1]) !== f.replyDst) return false;
  const p = f.port;
  if (p.sport !== undefined && e.orig[2] !== p.sport) return false;
  if (p.dport !== undefined && e.orig[3] !== p.dport) return false;
  if (p.rsport !== undefined && e.reply[2] !== p.rsport) return false;
  if (p.rdport !== undefined && e.reply[3] !== p.rdport) return false;
  // the lab's ICMP entries are echoes: type 8, code 0, the id in the port fields
  if (p.icmpType !== undefined && p.icmpType !== 8) return false;
  if (p.icmpCode !== undefined && p.icmpCode !== 0) return false;
  if (p.icmpId !== undefined && e.orig[2] !== p.icmpId) return false;
  if (f.snat !== undefined || f.dnat !== undefined || f.anyNat !== undefined) return natSelects(f, e);
  return true;
}

/** what -L, -D and -G's answer are filtered by: the tuple fields, and the state, mark, status and zone */
export function selects(f: Filter, e: ConntrackEntry): boolean {
  if (!tupleSelects(f, e)) return false;
  if (f.port.state !== undefined && e.state !== tcpStateName(f.port.state as string)) return false;
  if (f.mark && (e.mark & f.mark[1]) >>> 0 !== f.mark[0]) return false;
  if (f.status && !f.status.every((s) => STATUS[s]!.lab !== undefined && e.status.includes(STATUS[s]!.lab!))) return false;
  if (f.zone !== undefined && e.zone !== f.zone) return false;
  return true;
}

function tuple(e: ConntrackEntry, t: ConntrackEntry['orig']): string {
  if (e.proto === 6 || e.proto === 17) return `src=${t[0]} dst=${t[1]} sport=${t[2]} dport=${t[3]}`;
  if (e.proto === 1) return `src=${t[0]} dst=${t[1]} type=8 code=0 id=${t[2]}`;
  return `src=${t[0]} dst=${t[1]}`;
}

/** one line of `conntrack -L` (`-o extended`: with the layer 3 protocol in front; `use`: 2 while -G and -U hold the entry) */
export function conntrackLine(e: ConntrackEntry, now: number, extended = false, use = 1): string {
  const name = protocolByNumber(e.proto) ?? 'unknown';
  let s = `${extended ? 'ipv4     2 ' : ''}${name.padEnd(8)} ${e.proto} ${Math.max(0, e.expires - now)} `;
  if (e.proto === 6 && e.state) s += `${e.state} `;
  s += tuple(e, e.orig) + ' ';
  if (!e.status.includes('SEEN_REPLY')) s += '[UNREPLIED] ';
  let reply = tuple(e, e.reply);
  if (e.proto === 1) reply = reply.replace('type=8', 'type=0');
  s += reply + ' ';
  if (e.status.includes('ASSURED')) s += '[ASSURED] ';
  s += `mark=${e.mark} `;
  if (e.zone) s += `zone=${e.zone} `;
  return s + `use=${use}`;
}

/**
 * one entry as `-o save` prints it (ct_save_snprintf): the command (-A for a listed entry, -D for a
 * deleted one), the timeout left, the status bits conntrack has names for, the zone, the tuples
 * with a NAT address as --dst-nat or --src-nat, the protocol and its fields; no mark (measured)
 */
export function saveLine(e: ConntrackEntry, now: number, command: '-A' | '-D'): string {
  const bits = (['EXPECTED', 'SEEN_REPLY', 'ASSURED', 'FIXED_TIMEOUT'] as const).filter((b) => e.status.includes(b));
  const w: (string | number)[] = [command, '-t', Math.max(0, e.expires - now), '-u', bits.length ? bits.join(',') : 'UNSET'];
  if (e.zone) w.push('-w', e.zone);
  const nat = natTests(e);
  w.push('-s', e.orig[0], '-d', e.orig[1], nat.dnat ? '-g' : '-r', e.reply[0], nat.snat ? '-n' : '-q', e.reply[1]);
  const name = Object.keys(PROTOCOLS).find((k) => PROTOCOLS[k] === e.proto && PROTO_OPTS[k]);
  if (e.proto === 6 || e.proto === 17) {
    w.push('-p', name!, '--sport', e.orig[2], '--dport', e.orig[3], '--reply-port-src', e.reply[2], '--reply-port-dst', e.reply[3]);
    if (e.proto === 6 && e.state) w.push('--state', e.state);
  } else if (e.proto === 1) w.push('-p', 'icmp', '--icmp-type', 8, '--icmp-code', 0, '--icmp-id', e.orig[2]);
  else w.push('-p', e.proto);
  return w.join(' ');
}

/** an entry as -L, -G, -D and -U print it: the default line, `-o extended`'s or `-o save`'s */
export function entryLine(e: ConntrackEntry, now: number, f: Filter, use: 1 | 2, command: '-A' | '-D' = '-A'): string {
  return f.save ? saveLine(e, now, command) : conntrackLine(e, now, f.extended, use);
}
