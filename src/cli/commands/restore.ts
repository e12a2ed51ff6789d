/**
 * `iptables-restore [--noflush] [--test] [-c] [-T TABLE] [FILE]` (xtables-restore.c): the file is
 * read line by line as the real one reads it; each rule line is split into argv and runs through
 * the same command code as `iptables`; each table is applied at its COMMIT, so tables committed
 * before an error stay applied.
 */
import { findIpset, type AnySet } from '../../net/ipset.js';
import type { NfacctObject } from '../../net/nfacct.js';
import { Exit, PROGRAM_VERSION, SimError, XtablesError, paramProblem, renderXtablesError } from '../../errors.js';
import { getoptPermute, type LongOpt } from '../../../grammar/getopt.js';
import { assertValidChainName, CMD, EarlyExit, SkipLine, XtablesSession, type KernelView, type ParsedCommand } from '../../ruleset/command-parse.js';
import { earlyExitText } from '../iptables-help.js';
import { addOp, DeletionRun, JumpTargetMissing, KernelRefusal, NftError, execute, lookupChain, type NftFnState } from '../../ruleset/execute.js';
import { addChain, allocHandle, BUILTIN_CHAINS, chainRenamed, copyTable, findChain, isBuiltin, isTableName, newTable, ruleCount, type Chain, type Table, type TableName, type Tables } from '../../ruleset/tables.js';
import { copyGraph, forgetGraph, loosenGraph } from '../../ruleset/jump-graph.js';
import { jumpsOf } from '../../ruleset/rule.js';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { hostOf, readWrite, type CliContext } from '../context.js';
import { strerror } from '../io.js';
import { familyTables, parseIptables, refusalText } from './iptables.js';
import type { Family } from '../../extensions/registry.js';

const LONG: LongOpt[] = [
  { name: 'counters', hasArg: 0, val: 'c' },
  { name: 'verbose', hasArg: 0, val: 'v' },
  { name: 'version', hasArg: 0, val: 'V' },
  { name: 'test', hasArg: 0, val: 't' },
  { name: 'help', hasArg: 0, val: 'h' },
  { name: 'noflush', hasArg: 0, val: 'n' },
  { name: 'modprobe', hasArg: 1, val: 'M' },
  { name: 'table', hasArg: 1, val: 'T' },
  { name: 'ipv4', hasArg: 0, val: '4' },
  { name: 'ipv6', hasArg: 0, val: '6' },
  { name: 'wait', hasArg: 2, val: 'w' },
  { name: 'wait-interval', hasArg: 2, val: 'W' },
];

function usage(prog: string): string {
  return (
    `Usage: ${prog} [-c] [-v] [-V] [-t] [-h] [-n] [-T table] [-M command] [-4] [-6] [file]\n` +
    '\t   [ --counters ]\n\t   [ --verbose ]\n\t   [ --version]\n\t   [ --test ]\n\t   [ --help ]\n' +
    '\t   [ --noflush ]\n\t   [ --table=<TABLE> ]\n\t   [ --modprobe=<command> ]\n\t   [ --ipv4 ]\n\t   [ --ipv6 ]\n'
  );
}

/** fgets(buffer, 10240): lines longer than the buffer come back in pieces, each counted as a line */
export function fgetsLines(text: string): string[] {
  const out: string[] = [];
  let pos = 0;
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    const end = nl < 0 ? text.length : nl + 1;
    const take = Math.min(end - pos, 10239);
    out.push(text.slice(pos, pos + take));
    pos += take;
  }
  return out;
}

/** MAX_ARGC of xshared.h: add_argv() refuses the word that would fill the last slot */
const MAX_ARGC = 255;
/** add_param(): a word's buffer holds 1023 bytes */
const PARAM_BUFFER = 1024;

/**
 * add_param_to_argv(): splits a rule line into words. Double quotes group (a closing quote ends
 * the word, even an empty one: `a"b c"d` is the words `ab c` and `d`), a backslash inside quotes
 * takes the next character as it is; a word of 1024 bytes or more, or more words than fit after
 * the words already in `argv` (-t TABLE, ...) and the program name, is an error. The words are
 * added to `argv`. They are sliced out of the line a run at a time (a string grown a character
 * at a time is a chain of pieces, and these words stay in the rules).
 */
