/**
 * Tab completion for the interactive shell, from the same sources the commands parse with:
 * iptables' option table (original_opts of xtables.c, grammar/lexer.ts) and the options of the
 * extensions a rule has loaded so far (-m NAME, -p PROTO, -j TARGET), the match and target
 * registries, the lab (chains of the table being edited, interfaces, hosts, sysctl keys), and
 * the `ip` and `trace` keywords.
 */
import { CORE_LONG } from '../../grammar/lexer.js';
import { findMatch, findTarget, protoMatchName, type Family } from '../extensions/registry.js';
import { MATCHES } from '../extensions/matches/index.js';
import { TARGETS } from '../extensions/targets/index.js';
import type { Host } from '../net/lab.js';
import { BUILTIN_CHAINS, isTableName, type TableName } from '../ruleset/tables.js';
import { EMULATED } from './tools.js';

export interface CompletionData {
  hosts: string[];
  /** the host commands act on */
  host: Host | undefined;
}

export const SHELL_COMMANDS = ['host', 'trace', 'lab', 'help', 'exit'];
const BUILTINS = ['echo', 'printf', 'export', 'unset', 'set', 'cd', 'pwd', 'test', 'true', 'false', 'cat', 'source'];
const TABLES = Object.keys(BUILTIN_CHAINS);
const COMMAND_LETTERS = new Set(['A', 'C', 'D', 'I', 'R', 'L', 'S', 'F', 'Z', 'N', 'X', 'E', 'P', 'h', 'V']);
const PROTOCOLS = ['tcp', 'udp', 'icmp', 'all', 'sctp', 'udplite', 'esp', 'ah', 'gre'];
const VERDICTS = ['ACCEPT', 'DROP', 'RETURN', 'QUEUE'];
const TRACE_OPTS = ['-i', '-p', '-s', '-d', '--sport', '--dport', '--tcp-flags', '--icmp-type', '--mark', '--len', '--ttl', '--format', '--seed', '--from', '--all-paths', '--brief', '--json'];

/** the words of the command being typed (a simple, quote-aware split) and the word under the cursor */
export function currentWords(line: string): { words: string[]; current: string } {
  const words: string[] = [];
  let cur = '';
  let quote: string | undefined;
  let started = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else cur += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      started = true;
      continue;
    }
    if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      started = true;
      continue;
    }
    if (c === ' ' || c === '\t') {
      if (started) words.push(cur);
      cur = '';
      started = false;
      continue;
    }
    if (c === ';' || c === '|' || c === '&') {
      // a new command starts after ; | || && &
      words.length = 0;
      cur = '';
      started = false;
      continue;
    }
    cur += c;
    started = true;
  }
  return { words, current: cur };
}

function tableOf(words: string[]): TableName {
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if ((w === '-t' || w === '--table') && words[i + 1] && isTableName(words[i + 1]!)) return words[i + 1] as TableName;
    if (w.startsWith('--table=') && isTableName(w.slice(8))) return w.slice(8) as TableName;
  }
  return 'filter';
}

function chainsOf(data: CompletionData, table: TableName, family: Family): string[] {
  const t = (family === 6 ? data.host?.tables6 : data.host?.tables)?.[table];
  const user = t ? t.chains.map((c) => c.name).filter((n) => !BUILTIN_CHAINS[table].includes(n)) : [];
  return [...BUILTIN_CHAINS[table], ...user];
}

function interfacesOf(data: CompletionData): string[] {
  return data.host?.interfaces.map((i) => i.name) ?? [];
}

/** options of the extensions the words so far have loaded */
function extensionOptions(words: string[], family: Family): string[] {
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const next = words[i + 1];
    if (next === undefined) continue;
    let ext;
    if (w === '-m' || w === '--match') ext = findMatch(next, family);
    else if (w === '-p' || w === '--protocol') {
      const n = protoMatchName(next);
      ext = n ? findMatch(n, family) : undefined;
    } else if (w === '-j' || w === '--jump') ext = findTarget(next, family);
    if (ext) for (const o of ext.options) out.push(`--${o.name}`);
  }
  return out;
}

