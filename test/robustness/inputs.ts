/**
 * Material for the fuzz tests: the words iptables understands (every core option, every
 * extension and its options, values at and beyond their limits, odd bytes), the rule sets of the
 * shared corpus (read where they lie, never copied: some are non-commercial) and the command
 * lines of our own fixtures, and the ways to damage a line.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { MATCHES } from '../../src/extensions/matches/index.js';
import { TARGETS } from '../../src/extensions/targets/index.js';
import { splitShell } from '../helpers/cli.js';

const ROOT = resolve(__dirname, '..', '..');
export const CORPUS = resolve(ROOT, '..', 'shared', 'corpus');

const CORE = [
  '-A', '-C', '-D', '-I', '-R', '-L', '-S', '-F', '-Z', '-N', '-X', '-E', '-P', '-h', '-V', '-p', '-s', '-d', '-i', '-o',
  '-f', '-j', '-g', '-m', '-t', '-n', '-v', '-x', '-w', '-W', '-c', '-4', '-6', '-M', '!', '--', '-', '--append',
  '--delete', '--insert', '--replace', '--list', '--list-rules', '--flush', '--zero', '--new-chain', '--delete-chain',
  '--rename-chain', '--policy', '--source', '--destination', '--protocol', '--in-interface', '--out-interface',
  '--jump', '--goto', '--match', '--table', '--numeric', '--verbose', '--exact', '--line-numbers', '--wait',
  '--wait-interval', '--set-counters', '--fragment', '--modprobe', '--help', '--version', '--ipv4', '--ipv6',
  '--src', '--dst', '-AINPUT', '-nvL', '-vvv', '--li', '--x',
];
const TABLES = ['filter', 'nat', 'mangle', 'raw', 'security', 'broute', 'FILTER', ''];
const CHAINS = ['INPUT', 'FORWARD', 'OUTPUT', 'PREROUTING', 'POSTROUTING', 'A', 'B', 'DOCKER', 'x'.repeat(28), 'x'.repeat(29), 'a b', '-x', '!x'];
const VALUES = [
  '0', '1', '-1', '2', '15', '16', '17', '255', '256', '1024', '65535', '65536', '0x10', '010', '4294967295',
  '4294967296', '0xffffffff', '0x100000000', '18446744073709551615', '18446744073709551616', '1e3', '+5', ' 5',
  '1:2', '2:1', ':5', '5:', '0:65535', '1-2', '1,2,3', ',', ':', '/', '1/2', '0x1/0xf', '1/0x100000000',
  '1.2.3.4', '1.2.3.4/32', '1.2.3.4/33', '1.2.3.4/-1', '0.0.0.0/0', '256.1.1.1', '1.2.3', '10.0.0.0/255.0.0.0',
  '1.2.3.4-1.2.3.9', '1.2.3.4:80', '1.2.3.4:80-90', '[1.2.3.4]:80', '::1', 'localhost', 'eth0', 'eth+', 'lo',
  '123456789012345', '1234567890123456', 'tcp', 'udp', 'icmp', 'all', 'sctp', 'TCP', 'ssh', 'http', 'NEW',
  'ESTABLISHED,RELATED', 'SYN,ACK', 'FIN,SYN,RST,ACK', 'ALL', 'NONE', 'src', 'dst', 'src,dst', 'ACCEPT', 'DROP',
  'RETURN', 'QUEUE', 'LOG', 'echo-request', 'any', '1/sec', '10/minute', '0/s', '100000/s', 'root', '"quoted"',
  '"', '\\', "'", '#', '*', '[0:0]', '', ' ', '\t', '\n', '\0', '\x01\x02', '\x7f', '\u00ff', '\ufffd', '\ud800', '\u202e',
  'é', '漢字', 'x'.repeat(300), '9'.repeat(40),
];

function optionWords(): string[] {
  const words = new Set<string>();
  for (const e of [...MATCHES, ...TARGETS]) {
    for (const o of e.options) words.add(`--${o.name}`);
  }
  return [...words];
}

const MATCH_NAMES = MATCHES.map((m) => m.name).concat(['state', 'nope', 'u32', 'x'.repeat(30)]);
const TARGET_NAMES = TARGETS.map((t) => t.name).concat(['ACCEPT', 'DROP', 'RETURN', 'QUEUE', 'NOPE', 'A', 'x'.repeat(29)]);

/** one argv word: a real one most of the time, any string sometimes */
export const word: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...CORE) },
  { weight: 6, arbitrary: fc.constantFrom(...optionWords()) },
  { weight: 8, arbitrary: fc.constantFrom(...VALUES) },
  { weight: 2, arbitrary: fc.constantFrom(...TABLES, ...CHAINS) },
  { weight: 2, arbitrary: fc.constantFrom(...MATCH_NAMES, ...TARGET_NAMES) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 2000 }) },
);

