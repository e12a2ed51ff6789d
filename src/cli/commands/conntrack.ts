/**
 * `conntrack` (conntrack-tools 1.4.7) over a host's connection tracking table: -L (list), -D
 * (delete), -C (count), -F (flush), -V and -h, with the filters of the conntrack table (-s -d -r
 * -q -p -f -m -u -w, -n -g -j, and after -p the protocol's --sport --dport --reply-port-src
 * --reply-port-dst --state --icmp-type --icmp-code --icmp-id) and `-o extended`. Messages, exit
 * statuses and what each filter selects are the real tool's, measured against the kernel
 * (fixtures/kernel/115-conntrack-cli.scn). The other commands (-G -I -U -E -S), tables (expect,
 * dying, unconfirmed) and options are refused by name.
 */
import { culprit, Getopt, parseOptstring, type LongOpt } from '../../../grammar/getopt.js';
import { inetAton, parseDotted } from '../../net/ipv4.js';
import { parseIp6 } from '../../net/ipv6.js';
import type { ConntrackEntry } from '../../net/lab.js';
import { protocolByNumber } from '../../net/netdb.js';
import { strtoumax } from '../../util/strtoul.js';
import { hostOf, readOnly, readWrite, type CliContext } from '../context.js';

const VERSION = 'conntrack v1.4.7 (conntrack-tools)';
const TRY = "Try `conntrack -h' or 'conntrack --help' for more information.\n";

/** usage(): what `conntrack`, `-h` and `--help` print (stdout, exit status 0) */
const HELP =
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
const MODELLED_COMMANDS = 'LDCFVh';
const TABLES = ['conntrack', 'expect', 'dying', 'unconfirmed'];

/** the option letters: commands take an optional table, -n -g -j an optional address, -z none */
const OPTSTRING = '-:L::I::U::D::G::E::F::hVs:d:r:q:p:t:u:e:zn::g::j::m:i:f:o:c:b:C::Sw:l:';

/** conntrack-tools' long options (the first name of an option is the one its messages use) */
const LONG: LongOpt[] = [
  ['dump', 2, 'L'], ['create', 2, 'I'], ['update', 2, 'U'], ['delete', 2, 'D'], ['get', 2, 'G'], ['event', 2, 'E'],
  ['flush', 2, 'F'], ['version', 0, 'V'], ['help', 0, 'h'], ['count', 2, 'C'], ['stats', 0, 'S'],
  ['orig-src', 1, 's'], ['src', 1, 's'], ['orig-dst', 1, 'd'], ['dst', 1, 'd'], ['reply-src', 1, 'r'],
  ['reply-dst', 1, 'q'], ['protonum', 1, 'p'], ['timeout', 1, 't'], ['status', 1, 'u'], ['zero', 0, 'z'],
  ['event-mask', 1, 'e'], ['tuple-src', 1, '['], ['tuple-dst', 1, ']'], ['mask-src', 1, '{'], ['mask-dst', 1, '}'],
  ['src-nat', 2, 'n'], ['dst-nat', 2, 'g'], ['any-nat', 2, 'j'], ['mark', 1, 'm'], ['secmark', 1, 'c'],
  ['id', 1, 'i'], ['family', 1, 'f'], ['output', 1, 'o'], ['buffer-size', 1, 'b'], ['zone', 1, 'w'],
  ['orig-zone', 1, '('], ['reply-zone', 1, ')'], ['label', 1, 'l'], ['label-add', 1, '<'], ['label-del', 1, '>'],
].map(([name, hasArg, val]) => ({ name: name as string, hasArg: hasArg as 0 | 1 | 2, val: val as string }));

/** the name an option goes by in "Illegal option `--src' with this command" */
const longName = (val: string): string => LONG.find((o) => o.val === val)!.name.replace(/^orig-/, '');

/** the options each modelled command takes (the others are illegal with it: -L -t is, measured) */
const FILTERS = 'sdrqpfumwngjozclb(){}';
const LEGAL: Record<string, string> = { L: FILTERS, D: FILTERS, C: '', F: '' };
/** options conntrack-tools has that the emulator does not model */
const UNMODELLED = 'teczibl[]{}()<>';