export function splitRestoreLine(line: string, argv: string[]): void {
  const emit = (word: string): void => {
    // (at most 3 bytes a UTF-16 unit: shorter words cannot reach the limit)
    if (word.length * 3 >= PARAM_BUFFER && Buffer.byteLength(word, 'utf8') >= PARAM_BUFFER) throw paramProblem('Parameter too long!');
    // argc: the words so far and the program name
    if (argv.length + 2 >= MAX_ARGC) throw paramProblem('Parser cannot handle more arguments');
    argv.push(word);
  };
  /** the word so far, up to `run` */
  let param = '';
  /** where the run of characters not yet copied into `param` starts */
  let run = 0;
  let quoteOpen = false;
  let escaped = false;
  const n = line.length;
  for (let i = 0; i < n; i++) {
    const ch = line.charCodeAt(i);
    if (quoteOpen) {
      if (escaped) {
        escaped = false;
      } else if (ch === 0x5c /* \ */) {
        // the backslash is dropped, the character after it kept
        param += line.slice(run, i);
        run = i + 1;
        escaped = true;
      } else if (ch === 0x22 /* " */) {
        quoteOpen = false;
        emit(param + line.slice(run, i));
        param = '';
        run = i + 1;
      }
      continue;
    }
    if (ch === 0x22) {
      quoteOpen = true;
      param += line.slice(run, i);
      run = i + 1;
    } else if (ch === 0x20 || ch === 0x09 || ch === 0x0a) {
      param += line.slice(run, i);
      run = i + 1;
      if (param.length) emit(param);
      param = '';
    }
  }
  param += line.slice(run);
  if (param.length) emit(param);
}

/** strtok(s, " \t\n") */
function tokens(s: string): string[] {
  const out: string[] = [];
  /** where the word being read starts; -1 between words */
  let start = -1;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch !== 0x20 && ch !== 0x09 && ch !== 0x0a) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      out.push(s.slice(start, i));
      start = -1;
    }
  }
  if (start >= 0) out.push(s.slice(start));
  return out;
}

class LineFailed {
  constructor(readonly text: string) {}
}

/** every rule of a table the kernel refused, each with its line, reported together as iptables-restore does */
class RefusedLines {
  constructor(readonly lines: Deferred[]) {}
}

function refusedLinesText(prog: string, lines: Deferred[]): string {
  let out = `${prog} v${PROGRAM_VERSION}: \n`;
  for (const d of lines) out += `line ${d.line}: ${(d.error as KernelRefusal).message}\n`;
  // the first refusal is the cause; later ones of an invalid table only echo it
  const why = lines.map((d) => (d.error as KernelRefusal).why).find((w) => w);
  return out + (why ? `iptables-sim: ${why}\n` : '');
}