/** a rule command line: a command first, then loaded extensions and their options in any order */
export const iptablesArgv: fc.Arbitrary<string[]> = fc.oneof(
  fc.array(word, { maxLength: 14 }),
  fc
    .tuple(
      fc.constantFrom('-A', '-I', '-D', '-C', '-R', '-N', '-X', '-F', '-L', '-S', '-Z', '-P', '-E'),
      fc.constantFrom(...CHAINS),
      fc.array(
        fc.oneof(
          fc.constantFrom(...MATCH_NAMES).map((m) => ['-m', m]),
          fc.constantFrom(...TARGET_NAMES).map((t) => ['-j', t]),
          fc.constantFrom('tcp', 'udp', 'icmp', 'sctp', 'all').map((p) => ['-p', p]),
          fc.tuple(fc.constantFrom(...optionWords()), fc.constantFrom(...VALUES)).map(([o, v]) => [o, v]),
          word.map((w) => [w]),
        ),
        { maxLength: 8 },
      ),
      fc.option(fc.constantFrom(...TABLES), { nil: undefined }),
    )
    .map(([cmd, chain, parts, table]) => [...(table !== undefined ? ['-t', table] : []), cmd, chain, ...parts.flat()]),
);

/** the tools other than iptables, with arguments */
export const otherArgv: fc.Arbitrary<string[]> = fc.oneof(
  fc.array(word, { maxLength: 5 }).map((a) => ['iptables-save', ...a]),
  fc.array(word, { maxLength: 5 }).map((a) => ['iptables-restore', ...a.filter((w) => !w.startsWith('/') && w !== '-' )]),
  fc.array(fc.oneof(word, fc.constantFrom('-w', '-n', '-a', 'net.ipv4.ip_forward', 'net.ipv4.ip_forward=1', 'net.ipv4.conf.eth0.rp_filter=2', 'net.ipv4.conf.all.rp_filter=9', 'net/ipv4/ip_forward', 'kernel.nope=1', 'net.ipv4.ip_forward=')), { maxLength: 5 }).map((a) => ['sysctl', ...a]),
  fc.array(fc.oneof(word, fc.constantFrom('list', 'add', 'delete', 'get', 'flush', 'reset', 'xml', 'json', 'byte', 'packet', '1', 'a')), { maxLength: 5 }).map((a) => ['nfacct', ...a]),
  fc.array(fc.oneof(word, fc.constantFrom('-L', '-F', '-p', 'tcp', '-V', '-G', '-I', '-A', '-U', '-s', '-d', '1.1.1.1', '-t', '9', '--sport', '--dport', '--state', 'ESTABLISHED', '-m', '-u', 'ASSURED', '-n', '-g')), { maxLength: 10 }).map((a) => ['conntrack', ...a]),
  fc
    .array(
      fc.oneof(
        word,
        fc.constantFrom('create', 'add', 'del', 'test', 'list', 'save', 'restore', 'flush', 'destroy', 'rename', 'swap', 'n', 'a', '-A', 'x', '-exist', '-q', '-o', 'save', '-n', '-t', '-f'),
        fc.constantFrom('s1', 's2', 'hash:ip', 'hash:net', 'hash:ip,port', 'hash:net,port', 'bitmap:port', '10.0.0.0/8', '10.0.0.1', '10.0.0.1-10.0.1.0', '1.2.3.4,tcp:80', '1.2.3.0/24,udp:53-60', 'timeout', 'counters', 'comment', 'nomatch', 'netmask', 'initval', 'maxelem', 'hashsize', 'packets', '0', '1', '24', '0x1'),
      ),
      { maxLength: 7 },
    )
    .map((a) => ['ipset', ...a]),
  fc.array(fc.oneof(word, fc.constantFrom('show', 'reset', 'init', '--topology')), { maxLength: 3 }).map((a) => ['lab', ...a.filter((w) => w !== 'init' && w !== '--topology' && w !== '--diagram')]),
  fc
    .array(
      fc.oneof(
        word,
        fc.constantFrom('-i', '-p', '-s', '-d', '--sport', '--dport', '--tcp-flags', '--icmp-type', '--mark', '--len', '--ttl', '--format', '--seed', '--from'),
        fc.constantFrom('eth0', 'eth1', 'pc1', 'pc2', 'router', 'internet', '50.60.70.80', '192.168.1.2', 'json', 'xtables', 'text'),
      ),
      { maxLength: 10 },
    )
    .map((a) => ['trace', ...a]),
);