/** the protocol options -p brings in (tcp, udp and friends: ports; tcp: state; icmp: type, code, id) */
type ProtoKey = 'sport' | 'dport' | 'rsport' | 'rdport' | 'state' | 'icmpType' | 'icmpCode' | 'icmpId';
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
const TCP_STATES = ['NONE', 'SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'TIME_WAIT', 'CLOSE', 'LISTEN', 'SYN_SENT2'];
/** -u's names and the status bit each stands for in the lab's entries (undefined: never set there) */
const STATUS_NAMES: Record<string, string | undefined> = {
  EXPECTED: undefined,
  SEEN_REPLY: 'SEEN_REPLY',
  ASSURED: 'ASSURED',
  FIXED_TIMEOUT: undefined,
  OFFLOAD: undefined,
  HW_OFFLOAD: undefined,
  UNSET: undefined,
};

interface Filter {
  proto?: number;
  /** -f, or the family of an address given: with 6, the lab's IPv4 entries never match */
  family?: 4 | 6;
  src?: [number, number];
  dst?: [number, number];
  replySrc?: number;
  replyDst?: number;
  port: Partial<Record<ProtoKey, number | string>>;
  mark?: [number, number];
  /** status bits all of which an entry must have (a name the lab never sets: none match) */
  status?: (string | undefined)[];
  zone?: number;
  /** -n -g -j, each with the address it names, or null for any */
  snat?: number | null;
  dnat?: number | null;
  anyNat?: number | null;
  extended?: boolean;
}

/** what conntrack prints on stderr before it exits with `status` */
class Exit extends Error {
  constructor(
    readonly text: string,
    readonly status: number,
  ) {
    super(text);
  }
}

/** exit_error(): the program's prefix, and the hint for a parameter problem (2) */
function fail(message: string, status = 2): never {
  throw new Exit(`${VERSION}: ${message}\n${status === 2 ? TRY : ''}`, status);
}

/** something conntrack-tools has that the emulator does not model */
function notModelled(what: string): never {
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
/** atoi() as it reads ports and ICMP fields */
const atoi = (s: string, bits: number): number => {
  const m = /^\s*([+-]?\d+)/.exec(s);
  return m ? Number(BigInt.asUintN(bits, BigInt(m[1]!))) : 0;
};

/** -u: a comma list of status names (case-insensitive); an empty name fails on the rest of the list */
function statusList(arg: string): (string | undefined)[] {
  const out: (string | undefined)[] = [];
  let rest = arg;
  for (;;) {
    const comma = rest.indexOf(',');
    const name = comma < 0 ? rest : rest.slice(0, comma);
    if (!Object.hasOwn(STATUS_NAMES, name.toUpperCase())) fail(`Bad parameter \`${name === '' ? rest : name}'`);
    if (name.toUpperCase() === 'UNSET') fail('Operation failed: invalid parameters', 1);
    out.push(STATUS_NAMES[name.toUpperCase()]);
    if (comma < 0) return out;
    rest = rest.slice(comma + 1);
  }
}

/** -n -g -j: the optional address, attached or in the next word */
function natAddress(arg: string | undefined, g: Getopt, f: Filter): number | null {
  const word = arg ?? (g.hasArg() ? g.take() : undefined);
  if (word === undefined) return null;
  const a = address(word, '', false, f);
  return a ? a[0] : null;
}

interface Parsed {
  command: string;
  filter: Filter;
}

function parse(argv: string[]): Parsed | 'help' | 'version' {
  let command: string | undefined;
  const given = new Set<string>();
  /** the first option given that the emulator does not model (refused once the command is known legal) */
  let unmodelled: string | undefined;
  const filter: Filter = { port: {} };
  let protoOpts: LongOpt[] = [];
  const table = () => (protoOpts.length ? [...LONG, ...protoOpts] : LONG);
  const g = new Getopt(argv, parseOptstring(OPTSTRING), table);
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
      if (!MODELLED_COMMANDS.includes(v)) notModelled(`-${v} is not modelled by iptables-sim (it offers -L, -D, -C, -F, -V and -h)`);
      if (t !== undefined && t !== 'conntrack') notModelled(`the ${t} table is not modelled by iptables-sim (the lab has connections only)`);
      continue;
    }
    const protoKey = v.startsWith('proto:') ? (v.slice(6) as ProtoKey) : undefined;
    if (protoKey) {
      const a = r.arg!;
      if (protoKey === 'state') {
        if (!TCP_STATES.includes(a)) fail(`unknown TCP state \`${a}'`);
        filter.port.state = a;
      } else filter.port[protoKey] = atoi(a, protoKey.startsWith('icmp') && protoKey !== 'icmpId' ? 8 : 16);
      continue;
    }
    given.add(v);
    if (UNMODELLED.includes(v)) {
      unmodelled ??= r.text;
      continue;
    }
    const a = r.arg;
    switch (v) {
      case 's':
        filter.src = address(a!, 'src', true, filter);
        break;
      case 'd':
        filter.dst = address(a!, 'dst', true, filter);
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
      case 'f':
        if (a !== 'ipv4' && a !== 'ipv6') fail(`\`${a}' unsupported protocol`);
        if (filter.family !== undefined && filter.family !== (a === 'ipv4' ? 4 : 6)) fail('mismatched address family');
        filter.family = a === 'ipv4' ? 4 : 6;
        break;
      case 'm': {
        const slash = a!.indexOf('/');
        filter.mark = slash < 0 ? [number(a!, 32), 0xffffffff] : [number(a!.slice(0, slash), 32), number(a!.slice(slash + 1), 32)];
        break;
      }
      case 'u':
        filter.status = statusList(a!);
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
          else if (['xml', 'timestamp', 'id', 'ktimestamp', 'labels', 'userspace', 'save'].includes(o)) notModelled(`-o ${o} is not modelled by iptables-sim (it prints the default and extended formats)`);
          else fail(`Bad parameter \`${o}'`);
        }
        break;
    }
  }
  if (command === undefined) return 'help';
  for (const v of given) if (!LEGAL[command]!.includes(v)) fail(`Illegal option \`--${longName(v)}' with this command`);
  if (unmodelled) notModelled(`${unmodelled} is not modelled by iptables-sim (its filters: -s -d -r -q -p -f -m -u -w -n -g -j, and -o extended)`);
  return { command, filter };
}