export async function restoreCommand(ctx: CliContext, argv: string[], prog = 'iptables-restore', family: Family = 4): Promise<number> {
  const { io } = ctx;
  const r = getoptPermute(prog, argv, 'bcvVthnM:T:wW', LONG);
  if ('error' in r) {
    io.err(r.error + `Try \`${prog} -h' for more information.\n`);
    return 1;
  }
  let counters = false;
  let verbose = 0;
  let testing = false;
  let noflush = false;
  let onlyTable: string | undefined;
  for (const o of r.options) {
    switch (o.val) {
      case 'b':
        io.err('-b/--binary option is not implemented\n');
        break;
      case 'c':
        counters = true;
        break;
      case 'v':
        verbose++;
        break;
      case 'V':
        io.out(`${prog} v${PROGRAM_VERSION}\n`);
        return 0;
      case 't':
        testing = true;
        break;
      case 'h':
        io.err(usage(prog));
        return 0;
      case 'n':
        noflush = true;
        break;
      case 'T':
        onlyTable = o.arg;
        break;
    }
  }
  let input: string;
  if (r.rest.length === 1) {
    try {
      // (a rules file the replaying script wrote lives in the replay's memory, not on disk)
      input = ctx.io.scriptFile?.(r.rest[0]!) ?? readFileSync(resolve(ctx.io.cwd, r.rest[0]!), 'latin1');
    } catch (e) {
      io.err(`Can't open ${r.rest[0]}: ${strerror(e)}\n`);
      return 1;
    }
  } else if (r.rest.length > 1) {
    io.err('Unknown arguments found on commandline\n');
    return 1;
  } else {
    input = await io.readStdin();
  }

  return readWrite(ctx, (lab) => {
    const host = hostOf(lab, ctx.host)[1];
    let committed = false;
    let status = 0;
    let line = 0;
    try {
      restoreInto(familyTables(host, family), input, { family, counters, verbose, testing, noflush, onlyTable, prog, out: (t) => io.out(t), err: (t) => io.err(t), onCommit: () => (committed = true), line: (n) => (line = n), ipsets: host.ipsets, nfacct: host.nfacct ?? [], otherTables: family === 6 ? host.tables : host.tables6 });
    } catch (e) {
      if (e instanceof EarlyExit) {
        // -h or -V on a line: iptables' do_command prints the help (with the restore program's
        // name) or the version and calls exit(0): the tables committed before stay, the one being
        // read is not committed (measured: fixtures/cli/restore-help.case)
        io.out(earlyExitText(e, prog));
      } else if (e instanceof XtablesError) {
        io.err(renderXtablesError(e, prog, line));
        status = e.status;
      } else if (e instanceof KernelRefusal) {
        io.err(refusalText(prog, e, line));
        status = Exit.RESOURCE_PROBLEM;
      } else if (e instanceof RefusedLines) {
        io.err(refusedLinesText(prog, e.lines));
        status = Exit.RESOURCE_PROBLEM;
      } else if (e instanceof LineFailed) {
        io.err(e.text);
        status = Exit.OTHER_PROBLEM;
      } else if (e instanceof SimError && e.status > 128) {
        // the real program dies on this line (a signal: 128 + its number): the tables committed
        // before stay (measured: a hashlimit line that divides by zero, exit 136)
        io.err(`iptables-sim: ${prog}: line ${line}: ${e.message}\n`);
        status = e.status;
      } else throw e;
    }
    return { save: committed && !testing, value: status };
  });
}

interface RestoreOptions {
  /** 6: ip6tables-restore */
  family?: Family;
  counters: boolean;
  verbose: number;
  testing: boolean;
  noflush: boolean;
  onlyTable?: string;
  prog: string;
  out(text: string): void;
  /** stderr: the warnings the iptables parser prints while reading a line */
  err?(text: string): void;
  onCommit(): void;
  line(n: number): void;
  /** the host's IP sets, for the set match's lookups */
  ipsets?: (AnySet | null)[];
  /** the host's accounting objects (-m nfacct names one) */
  nfacct?: NfacctObject[];
  /** the other family's tables (what the kernel's checks of shared objects also see) */
  otherTables?: Tables;
}

/**
 * A failure iptables-restore only notices when the table is committed (nft_prepare and the
 * kernel): reported at COMMIT, although later lines of the table were still parsed.
 */
interface Deferred {
  error: unknown;
  line: number;
}

/**
 * -Z of a base chain in a restore file: nft_chain_zero_counters() sends the chain as iptables-nft's
 * cache holds it, with the policy the kernel had before the file (ACCEPT for a chain it did not
 * hold), which undoes a policy line of the same table (measured: fixtures/cli/restore-transaction.case)
 */
function zeroResendsPolicy(table: TableName, t: Table | undefined, kernel: Table | undefined, name: string | undefined): void {
  for (const c of t?.chains ?? []) {
    if (!isBuiltin(table, c.name) || (name !== undefined && c.name !== name)) continue;
    // (a base chain the kernel did not hold: the cache's has no policy, and the kernel's default is ACCEPT)
    const was = kernel && findChain(kernel, c.name);
    c.policy = was?.created && was.policy ? was.policy : 'ACCEPT';
  }
}

/**
 * What a listing line of a restore file shows: iptables-nft's cache of the table as the lines
 * before it built it (the rules and chains added, deleted or flushed so far), with the base chains'
 * policies as the kernel had them (a table restored without --noflush is deleted first: ACCEPT),
 * since policy lines are only sent at COMMIT (measured: fixtures/cli/restore-out2.case)
 */
function listingView(table: TableName, t: Table | undefined, kernel: Table | undefined): Table | undefined {
  if (!t) return undefined;
  const copy = copyTable(t);
  zeroResendsPolicy(table, copy, kernel, undefined);
  return copy;
}

