/**
 * argv -> tokens for the iptables command line. This is where getopt's view of the words lives:
 * which word is an option, which is its argument, which words a command takes (rule numbers,
 * chain names) and which extension an option belongs to. Like iptables, the option table grows
 * as `-m NAME`, `-j TARGET` and an implicit `-p PROTO` load extensions. The lexer never fails:
 * what iptables would reject becomes a token (BadOption, Stray) and the parser raises the error
 * when it reaches it, so errors come out in the order iptables finds them.
 */
import type { IToken, TokenType } from 'chevrotain';
import { Getopt, culprit, parseOptstring, type LongOpt } from './getopt.js';
import * as T from './tokens.js';
import type { Extension, OptionEntry } from '../src/extensions/types.js';
import { findMatch, findTarget, protoMatchName, targetLoadError, targetNames, type Family } from '../src/extensions/registry.js';

/** IPT_OPTSTRING of iptables 1.8.9 */
const OPTSTRING = '-:A:C:D:E:F::I:L::M:N:P:VX::Z::c:d:i:j:o:p:s:t:R:S::W::46bfg:h::m:nvw::x';
const SHORT = parseOptstring(OPTSTRING);

/** original_opts[] of xtables.c */
export const CORE_LONG: LongOpt[] = [
  ['append', 1, 'A'], ['delete', 1, 'D'], ['check', 1, 'C'], ['insert', 1, 'I'], ['replace', 1, 'R'],
  ['list', 2, 'L'], ['list-rules', 2, 'S'], ['flush', 2, 'F'], ['zero', 2, 'Z'], ['new-chain', 1, 'N'],
  ['delete-chain', 2, 'X'], ['rename-chain', 1, 'E'], ['policy', 1, 'P'], ['source', 1, 's'],
  ['destination', 1, 'd'], ['src', 1, 's'], ['dst', 1, 'd'], ['protocol', 1, 'p'], ['in-interface', 1, 'i'],
  ['jump', 1, 'j'], ['table', 1, 't'], ['match', 1, 'm'], ['numeric', 0, 'n'], ['out-interface', 1, 'o'],
  ['verbose', 0, 'v'], ['wait', 2, 'w'], ['wait-interval', 2, 'W'], ['exact', 0, 'x'], ['fragments', 0, 'f'],
  ['version', 0, 'V'], ['help', 2, 'h'], ['line-numbers', 0, '0'], ['modprobe', 1, 'M'], ['set-counters', 1, 'c'],
  ['goto', 1, 'g'], ['ipv4', 0, '4'], ['ipv6', 0, '6'],
].map(([name, hasArg, val]) => ({ name: name as string, hasArg: hasArg as 0 | 1 | 2, val: val as string }));

const LETTER_TOKEN: Record<string, TokenType> = {
  A: T.Append, C: T.Check, D: T.Delete, I: T.Insert, R: T.Replace, L: T.List, S: T.ListRules, F: T.Flush,
  Z: T.Zero, N: T.NewChain, X: T.DeleteChain, E: T.RenameChain, P: T.Policy, h: T.Help, V: T.Version,
  p: T.Protocol, s: T.Source, d: T.Destination, i: T.InInterface, o: T.OutInterface, f: T.Fragment, j: T.Jump,
  g: T.Goto, m: T.Match, t: T.Table, n: T.Numeric, v: T.Verbose, x: T.Exact, '0': T.LineNumbers, w: T.Wait,
  W: T.WaitInterval, c: T.SetCounters, M: T.Modprobe, '4': T.Ipv4, '6': T.Ipv6,
};

/** One loaded extension instance (a rule may load the same match twice). */
export interface LoadedExt {
  ext: Extension;
  /** order of loading within the command line; the parser keys instance data by it */
  seq: number;
}

export interface ExtOptPayload {
  loaded: LoadedExt;
  entry: OptionEntry;
  arg: string | undefined;
  extra: string[];
}

export interface MatchLoadPayload {
  /** undefined: iptables could not load it (the parser reports why) */
  loaded?: LoadedExt;
  name: string;
}

export interface BadOptionPayload {
  /** leftover: words after "--" that getopt never returned (reported after the final checks) */
  code: 'unknown' | 'missing' | 'unknown-arg' | 'leftover';
  text: string;
}