const u32 = (s: string): number => parseDotted(s)!;

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

function selects(f: Filter, e: ConntrackEntry): boolean {
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
  if (p.state !== undefined && e.state !== p.state) return false;
  // the lab's ICMP entries are echoes: type 8, code 0, the id in the port fields
  if (p.icmpType !== undefined && p.icmpType !== 8) return false;
  if (p.icmpCode !== undefined && p.icmpCode !== 0) return false;
  if (p.icmpId !== undefined && e.orig[2] !== p.icmpId) return false;
  if (f.mark && (e.mark & f.mark[1]) >>> 0 !== f.mark[0]) return false;
  if (f.status && !f.status.every((s) => s !== undefined && e.status.includes(s))) return false;
  if (f.zone !== undefined && e.zone !== f.zone) return false;
  if (f.snat !== undefined || f.dnat !== undefined || f.anyNat !== undefined) {
    const t = natTests(e);
    const src = (ip: number | null | undefined) => (ip === null ? t.snat || t.spat : t.snat && u32(e.reply[1]) === ip);
    const dst = (ip: number | null | undefined) => (ip === null ? t.dnat || t.dpat : t.dnat && u32(e.reply[0]) === ip);
    if (f.snat !== undefined && !src(f.snat)) return false;
    if (f.dnat !== undefined && !dst(f.dnat)) return false;
    if (f.anyNat !== undefined && !src(f.anyNat) && !dst(f.anyNat)) return false;
  }
  return true;
}

function tuple(e: ConntrackEntry, t: ConntrackEntry['orig']): string {
  if (e.proto === 6 || e.proto === 17) return `src=${t[0]} dst=${t[1]} sport=${t[2]} dport=${t[3]}`;
  if (e.proto === 1) return `src=${t[0]} dst=${t[1]} type=8 code=0 id=${t[2]}`;
  return `src=${t[0]} dst=${t[1]}`;
}

/** one line of `conntrack -L` (`-o extended`: with the layer 3 protocol in front) */
export function conntrackLine(e: ConntrackEntry, now: number, extended = false): string {
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
  return s + 'use=1';
}

export async function conntrackCommand(ctx: CliContext, argv: string[]): Promise<number> {
  let p: ReturnType<typeof parse>;
  try {
    p = parse(argv);
  } catch (e) {
    if (!(e instanceof Exit)) throw e;
    ctx.io.err(e.text);
    return e.status;
  }
  if (p === 'help') {
    ctx.io.out(HELP);
    return 0;
  }
  if (p === 'version') {
    ctx.io.out(`${VERSION}\n`);
    return 0;
  }
  const { command, filter } = p;
  if (command === 'F') {
    await readWrite(ctx, (lab) => {
      hostOf(lab, ctx.host)[1].conntrack = [];
      return { save: true, value: undefined };
    });
    ctx.io.err(`${VERSION}: connection tracking table has been emptied.\n`);
    return 0;
  }
  if (command === 'D') {
    const gone = await readWrite(ctx, (lab) => {
      const host = hostOf(lab, ctx.host)[1];
      const now = lab.clock ?? 0;
      const live = host.conntrack.filter((e) => e.expires > now);
      const hit = live.filter((e) => selects(filter, e));
      for (const e of hit) ctx.io.out(conntrackLine(e, now, filter.extended) + '\n');
      host.conntrack = live.filter((e) => !hit.includes(e));
      return { save: hit.length > 0, value: hit.length };
    });
    ctx.io.err(`${VERSION}: ${gone} flow entries have been deleted.\n`);
    return gone > 0 ? 0 : 1;
  }
  return readOnly(ctx, (lab) => {
    const now = lab.clock ?? 0;
    const live = hostOf(lab, ctx.host)[1].conntrack.filter((e) => e.expires > now);
    if (command === 'C') {
      ctx.io.out(`${live.length}\n`);
      return 0;
    }
    const shown = live.filter((e) => selects(filter, e));
    for (const e of shown) ctx.io.out(conntrackLine(e, now, filter.extended) + '\n');
    ctx.io.err(`${VERSION}: ${shown.length} flow entries have been shown.\n`);
    return 0;
  });
}