/**
 * The operation the kernel names when it refuses a rule of a transaction that no longer validates,
 * as execute() names it; undefined for a command that adds no rule or fails before the kernel (-I
 * past the end: "Index of insertion too big")
 */
function invalidOp(command: number, rulenum: number, count: number): string | undefined {
  if (command === CMD.REPLACE) return 'RULE_REPLACE';
  if (command === CMD.APPEND || (command === CMD.INSERT && rulenum <= count + 1)) return addOp(command, rulenum, count);
  return undefined;
}

/** Applies a restore file to `tables`, table by table at each COMMIT. */
export function restoreInto(tables: Tables, input: string, o: RestoreOptions): void {
  let inTable = false;
  let curtable: TableName | undefined;
  /** the table being built until its COMMIT; undefined = the table does not exist */
  let pending: Tables = {};
  /**
   * What the lines of the table being read print (-v, listings). iptables-nft prints it as the
   * table's commands are prepared at COMMIT: not at all under --test, nor when the table never gets
   * there (a line that does not parse, -h or -V, the end of the file); a failure found while
   * preparing comes after what the lines before it printed (measured: fixtures/cli/restore-out.case)
   */
  let held: string[] = [];
  const say = (t: string): void => {
    if (t) held.push(t);
  };
  let deferred: Deferred | undefined;
  let refusals: Deferred[] = [];
  let deletions: DeletionRun | undefined;
  /** nft_table_validate() failed: the rule stays in the transaction and every later rule fails too */
  let invalid: KernelRefusal | undefined;
  /**
   * user chains a -X took out of iptables-nft's cache (nft_chain_user_del()) that the kernel will
   * refuse to delete at COMMIT (rules, references): later lines of the table no longer find them,
   * and a -N of one is refused by the kernel too (measured: fixtures/cli/restore-x-cache.case)
   */
  let dropped = new Set<string>();
  /**
   * the built-in chains a `-X` took out of the cache as well (iptables-nft 1.8.9 deletes those it
   * can; the kernel keeps the others): a later -A, -I or -F of one adds it again as new, policy
   * ACCEPT, which the kernel takes as an update of the chain it holds; -Z, -D, -R and -C of one find
   * nothing (measured: fixtures/cli/restore-x-builtin.case)
   */
  let builtinOut = new Set<string>();
  /**
   * the base chains this table's lines made (a chain line for one the kernel did not hold; every
   * one without --noflush, the table being made anew): a -X deletes those left without rules,
   * whatever their policy (measured: fixtures/cli/restore-x-made.case)
   */
  let made = new Set<Chain>();
  const lines = fgetsLines(input);
  // one process for the whole file: extensions load once, announced chains stay announced
  const session = new XtablesSession(o.family);
  // (what the lines' nft_* functions leave for nft_strerror(), in file order as COMMIT runs them)
  const nftFn: NftFnState = {};
  session.ipset = (name) => findIpset(o, name);
  let lineNo = 0;
  const failed = (at: number, errText?: string): never => {
    throw new LineFailed(`${o.prog}: line ${at} failed${errText ? `: ${errText}.` : ''}\n`);
  };
  // What the kernel's checks see: the tables committed before this one and the one being built.
  // One view while neither changes (made per line, it was a tenth of a long restore's time).
  let view: KernelView | undefined;
  let viewOf: [Tables, Table | undefined] | undefined;
  const kernelView = (): KernelView => {
    const t = pending[curtable!];
    if (!view || viewOf![0] !== pending || viewOf![1] !== t) {
      view = { tables: { ...tables, ...pending }, otherTables: o.otherTables, nfacct: o.nfacct };
      viewOf = [pending, t];
    }
    return view;
  };
  /**
   * A rule the kernel refused stays in iptables-nft's cache, and, refused by the table's validation
   * ('validate'), in the kernel's transaction too: later lines count it (`-I CHAIN N`) and the
   * kernel's checks of later rules see it ('all': its own expressions were refused)
   */
  const keepRefused = (cmd: ParsedCommand, tolerate: 'validate' | 'all' = 'validate'): void => {
    cmd.kernel = { ...kernelView(), tolerate };
    // (and -v prints it, as it prints every line it prepares)
    say(execute(pending, cmd, undefined, nftFn).text());
    forgetGraph(pending[curtable!]);
  };
  const commit = (): void => {
    // --test aborts the transaction before nft_prepare: those failures and that output never surface
    if (!o.testing) for (const t of held) o.out(t);
    held = [];
    const d = o.testing ? undefined : (deferred ?? refusals[0]);
    if (d) {
      if (d.error instanceof NftError) failed(d.line, d.error.message);
      if (d.error instanceof KernelRefusal) {
        // nf_tables validates a table's jump graph only when the batch met no other refusal (and
        // then again rule by rule as it replays the batch): beside another, the validation's
        // refusals are never found (measured: fixtures/cli/restore-validate-defer.case)
        const other = refusals.filter((r) => (r.error as KernelRefusal).phase !== 'validate');
        throw new RefusedLines(other.length ? other : refusals);
      }
      throw d.error;
    }
    if (!o.testing && curtable) {
      const t = pending[curtable];
      if (t) tables[curtable] = t;
      else delete tables[curtable];
      view = undefined;
      o.onCommit();
    }
  };
  for (const buffer of lines) {
    lineNo++;
    o.line(lineNo);
    let ok = false;
    if (buffer[0] === '\n') continue;
    if (buffer[0] === '#') continue;
    // -X lines one after the other share their reference counts (DeletionRun); anything else ends a run
    const run = deletions;
    deletions = undefined;
    if (inTable && buffer.startsWith('COMMIT') && (buffer.length === 6 || buffer[6] === '\n')) {
      commit();
      inTable = false;
      ok = true;
    } else if (buffer[0] === '*' && !inTable) {
      const name = tokens(buffer.slice(1))[0];
      if (name === undefined) throw paramProblem(`${o.prog}: line ${lineNo} table name invalid`);
      if (!isTableName(name)) throw paramProblem(`${o.prog}: line ${lineNo} table name '${name}' invalid`);
      curtable = name;
      if (o.onlyTable !== undefined && o.onlyTable !== name) continue;
      const existing = tables[name];
      // without --noflush the table is deleted and rebuilt from the file
      const copy = o.noflush && existing ? copyTable(existing) : undefined;
      if (copy) copyGraph(existing!, copy);
      pending = { [name]: copy };
      held = [];
      deferred = invalid = undefined;
      refusals = [];
      dropped = new Set();
      builtinOut = new Set();
      made = new Set();
      if (o.verbose && !o.noflush) for (const c of BUILTIN_CHAINS[name]) say(`Flushing chain \`${c}'\n`);
      inTable = true;
      ok = true;
    } else if (buffer[0] === ':' && inTable) {
      const parts = tokens(buffer.slice(1));
      const chain = parts[0];
      if (chain === undefined) throw paramProblem(`${o.prog}: line ${lineNo} chain name invalid`);
      session.announced.add(chain);
      assertValidChainName(chain, session);
      const policy = parts[1];
      if (policy === undefined) throw paramProblem(`${o.prog}: line ${lineNo} policy invalid`);
      const table = curtable!;
      const t = (pending[table] ??= newTable(table));
      if (isBuiltin(table, chain)) {
        let count: [number, number] = [0, 0];
        if (o.counters) {
          const m = /^\[(\d+):(\d+)\]/.exec(parts[2] ?? '');
          if (!m) throw paramProblem(`invalid policy counters for chain '${chain}'`);
          count = [Number(m[1]), Number(m[2])];
        }
        // nft_chain_set() at COMMIT: "-" keeps the policy (the chain is made, its counters set),
        // anything but ACCEPT and DROP fails there, after the rest of the table was read, and
        // --test never gets there (measured: fixtures/cli/restore-transaction.case)
        if (policy !== 'ACCEPT' && policy !== 'DROP' && policy !== '-') {
          deferred ??= { error: new NftError('Bad policy name'), line: lineNo };
        } else if (!deferred) {
          nftFn.last = 'chain_set';
          // (nft_chain_set() of "-" without counters does nothing: the chain stays out of the cache)
          if (policy !== '-') builtinOut.delete(chain);
          const c = findChain(t, chain)!;
          if (policy !== '-') c.policy = policy;
          // as -P: a base chain created now is a new start for jumps; one there already changes nothing
          if (!c.created) {
            c.handle = allocHandle(t);
            forgetGraph(t);
            made.add(c);
          }
          c.created = true;
          [c.pkts, c.bytes] = count;
        }
      } else {
        // (a user chain's line, made or flushed, leaves nft_fn as it was: measured,
        // fixtures/cli/restore-errmsg.case)
        const c = findChain(t, chain);
        if (c) {
          // flushed, as -F: jumps go, which the graph follows by saying it may say more (a kube-proxy
          // sync flushes KUBE-SERVICES; forgetting the graph had its next jump decode every chain)
          c.rules = [];
          loosenGraph(t);
        }
        else addChain(t, { name: chain, pkts: 0, bytes: 0, rules: [], handle: allocHandle(t) });
      }
      ok = true;
    } else if (inTable) {
      let rest = buffer;
      let pcnt: string | undefined;
      let bcnt: string | undefined;
      if (rest[0] === '[') {
        const close = rest.indexOf(']');
        if (close < 0) throw paramProblem(`Bad line ${lineNo}: need ]`);
        const inner = rest.slice(1, close);
        const colon = inner.indexOf(':');
        if (colon < 0) throw paramProblem(`Bad line ${lineNo}: need :`);
        pcnt = inner.slice(0, colon);
        bcnt = inner.slice(colon + 1);
        rest = rest.slice(close + 1);
      }
      const argv = ['-t', curtable!];
      if (!o.noflush) for (let v = 0; v < o.verbose; v++) argv.push('-v');
      if (o.counters && pcnt !== undefined && bcnt !== undefined) argv.push('--set-counters', pcnt, bcnt);
      splitRestoreLine(rest, argv);
      let cmd;
      try {
        cmd = parseIptables(argv, (t) => (o.err ?? o.out)(t), true, curtable, session);
      } catch (e) {
        if (e instanceof SkipLine) continue;
        // (-h or -V: do_command exits 0 where it stands, the caller prints; see restoreCommand)
        throw e;
      }
      if (cmd.command & (CMD.LIST | CMD.LIST_RULES)) {
        // (preparing stops at the command that failed: a listing after it prints nothing)
        if (!deferred) say(execute({ [curtable!]: listingView(curtable!, pending[curtable!], o.noflush ? tables[curtable!] : undefined) }, { ...cmd, command: cmd.command & (CMD.LIST | CMD.LIST_RULES) }).text());
      } else if (cmd.command === CMD.FLUSH && cmd.chain === undefined && (!o.noflush || !tables[curtable!])) {
        // nft_rule_flush() of every chain looks the table up in the cache, where a restore without
        // --noflush has flushed it and a table the kernel does not hold is not either: the rules
        // added so far stay (measured: fixtures/cli/restore-transaction.case)
        nftFn.last = 'other';
      } else if (!deferred) {
        try {
          // (a rule for a chain the transaction does not hold fails before the kernel sees it)
          const c = invalid && lookupChain(pending, curtable!, cmd.chain!);
          const op = c && invalidOp(cmd.command, cmd.rulenum, ruleCount(c));
          if (op) {
            // the rule's own expressions are checked as ever (their refusal is its own) and it
            // enters the transaction; the table, invalid already, refuses it: Too many links when
            // it closes a loop, else as it refused the first
            const loop = closesLoop(pending[curtable!], cmd);
            keepRefused(cmd);
            throw new KernelRefusal(op, loop ? 'Too many links' : invalid!.errText, `rule in chain ${cmd.chain}`, undefined, 'validate');
          }
          if (cmd.command === CMD.DELETE_CHAIN) deletions = run ?? new DeletionRun();
          if (cmd.chain !== undefined && builtinOut.has(cmd.chain)) outOfCache(cmd, pending[curtable!]);
          builtinOut.delete(cmd.chain!);
          // (the kernel's checks see the tables committed before this one too)
          cmd.kernel = kernelView();
          if (cmd.command === CMD.DELETE_CHAIN && cmd.chain === undefined) for (const c of BUILTIN_CHAINS[curtable!]) builtinOut.add(c);
          say(execute(pending, cmd, deletions, nftFn).text());
          if (cmd.command === CMD.DELETE_CHAIN && cmd.chain === undefined) {
            for (const c of made) {
              if (c.rules.length) continue;
              c.policy = 'ACCEPT';
              c.pkts = c.bytes = 0;
              c.created = false;
            }
            made.clear();
          }
          if (cmd.command === CMD.ZERO) zeroResendsPolicy(curtable!, pending[curtable!], tables[curtable!], cmd.chain);
          if (cmd.command === CMD.NEW_CHAIN && dropped.has(cmd.chain!)) refusals.push({ error: new KernelRefusal('CHAIN_USER_ADD', 'File exists', `chain ${cmd.chain}`), line: lineNo });
        } catch (e) {
          if (e instanceof KernelRefusal) {
            refusals.push({ error: e, line: lineNo });
            // the cache keeps a rule whose own expressions the kernel refused: later lines count
            // it (-I CHAIN N), and -v prints it as it prepares it
            if (e.phase === 'init' && (cmd.command === CMD.APPEND || cmd.command === CMD.INSERT || cmd.command === CMD.REPLACE)) {
              try {
                keepRefused(cmd, 'all');
              } catch (again) {
                if (!(again instanceof KernelRefusal)) throw again;
              }
            }
            if (e.phase === 'validate' && !invalid) {
              invalid = e;
              keepRefused(cmd);
            }
            if (cmd.command === CMD.DELETE_CHAIN) for (const name of dropFromCache(pending[curtable!], curtable!, cmd.chain)) dropped.add(name);
          }
          else if (e instanceof NftError || e instanceof JumpTargetMissing) deferred = { error: e, line: lineNo };
          else throw e;
        }
      }
      ok = true;
    }
    if (o.onlyTable !== undefined && curtable && o.onlyTable !== curtable) continue;
    if (!ok) failed(lineNo);
  }
  if (inTable) {
    throw new LineFailed(`${o.prog}: COMMIT expected at line ${lineNo + 1}\n`);
  }
}