function hasArgOf(e: OptionEntry): 0 | 1 | 2 {
  if (e.type === 'raw') return e.hasArg ?? 1;
  return e.type === 'none' ? 0 : 1;
}

/** what getopt's value for an extension option stands for */
interface ExtOptionRef {
  ext: Extension;
  /**
   * xtables_option_lookup(): libxtables hands x6 parsers the first entry with the option's id,
   * so an alias gets that entry's flags and name (`! --ttl 5` is accepted as --ttl-eq)
   */
  entry: OptionEntry;
}
const extOptionRefs = new Map<string, ExtOptionRef>();

/** an extension's entries for getopt's long option table, made once per extension */
const longOptsOf = new WeakMap<Extension, LongOpt[]>();
function extLongOpts(ext: Extension): LongOpt[] {
  let l = longOptsOf.get(ext);
  if (!l) {
    l = ext.options.map((e) => {
      const val = `${ext.kind}:${ext.name}:${e.name}`;
      extOptionRefs.set(val, { ext, entry: e.type === 'raw' ? e : ext.options.find((o) => o.id === e.id)! });
      return { name: e.name, hasArg: hasArgOf(e), val };
    });
    longOptsOf.set(ext, l);
  }
  return l;
}

/** getopt's option table after loading a sequence of extensions (a trie keyed by extension) */
interface OptionTableNode {
  table: LongOpt[];
  next: Map<Extension, OptionTableNode>;
}
/**
 * Made once per sequence: command lines load the same few combinations again and again (and
 * getopt indexes each table by name once).
 */
const optionTables: OptionTableNode = { table: CORE_LONG, next: new Map() };

/**
 * `notTargets`: names xtables_find_target() does not load as targets in this process (the chains
 * iptables-restore announced); `-j` with such a name is a jump.
 */