/** ways a line is damaged; `rng` picks which and where */
export function mutate(line: string, rng: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
  const words = line.split(' ');
  const at = Math.floor(rng() * Math.max(1, words.length));
  switch (Math.floor(rng() * 10)) {
    case 0:
      words.splice(at, 1);
      break;
    case 1:
      words.splice(at, 0, words[at] ?? '');
      break;
    case 2:
      words[at] = pick(VALUES);
      break;
    case 3:
      words.splice(at, 0, pick([...CORE, ...optionWords()]));
      break;
    case 4:
      return line.slice(0, Math.floor(rng() * line.length));
    case 5: {
      const pos = Math.floor(rng() * (line.length + 1));
      return line.slice(0, pos) + pick(['\0', '\x01', '\x1b[2J', '\x7f', '\u00ff\u00fe', '\ufffd', '\ud83d', '"', '\\"', '\r', '\t\t']) + line.slice(pos);
    }
    case 6:
      words[at] = (words[at] ?? '').repeat(1 + Math.floor(rng() * 200));
      break;
    case 7:
      return `${line} ${Array.from({ length: 50 + Math.floor(rng() * 2000) }, () => pick(words)).join(' ')}`;
    case 8: {
      const j = Math.floor(rng() * words.length);
      [words[at], words[j]] = [words[j] ?? '', words[at] ?? ''];
      break;
    }
    default:
      words[at] = (words[at] ?? '').replace(/\d+/, pick(['0', '-1', '65536', '4294967296', '99999999999999999999']));
  }
  return words.join(' ');
}

/** a small deterministic generator (mulberry32) for the per-line mutations */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface TableBlock {
  source: string;
  table: string;
  /** the lines between "*table" and "COMMIT" */
  lines: string[];
}

/** the table blocks of every iptables-save-format file of the shared corpus (none when it is absent) */
export function corpusBlocks(): TableBlock[] {
  const index = join(CORPUS, 'expected', 'index.json');
  if (!existsSync(index)) return [];
  const out: TableBlock[] = [];
  for (const path of Object.keys(JSON.parse(readFileSync(index, 'utf8')) as Record<string, unknown>)) {
    const text = readFileSync(join(CORPUS, path), 'latin1').replace(/\r\n?/g, '\n');
    let cur: TableBlock | undefined;
    for (const line of text.split('\n')) {
      if (line.startsWith('*')) cur = { source: path, table: line.slice(1).trim(), lines: [] };
      else if (line.startsWith('COMMIT')) {
        if (cur) out.push(cur);
        cur = undefined;
      } else if (cur && line.trim() && !line.startsWith('#')) cur.lines.push(line);
    }
  }
  return out;
}

/** rules of the upstream extension test tables (libxt_*.t: "rule;result;OK|FAIL") with their table and chain */
export function upstreamRules(): string[][] {
  const dir = join(CORPUS, 'iptables-upstream', 'extensions');
  if (!existsSync(dir)) return [];
  const out: string[][] = [];
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.t'))) {
    let table = 'filter';
    let chain = 'INPUT';
    for (const line of readFileSync(join(dir, f), 'latin1').split('\n')) {
      if (line.startsWith('*')) table = line.slice(1).trim();
      else if (line.startsWith(':')) chain = line.slice(1).split(',')[0]!.trim();
      else if (line.includes(';')) out.push(['-t', table, '-A', chain, ...line.split(';')[0]!.split(' ').filter((w) => w)]);
    }
  }
  return out;
}

/** the command lines of fixtures/cli/*.case (our own recordings) */
export function fixtureCommands(): string[][] {
  const dir = join(ROOT, 'fixtures', 'cli');
  const out: string[][] = [];
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.case'))) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      if (!/^(iptables|iptables-save|sysctl) /.test(line) || /<</.test(line) || / < /.test(line)) continue;
      try {
        out.push(splitShell(line));
      } catch {
        /* shell syntax the splitter does not take */
      }
    }
  }
  return out;
}