/** `family` 6: ip6tables, its tables and the extensions it loads */
function iptablesCompletions(words: string[], current: string, data: CompletionData, family: Family): string[] {
  const prev = words[words.length - 1];
  const table = tableOf(words);
  const hasCommand = words.slice(1).some((w) => (/^-[A-Za-z]/.test(w) && !w.startsWith('--') && [...w.slice(1)].some((c) => COMMAND_LETTERS.has(c))) || CORE_LONG.some((o) => COMMAND_LETTERS.has(o.val) && w === `--${o.name}`));
  switch (prev) {
    case '-t':
    case '--table':
      return TABLES;
    case '-A':
    case '--append':
    case '-I':
    case '--insert':
    case '-D':
    case '--delete':
    case '-R':
    case '--replace':
    case '-L':
    case '--list':
    case '-S':
    case '--list-rules':
    case '-F':
    case '--flush':
    case '-Z':
    case '--zero':
    case '-X':
    case '--delete-chain':
    case '-E':
    case '--rename-chain':
    case '-C':
    case '--check':
      return chainsOf(data, table, family);
    case '-P':
    case '--policy':
      return BUILTIN_CHAINS[table] as string[];
    case '-j':
    case '--jump':
      return [...VERDICTS, ...TARGETS.filter((t) => !t.family || t.family === family).map((t) => t.name), ...chainsOf(data, table, family).filter((c) => !BUILTIN_CHAINS[table].includes(c))];
    case '-g':
    case '--goto':
      return chainsOf(data, table, family).filter((c) => !BUILTIN_CHAINS[table].includes(c));
    case '-m':
    case '--match':
      return MATCHES.filter((m) => !m.family || m.family === family).flatMap((m) => [m.name, ...(m.aliases ?? [])]);
    case '-p':
    case '--protocol':
      return PROTOCOLS;
    case '-i':
    case '--in-interface':
    case '-o':
    case '--out-interface':
      return interfacesOf(data);
  }
  // a policy after -P CHAIN
  if (words.length >= 2 && (words[words.length - 2] === '-P' || words[words.length - 2] === '--policy')) return ['ACCEPT', 'DROP'];
  if (!current.startsWith('-')) return [];
  const core = CORE_LONG.filter((o) => !hasCommand || !COMMAND_LETTERS.has(o.val));
  const short = core.filter((o) => /^[A-Za-z]$/.test(o.val)).map((o) => `-${o.val}`);
  return [...new Set([...short, ...core.map((o) => `--${o.name}`), ...(hasCommand ? extensionOptions(words, family) : [])])];
}

function ipCompletions(words: string[], current: string, data: CompletionData): string[] {
  const rest = words.slice(1).filter((w) => !w.startsWith('-'));
  const prev = words[words.length - 1];
  if (prev === 'dev') return interfacesOf(data);
  if (current.startsWith('-')) return ['-4', '-o', '-br'];
  if (rest.length === 0) return ['address', 'route', 'link'];
  const obj = rest[0]!;
  if (rest.length === 1) {
    if ('address'.startsWith(obj)) return ['add', 'del', 'replace', 'flush', 'show'];
    if ('route'.startsWith(obj)) return ['add', 'del', 'replace', 'change', 'show', 'get', 'flush'];
    if ('link'.startsWith(obj)) return ['set', 'show', 'add', 'del'];
    return [];
  }
  if ('address'.startsWith(obj)) return ['dev', 'broadcast', 'label', 'scope'];
  if ('route'.startsWith(obj)) return ['via', 'dev', 'src', 'metric', 'proto', 'table', 'default', 'blackhole', 'unreachable', 'prohibit'];
  if ('link'.startsWith(obj)) return rest[1] === 'set' ? ['dev', 'up', 'down', ...interfacesOf(data)] : rest[1] === 'add' ? ['type', 'dummy', 'name'] : ['dev', ...interfacesOf(data)];
  return [];
}

/** the candidates for the word under the cursor, and that word */
export function complete(line: string, data: CompletionData): [string[], string] {
  const { words, current } = currentWords(line);
  let candidates: string[];
  if (words.length === 0) {
    candidates = [...SHELL_COMMANDS, ...Object.keys(EMULATED).filter((n) => !n.includes('-nft')), ...BUILTINS];
  } else {
    const cmd = words[0]!.replace(/^.*\//, '');
    const prev = words[words.length - 1];
    const tool = EMULATED[cmd];
    if (cmd === 'host') candidates = words.length === 1 ? data.hosts : [];
    else if (tool === 'iptables' || tool === 'ip6tables') candidates = iptablesCompletions(words, current, data, tool === 'ip6tables' ? 6 : 4);
    else if (tool === 'iptables-save' || tool === 'ip6tables-save') candidates = prev === '-t' ? TABLES : ['-t', '-c'];
    else if (tool === 'iptables-restore' || tool === 'ip6tables-restore') candidates = ['--noflush', '--test', '--counters', '--table', '--verbose'];
    else if (tool === 'ip') candidates = ipCompletions(words, current, data);
    else if (tool === 'sysctl') candidates = current.startsWith('-') ? ['-w', '-n', '-a', '-q'] : Object.keys(data.host?.sysctls ?? {}).map((k) => (words.includes('-w') ? `${k}=` : k));
    else if (tool === 'conntrack') candidates = ['-L', '-G', '-I', '-U', '-D', '-C', '-F', '-p'];
    else if (tool === 'nfacct') candidates = words.length === 1 ? ['list', 'add', 'delete', 'get', 'flush', 'restore', 'version', 'help'] : [];
    else if (tool === 'ipset') candidates = words.length === 1 ? ['create', 'add', 'del', 'test', 'list', 'save', 'restore', 'flush', 'destroy', 'rename', 'swap'] : [];
    else if (cmd === 'trace') candidates = prev === '--from' ? data.hosts : prev === '-i' ? interfacesOf(data) : prev === '-p' ? ['tcp', 'udp', 'icmp'] : prev === '--format' ? ['text', 'json', 'xtables'] : TRACE_OPTS;
    else if (cmd === 'lab') candidates = words.length === 1 ? ['show'] : [];
    else candidates = [];
  }
  const hits = [...new Set(candidates)].filter((c) => c.startsWith(current)).sort();
  return [hits, current];
}