export function lexCommandLine(argv: readonly string[], notTargets?: ReadonlySet<string>, family: Family = 4): IToken[] {
  const tokens: IToken[] = [];
  const loaded: LoadedExt[] = [];
  // getopt only sees the options of the first instance of each extension (clones share them)
  const optionOwners: LoadedExt[] = [];
  let seq = 0;
  let protocol: string | undefined;
  let protoUsed = false;

  let node = optionTables;
  const rebuild = (): void => {
    const ext = optionOwners[optionOwners.length - 1]!.ext;
    let n = node.next.get(ext);
    if (!n) {
      // the extension loaded last is searched first
      n = { table: CORE_LONG.concat(...optionOwners.map((o) => extLongOpts(o.ext)).reverse()), next: new Map() };
      node.next.set(ext, n);
    }
    node = n;
  };
  const g = new Getopt(argv, SHORT, () => node.table);

  const push = (type: TokenType, image: string, index: number, payload?: unknown): void => {
    // createTokenInstance()'s token with its payload in it from the start: one shape for every
    // token, where a payload added afterwards gives some tokens another shape and a property store
    tokens.push({ image, startOffset: index, endOffset: index, startLine: 1, endLine: 1, startColumn: index + 1, endColumn: index + 1, tokenTypeIdx: type.tokenTypeIdx!, tokenType: type, payload });
  };
  const arg = (word: string | undefined, index: number): void => {
    if (word !== undefined) push(T.Arg, word, index);
  };
  const takeIfArg = (): void => {
    if (g.hasArg()) {
      const i = g.optind;
      arg(g.take(), i);
    }
  };
  const load = (ext: Extension): LoadedExt => {
    const l: LoadedExt = { ext, seq: seq++ };
    const first = !loaded.some((x) => x.ext === ext);
    loaded.push(l);
    if (first) {
      optionOwners.push(l);
      rebuild();
    }
    return l;
  };

  for (;;) {
    const r = g.next();
    if (!r) break;
    if (r.kind === 'nonoption') {
      push(r.arg === '!' ? T.Bang : T.Stray, r.arg, r.index);
      continue;
    }
    if (r.kind === 'option' && r.val.length <= 1) {
      const c = r.val;
      const type = LETTER_TOKEN[c];
      if (!type) {
        // in the optstring but handled by nobody ('b'): "Unknown arg" with a NULL optarg
        push(T.BadOption, r.text, r.index, { code: 'unknown-arg', text: r.arg ?? '(null)' } satisfies BadOptionPayload);
        continue;
      }
      push(type, r.text, r.index);
      const argIndex = r.arg !== undefined && r.text.length > 2 && !r.text.startsWith('--') ? r.index : g.optind - 1;
      switch (c) {
        case 'D':
        case 'R':
        case 'I':
        case 'E':
        case 'P':
          arg(r.arg, argIndex);
          takeIfArg();
          break;
        case 'L':
        case 'S':
        case 'Z':
          if (r.arg !== undefined) arg(r.arg, argIndex);
          else takeIfArg();
          takeIfArg();
          break;
        case 'F':
        case 'X':
        case 'w':
        case 'W':
          if (r.arg !== undefined) arg(r.arg, argIndex);
          else takeIfArg();
          break;
        case 'c':
          arg(r.arg, argIndex);
          if (r.arg !== undefined && r.arg.indexOf(',', 1) < 0) takeIfArg();
          break;
        case 'h':
          // -h prints help and exits; its optional argument is only inspected, never consumed
          if (r.arg !== undefined) arg(r.arg, argIndex);
          break;
        case 'm': {
          const name = r.arg!;
          const ext = findMatch(name, family);
          arg(name, argIndex);
          const payload: MatchLoadPayload = { name, loaded: ext ? load(ext) : undefined };
          tokens[tokens.length - 2]!.payload = payload;
          break;
        }
        case 'j': {
          const name = argv[g.optind - 1]!;
          arg(name, argIndex);
          let ext = findTarget(name, family);
          if (ext && ext.name !== 'standard' && notTargets?.has(name)) ext = undefined;
          if (!ext && !notTargets?.has(name) && targetNames(family).has(name)) throw targetLoadError(name);
          if (ext && !loaded.some((l) => l.ext.kind === 'target')) {
            tokens[tokens.length - 2]!.payload = { name, loaded: load(ext) } satisfies MatchLoadPayload;
          } else {
            tokens[tokens.length - 2]!.payload = { name } satisfies MatchLoadPayload;
          }
          break;
        }
        case 'p':
        case 's':
        case 'd':
          // iptables reads these from argv[optind-1]: the whole word when the value was attached
          arg(argv[g.optind - 1], argIndex);
          if (c === 'p') protocol = argv[g.optind - 1]!.toLowerCase();
          break;
        case 'i':
        case 'o':
          // the empty-name check sees optarg, the interface parser argv[optind-1]
          arg(r.arg, argIndex);
          arg(argv[g.optind - 1], argIndex);
          break;
        default:
          arg(r.arg, argIndex);
      }
      continue;
    }
    if (r.kind === 'option') {
      const ref = extOptionRefs.get(r.val)!;
      // iptables routes a target's options to the target, a match's to its newest instance
      let k = loaded.length - 1;
      while (loaded[k]!.ext !== ref.ext) k--;
      const owner = loaded[k]!;
      const entry = ref.entry;
      const extra: string[] = [];
      for (let k = 0; k < (entry.extraArgs ?? 0) && g.hasArg(); k++) extra.push(g.take()!);
      push(T.ExtOpt, r.text, r.index, { loaded: owner, entry, arg: r.arg, extra } satisfies ExtOptPayload);
      continue;
    }
    // '?' or ':' -- iptables first tries to load the -p protocol's match and re-reads the option
    if (protocol !== undefined) {
      const name = protoMatchName(protocol);
      const ext = name !== undefined ? findMatch(name, family) : undefined;
      const alreadyLoaded = ext !== undefined && loaded.some((l) => l.ext === ext);
      if (ext && (!alreadyLoaded || !protoUsed)) {
        protoUsed = true;
        const l = load(ext);
        push(T.ImplicitMatch, ext.name, r.index, { name: ext.name, loaded: l } satisfies MatchLoadPayload);
        g.rescan(r.index);
        continue;
      }
    }
    push(T.BadOption, r.text, r.index, { code: r.kind, text: culprit(argv, g) } satisfies BadOptionPayload);
  }
  if (g.stoppedAtDashDash) push(T.BadOption, '--', g.optind, { code: 'leftover', text: '--' } satisfies BadOptionPayload);
  return tokens;
}