/** whether a rule of `cmd` jumps or goes to a chain from which jumps lead back to the command's chain */
function closesLoop(t: Table | undefined, cmd: ParsedCommand): boolean {
  if (!t) return false;
  const seen = new Set<string>();
  const todo = jumpsOf(cmd.rules);
  for (let name = todo.pop(); name !== undefined; name = todo.pop()) {
    if (name === cmd.chain) return true;
    if (seen.has(name)) continue;
    seen.add(name);
    const c = findChain(t, name);
    if (c) todo.push(...jumpsOf(c.rules));
  }
  return false;
}

/**
 * What nft_chain_user_del() leaves in the cache when the kernel will refuse the deletion: `-X NAME`
 * takes that user chain out, `-X` every user chain. Their names are gone from the transaction's
 * table, but not their rules: the kernel, which still holds them, counts their jumps when it
 * refuses the deletion of the chains they jump to (the transaction never commits: its refusal is
 * recorded). Returns the names taken out.
 */
function dropFromCache(t: Table | undefined, table: TableName, name: string | undefined): string[] {
  if (!t) return [];
  const gone = t.chains.filter((c) => !isBuiltin(table, c.name) && (name === undefined || c.name === name));
  const names = gone.map((c) => c.name);
  for (const c of gone) {
    // (a name no command line can give: a tab is no part of a chain name)
    c.name = `\t${c.name}`;
    chainRenamed(t, c);
  }
  if (gone.length) forgetGraph(t);
  return names;
}

/**
 * A command on a built-in chain a `-X` of this transaction took out of the cache: -A, -I and -F add
 * the chain again with policy ACCEPT (an update of the kernel's); -Z, -D, -R and -C find no chain
 */
function outOfCache(cmd: ParsedCommand, t: Table | undefined): void {
  if (cmd.command === CMD.APPEND || cmd.command === CMD.INSERT || cmd.command === CMD.FLUSH) {
    const c = t && findChain(t, cmd.chain!);
    if (c) c.policy = 'ACCEPT';
  } else if (cmd.command === CMD.CHECK || cmd.command === CMD.DELETE || cmd.command === CMD.ZERO_NUM) {
    throw new NftError('Bad rule (does a matching rule exist in that chain?)');
  } else if (cmd.command !== CMD.SET_POLICY) throw new NftError('No chain/target/match by that name');
}
