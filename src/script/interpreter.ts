/**
 * Replays a parsed script in this process. Every tool line goes through the CLI's own entry
 * point (`main()` with an Io of its own), so output and exit status are those of
 * `iptables-sim TOOL ...`; the lab can be shared by all of them in memory (see session.ts).
 *
 * Shell semantics kept: variables and the environment, expansions and field splitting, AND-OR
 * lists and `!` (a failure there is handled, as under `set -e`), pipelines (each stage's output is
 * the next one's input), redirections (to /dev/null, between stdout and stderr, into /proc/sys,
 * into files, which are kept in memory for the rest of the replay and never written to disk),
 * here-documents. A command that fails where `set -e` would stop the shell stops the replay with
 * `FILE:LINE: <its message>` and its status (or, with keep-going, is reported and skipped).
 */
import { existsSync, lstatSync, readFileSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { strerror, type Io } from '../cli/io.js';
import { findHost, noHostMessage, type Lab } from '../net/lab.js';
import { readLab } from '../state/store.js';
import { cat, echo, grep, headTail, printf, test, wc, type FileView, type StageIo } from './builtins.js';
import { ScriptError, unsupported } from './errors.js';
import { ExpansionError, Expander, type Variables } from './expand.js';
import type { Word } from './lexer.js';
import { Parser, type AndOr, type Item, type Pipeline, type SimpleCommand } from './parser.js';
import { isProcSys, procEntry, procSysKey, type ProcEntry } from './proc.js';
import type { MemorySession, SnapshotScope } from './session.js';
import { baseName, EMULATED, NOTED, REFUSED, TOOL_DIRS, toolPath } from './tools.js';
import { isTableName, type TableName } from '../ruleset/tables.js';

export interface ReplayOptions {
  /** the replay's own streams */
  io: Io;
  statePath: string;
  /** the host commands act on until a directive switches it (undefined: the lab's default) */
  host?: string;
  /** the lab in memory; without it every command reads and writes the lab file */
  session?: MemorySession;
  keepGoing?: boolean;
  dryRun?: boolean;
  /** $1, $2, ... */
  args?: string[];
  /** commands only the interactive shell has (host, trace, ...) */
  extra?: Record<string, (args: string[], cx: CommandIo) => Promise<number>>;
  /** receives failures instead of the `FILE:LINE: message` lines on stderr (the shell draws a caret) */
  report?: (f: FailureReport) => void;
}

/** a failing command, with where each of its arguments came from in the source */
export interface FailureReport extends Failure {
  fields: { text: string; word: Word }[];
}

export interface CommandIo extends StageIo {
  env: NodeJS.ProcessEnv;
}

export interface Failure {
  file: string;
  line: number;
  status: number;
  message: string;
}

interface Var {
  value: string;
  exported: boolean;
  readonly: boolean;
}

/** the script ends (exit, a fatal expansion error, or a failure that stops the replay) */
class ScriptExit {
  constructor(
    readonly status: number,
    /** the `exit` builtin (not an error) ended it */
    readonly byExit = false,
  ) {}
}

/** a syntax error or refused construct in a file read with `source` (reported at its own line) */
class SourcedScriptError {
  constructor(
    readonly file: string,
    readonly error: ScriptError,
  ) {}
}

/** `return` from a sourced file */
class SourceReturn {
  constructor(readonly status: number) {}
}

type Sink =
  | { kind: 'out' }
  | { kind: 'err' }
  | { kind: 'null' }
  | { kind: 'file'; path: string; append: boolean }
  | { kind: 'proc'; path: string; entry: ProcEntry; text: string };

/** where a command's output goes when nothing redirects it */
const OUT: Sink = { kind: 'out' };
const ERR: Sink = { kind: 'err' };

type ProcSink = Extract<Sink, { kind: 'proc' }>;

/** one command of a pipeline: its streams after its redirections, then its status and stderr */
class Stage implements CommandIo {
  status = 0;
  /** what the command wrote to its stderr stream */
  stderr = '';
  /** what it wrote into the pipe to the next command */
  piped = '';
  /** what a failure is reported under (the command name) */
  name: string;
  /** set once the redirections are done (they can assign variables) */
  env!: NodeJS.ProcessEnv;
  fd1: Sink = OUT;
  fd2: Sink = ERR;
  /** /proc/sys files written to: each is one sysctl write when the command ends */
  procSinks: Set<ProcSink> | undefined;

  constructor(
    readonly line: number,
    /** the command's fields, and the word each came from (only kept for a failure report) */
    readonly argv: string[],
    readonly from: Word[] | undefined,
    public stdin: string,
    /** where its standard output goes: the replay's (undefined: a pipe to the next command, see piped) */
    private readonly replayIo: Io | undefined,
    /** the replay's files */
    private readonly files: Map<string, string>,
  ) {
    this.name = argv[0] ?? '';
  }

  setSink(fd: 1 | 2, s: Sink): void {
    if (fd === 1) this.fd1 = s;
    else this.fd2 = s;
  }

  out(t: string): void {
    this.write(this.fd1, t);
  }

  err(t: string): void {
    this.write(this.fd2, t);
  }

  private write(s: Sink, t: string): void {
    if (!t.length) return;
    switch (s.kind) {
      case 'out':
        if (this.replayIo) this.replayIo.out(t);
        else this.piped += t;
        break;
      case 'err':
        this.stderr += t;
        break;
      case 'null':
        break;
      case 'file':
        this.files.set(s.path, (this.files.get(s.path) ?? '') + t);
        break;
      case 'proc':
        s.text += t;
        (this.procSinks ??= new Set()).add(s);
        break;
    }
  }
}

/** the Io an emulated tool runs with: the command's streams, the replay's directory, clock and files */
class ToolIo implements Io {
  readonly isTTY = false;
  readonly env: NodeJS.ProcessEnv;

  constructor(
    private readonly cx: CommandIo,
    readonly cwd: string,
    readonly now: () => Date,
    readonly scriptFile: (path: string) => string | undefined,
  ) {
    this.env = cx.env;
  }

  out(t: string): void {
    this.cx.out(t);
  }

  err(t: string): void {
    this.cx.err(t);
  }

  readStdin(): Promise<string> {
    return Promise.resolve(this.cx.stdin);
  }
}

/** a command without assignments in front of it */
const NO_ASSIGNS: readonly [string, string][] = [];

const SHELL_BUILTINS = new Set([
  ':', 'true', 'false', 'echo', 'printf', 'test', '[', 'cat', 'grep', 'head', 'tail', 'wc', 'exit', 'export', 'readonly', 'unset', 'set', 'shift',
  'cd', 'pwd', 'source', '.', 'local', 'return', 'umask', 'wait', 'which', 'command', 'type', 'sudo', 'eval', 'exec',
  'alias', 'trap', 'read', 'let', 'declare', 'typeset',
]);

function quoteForTrace(a: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`;
}

export class Replay {
  private readonly vars = new Map<string, Var>();
  private positional: string[];
  private status = 0;
  private host: string | undefined;
  private cwd: string;
  /** files the script wrote, kept here instead of on disk */
  private readonly files = new Map<string, string>();
  private readonly notes = new Map<string, number[]>();
  private readonly failures: Failure[] = [];
  /** the script could not be read to its end: nothing of it may be kept */
  aborted = false;
  private file = '-';
  private dash = false;
  private nounset = false;
  private xtrace = false;
  private pipefail = false;
  /** `set +e`: failures are reported but do not stop the replay */
  private errexitOff = false;
  private commands = 0;
  private readonly expander: Expander;
  private readonly fileView: FileView;
  /** the clock and the files the replay wrote, as the tools see them */
  private readonly now: () => Date;
  private readonly scriptFile: (path: string) => string | undefined;

  constructor(private readonly o: ReplayOptions) {
    this.host = o.host;
    this.cwd = o.io.cwd;
    this.positional = o.args ?? [];
    for (const [k, v] of Object.entries(o.io.env)) if (v !== undefined) this.vars.set(k, { value: v, exported: true, readonly: false });
    const self = this;
    const variables: Variables = {
      get: (n) => this.vars.get(n)?.value,
      set: (n, v) => this.assign(n, v),
      get positional() {
        return self.positional;
      },
      get arg0() {
        return self.file;
      },
      get status() {
        return self.status;
      },
      pid: process.pid,
      get nounset() {
        return self.nounset;
      },
      get flags() {
        return 'h' + (self.nounset ? 'u' : '') + (self.xtrace ? 'x' : '') + 'B';
      },
    };
    this.expander = new Expander(variables);
    this.fileView = {
      stat: (p) => this.stat(p),
      read: (p) => this.read(p),
    };
    this.now = () => o.io.now();
    this.scriptFile = (p) => this.files.get(this.resolvePath(p));
  }

  /** the host commands currently act on */
  get currentHost(): string | undefined {
    return this.host;
  }

  set currentHost(h: string | undefined) {
    this.host = h;
  }

  get failureList(): readonly Failure[] {
    return this.failures;
  }

  get commandCount(): number {
    return this.commands;
  }

  /**
   * Replays a whole script; returns the exit status. The script is read as it runs, as bash reads
   * it; a syntax error or a construct the replay does not model stops it there and marks the
   * replay aborted: the caller then keeps the lab as it was (the output of the lines before has
   * been printed, as bash would have printed it).
   */
  async runScript(src: string, file: string): Promise<number> {
    this.file = file;
    this.dash = /^#!\s*\S*\/(sh|dash)\b/.test(src);
    // `#!/bin/sh -eux`: the interpreter's own options apply to the script
    const flags = /^#!\s*\S+((?:[ \t]+-[a-zA-Z]+)+)/.exec(src)?.[1] ?? '';
    if (/-\w*u/.test(flags)) this.nounset = true;
    if (/-\w*x/.test(flags)) this.xtrace = true;
    await loadModules();
    let status: number;
    try {
      status = await this.runItems(new Parser(src));
    } catch (e) {
      if (e instanceof ScriptExit) status = e.status;
      else if (e instanceof SourceReturn) status = e.status;
      else if (e instanceof ScriptError || e instanceof SourcedScriptError) {
        const where = e instanceof SourcedScriptError ? `${e.file}:${e.error.line}` : `${this.file}:${e.line}`;
        const err = e instanceof SourcedScriptError ? e.error : e;
        this.o.io.err(`${where}: ${err.message}\n`);
        if (this.commands && !this.o.dryRun) this.o.io.err(`${file}: the replay stopped there; the lab was left as it was before the script\n`);
        this.aborted = true;
        return err.status;
      } else throw e;
    }
    this.finish();
    if (this.failures.length && status === 0) status = this.failures[0]!.status;
    return status;
  }

  /** One line typed at the interactive prompt (parse errors are the caller's, for its caret). */
  async runLine(items: Item[], file: string): Promise<{ status: number; exit: boolean }> {
    this.file = file;
    await loadModules();
    try {
      let i = 0;
      return { status: await this.runItems({ nextItem: () => items[i++] }), exit: false };
    } catch (e) {
      if (e instanceof ScriptExit) return { status: e.status, exit: e.byExit };
      if (e instanceof SourceReturn) return { status: e.status, exit: false };
      throw e;
    }
  }

  private finish(): void {
    const { io } = this.o;
    for (const [what, lines] of this.notes) {
      io.err(`${this.file}: note: ${what} (line${lines.length > 1 ? 's' : ''} ${summarizeLines(lines)})\n`);
    }
    if (this.files.size) {
      io.err(`${this.file}: note: files the script wrote were kept in memory for the replay, not written to disk: ${[...this.files.keys()].join(', ')}\n`);
    }
    if (this.o.dryRun && !this.failures.length) io.err(`${this.file}: ${this.commands} commands parsed; nothing was run (--dry-run)\n`);
  }

  private note(what: string, line: number): void {
    const l = this.notes.get(what) ?? [];
    l.push(line);
    this.notes.set(what, l);
  }

  /**
   * Runs items as they are read, as bash reads a script while it runs (an error is thrown when
   * reached). A replay holds one item at a time: the whole tree of a 10,000-line script costs more
   * in garbage collection than the reading itself.
   */
  private async runItems(items: { nextItem(): Item | undefined }): Promise<number> {
    for (let it = items.nextItem(); it; it = items.nextItem()) {
      if (it.kind === 'directive') {
        this.directive(it.text, it.line);
        continue;
      }
      const running = this.andOr(it.list);
      if (running) await running;
    }
    return this.status;
  }

  private directive(text: string, line: number): void {
    const [verb, ...rest] = text.split(/\s+/);
    if (verb === 'host' && rest.length === 1) {
      const name = rest[0]!;
      const lab = this.lab();
      if (!findHost(lab, name)) this.fatal(line, noHostMessage(lab, name), 2);
      this.host = name;
      return;
    }
    this.fatal(line, `unknown directive \`# iptables-sim: ${text}'; directives: \`# iptables-sim: host NAME' (the lab host the following lines act on)`, 2);
  }

  private fatal(line: number, message: string, status: number): never {
    if (this.o.report) this.o.report({ file: this.file, line, status, message, fields: [] });
    else this.o.io.err(`${this.file}:${line}: ${message}\n`);
    this.failures.push({ file: this.file, line, status, message });
    throw new ScriptExit(status);
  }

  private lab(): Lab {
    return this.o.session ? this.o.session.lab : readLab(this.o.statePath);
  }

  /**
   * An AND-OR list from its pipeline `from` on (0: the first). Commands run synchronously as long
   * as they can; while one is running (an emulated tool, a read), the rest of the list waits on
   * the promise returned.
   */
  private andOr(list: AndOr, from = 0): Promise<void> | undefined {
    const { rest } = list;
    for (let i = from; i <= rest.length; i++) {
      if (i > 0 && !this.o.dryRun) {
        const { op } = rest[i - 1]!;
        if ((op === '&&' && this.status !== 0) || (op === '||' && this.status === 0)) continue;
      }
      const pipeline = i === 0 ? list.first : rest[i - 1]!.pipeline;
      const running = this.pipeline(pipeline, i === rest.length && !pipeline.bang);
      if (running) return i === rest.length ? running : this.andOrAfter(running, list, i + 1);
    }
    return undefined;
  }

  /** the rest of an AND-OR list once a command of it is done (apart: a closure in andOr would cost every call a context) */
  private andOrAfter(running: Promise<void>, list: AndOr, from: number): Promise<void> {
    return running.then(() => this.andOr(list, from));
  }

  /** a pipeline from its stage `i` on, the stages before it done (see andOr) */
  private pipeline(p: Pipeline, counts: boolean, i = 0, done: Stage[] = []): Promise<void> | undefined {
    for (; i < p.cmds.length; i++) {
      const stage = this.simple(p.cmds[i]!, i ? done[i - 1]!.piped : '', i === p.cmds.length - 1 ? this.o.io : undefined);
      if (stage instanceof Promise) return this.pipelineAfter(stage, p, counts, i + 1, done);
      done.push(stage);
    }
    let culprit = done[done.length - 1]!;
    if (this.pipefail) culprit = [...done].reverse().find((r) => r.status !== 0) ?? culprit;
    let status = culprit.status;
    if (p.bang) status = status === 0 ? 1 : 0;
    this.status = status;
    const failing = counts && status !== 0;
    for (const r of done) if (r.stderr.length && !(failing && r === culprit)) this.o.io.err(r.stderr);
    if (failing) this.fail(culprit, status);
    return undefined;
  }

  /** the rest of a pipeline once its stage `next - 1` is done (see andOrAfter) */
  private pipelineAfter(running: Promise<Stage>, p: Pipeline, counts: boolean, next: number, done: Stage[]): Promise<void> {
    return running.then((stage) => {
      done.push(stage);
      return this.pipeline(p, counts, next, done);
    });
  }

  private fail(r: Stage, status: number): void {
    const text = r.stderr.length ? r.stderr : `${r.name}: exit status ${status}\n`;
    const f: Failure = { file: this.file, line: r.line, status, message: text.replace(/\n$/, '') };
    if (this.o.report) this.o.report({ ...f, fields: r.argv.map((text, i) => ({ text, word: r.from![i]! })) });
    else this.o.io.err(`${this.file}:${r.line}: ${text.endsWith('\n') ? text : text + '\n'}`);
    this.failures.push(f);
    if (!this.o.keepGoing && !this.errexitOff && !this.o.dryRun) throw new ScriptExit(status);
  }

  private assign(name: string, value: string): void {
    const v = this.vars.get(name);
    if (v?.readonly) throw new ExpansionError(`${name}: readonly variable`);
    this.setVar(name, { value, exported: v?.exported ?? false, readonly: false });
  }

  private setVar(name: string, v: Var): void {
    this.vars.set(name, v);
    this.exported = undefined;
  }

  private exported: NodeJS.ProcessEnv | undefined;
  private env(extra: readonly [string, string][] = NO_ASSIGNS): NodeJS.ProcessEnv {
    if (!this.exported) {
      this.exported = {};
      for (const [k, v] of this.vars) if (v.exported) this.exported[k] = v.value;
    }
    if (!extra.length) return this.exported;
    const env = { ...this.exported };
    for (const [k, v] of extra) env[k] = v;
    return env;
  }

  private resolvePath(p: string): string {
    return posix.resolve(this.cwd, p);
  }

  private stat(p: string): ReturnType<FileView['stat']> {
    const path = this.resolvePath(p);
    const mem = this.files.get(path);
    if (mem !== undefined) return { kind: 'file', executable: false, size: mem.length };
    if (isProcSys(path)) {
      const key = procSysKey(path) ?? '';
      const e = this.procEntry(key);
      if (e.kind === 'missing') return undefined;
      return { kind: e.kind === 'dir' ? 'dir' : 'file', executable: false, size: 0 };
    }
    const dir = posix.dirname(path);
    const base = posix.basename(path);
    if (TOOL_DIRS.includes(dir) && (EMULATED[base] !== undefined || NOTED[base] !== undefined)) return { kind: 'file', executable: true, size: 1 };
    try {
      const l = lstatSync(path);
      const s = l.isSymbolicLink() && existsSync(path) ? statSync(path) : l;
      return { kind: s.isDirectory() ? 'dir' : 'file', executable: (s.mode & 0o111) !== 0, size: s.size, symlink: l.isSymbolicLink() };
    } catch {
      return undefined;
    }
  }

  private async read(p: string): Promise<string | { error: string }> {
    const path = this.resolvePath(p);
    const mem = this.files.get(path);
    if (mem !== undefined) return mem;
    if (isProcSys(path)) {
      const key = procSysKey(path) ?? '';
      const e = this.procEntry(key);
      if (e.kind === 'missing') return { error: 'No such file or directory' };
      if (e.kind === 'dir') return { error: 'Is a directory' };
      if (e.kind === 'unmodelled') return { error: `iptables-sim does not model ${key} (it exists on Linux)` };
      let out = '';
      let err = '';
      const st = await this.tool('sysctl', ['-n', key], { stdin: '', out: (t) => (out += t), err: (t) => (err += t), env: this.env() }, 'host');
      return st === 0 ? out : { error: err.trim() || 'read error' };
    }
    try {
      return readFileSync(path, 'latin1');
    } catch (e) {
      return { error: strerror(e) };
    }
  }

  private procEntry(key: string): ProcEntry {
    const lab = this.lab();
    const host = lab.hosts[this.host ?? lab.defaultHost];
    if (!host) return { kind: 'missing' };
    return procEntry(host, key, this.knownSysctls());
  }

  private knownSysctls(): readonly string[] {
    return knownCache ?? [];
  }

  private simple(cmd: SimpleCommand, stdin: string, replayIo: Io | undefined): Stage | Promise<Stage> {
    const line = cmd.line;
    const argv: string[] = [];
    const from: Word[] | undefined = this.o.report ? [] : undefined;
    let assigns: readonly [string, string][] = NO_ASSIGNS;
    try {
      const { words } = cmd;
      for (let i = 0; i < words.length; i++) {
        this.expander.fields(words[i]!, argv);
        while (from && from.length < argv.length) from.push(words[i]!);
      }
      if (cmd.assigns.length) {
        const values: [string, string][] = [];
        for (const a of cmd.assigns) {
          const v = this.expander.string(a.value);
          values.push([a.name, a.append ? (this.vars.get(a.name)?.value ?? '') + v : v]);
        }
        assigns = values;
      }
    } catch (e) {
      if (e instanceof ExpansionError) this.fatal(line, e.message, 1);
      throw e;
    }
    this.commands++;
    const stage = new Stage(line, argv, from, stdin, replayIo, this.files);
    if (this.xtrace) {
      const shown = [...assigns.map(([k, v]) => `${k}=${quoteForTrace(v)}`), ...argv.map(quoteForTrace)];
      this.o.io.err(`+ ${shown.join(' ')}\n`);
    }
    return cmd.redirs.length ? this.redirect(cmd, stage, assigns) : this.execute(cmd, stage, assigns);
  }

  /** runs a command once its redirections are done (see andOr) */
  private execute(cmd: SimpleCommand, stage: Stage, assigns: readonly [string, string][]): Stage | Promise<Stage> {
    stage.env = this.env(assigns);
    const { argv } = stage;
    if (!argv.length) {
      if (!cmd.assigns.length) return stage;
      try {
        for (const [k, v] of assigns) this.assign(k, v);
      } catch (e) {
        if (e instanceof ExpansionError) {
          stage.stderr += `${e.message}\n`;
          stage.status = 1;
          stage.name = cmd.assigns[0]!.name;
          return stage;
        }
        throw e;
      }
      return stage;
    }
    const status = this.dispatch(argv, stage, cmd.line, assigns);
    return typeof status === 'number' ? this.ended(stage, status) : this.endedLater(stage, status);
  }

  /** ended() once a command's status comes (see andOrAfter) */
  private endedLater(stage: Stage, status: Promise<number>): Promise<Stage> {
    return status.then((st) => this.ended(stage, st));
  }

  /** a command's status, once what it wrote to /proc/sys is written (one sysctl write each) */
  private ended(stage: Stage, status: number): Stage | Promise<Stage> {
    stage.status = status;
    return stage.procSinks ? this.writeProc(stage, stage.procSinks) : stage;
  }

  private async writeProc(stage: Stage, sinks: Set<ProcSink>): Promise<Stage> {
    for (const s of sinks) {
      const st = await this.procWrite(s, stage.argv[0]!, stage.line, (t) => (stage.stderr += t));
      if (st !== 0) stage.status = st;
    }
    return stage;
  }

  /** a command's redirections, left to right, then the command unless one failed (the stage says why) */
  private async redirect(cmd: SimpleCommand, stage: Stage, assigns: readonly [string, string][]): Promise<Stage> {
    const line = cmd.line;
    for (const r of cmd.redirs) {
      const target = r.target ? this.expandTarget(r.target, line) : '';
      const fd = r.fd ?? (r.op.startsWith('<') ? 0 : 1);
      switch (r.op) {
        case '<<':
        case '<<-':
          stage.stdin = r.heredoc!.quoted ? r.heredoc!.body!.parts.map((p) => (p.k === 'lit' ? p.s : '')).join('') : this.expandTarget(r.heredoc!.body!, line);
          break;
        case '<<<':
          stage.stdin = target + '\n';
          break;
        case '<': {
          const c = await this.read(target);
          if (typeof c !== 'string') {
            stage.stderr += `${target}: ${c.error}\n`;
            stage.status = 1;
            stage.name ||= target;
            return stage;
          }
          stage.stdin = c;
          break;
        }
        case '<&':
          if (target === '-' || target === '0') stage.stdin = target === '-' ? '' : stage.stdin;
          else return this.unsupportedAt(`duplicating input from descriptor ${target}`, line);
          break;
        case '<>':
          return this.unsupportedAt('`<>\' redirections', line);
        case '>&':
        case '&>':
        case '&>>':
        case '>':
        case '>|':
        case '>>': {
          if (r.op === '>&' && /^[0-9]$/.test(target)) {
            const n = Number(target);
            if (n > 2) return this.unsupportedAt(`redirections to descriptor ${n}`, line);
            if (n !== 0 && (fd === 1 || fd === 2)) stage.setSink(fd, n === 1 ? stage.fd1 : stage.fd2);
            break;
          }
          if (r.op === '>&' && target === '-') {
            if (fd === 1 || fd === 2) stage.setSink(fd, { kind: 'null' });
            break;
          }
          const both = r.op === '&>' || r.op === '&>>' || r.op === '>&';
          const sink = this.openSink(target, r.op === '>>' || r.op === '&>>');
          if ('error' in sink) {
            stage.stderr += `${target}: ${sink.error}\n`;
            stage.status = 1;
            stage.name ||= target;
            return stage;
          }
          if (both) {
            stage.fd1 = sink;
            stage.fd2 = sink;
          } else if (fd === 1 || fd === 2) stage.setSink(fd, sink);
          break;
        }
      }
    }
    return this.execute(cmd, stage, assigns);
  }

  private unsupportedAt(what: string, line: number): never {
    const e = unsupported(what, line);
    this.fatal(line, e.message, e.status);
  }

  private expandTarget(w: Word, line: number): string {
    try {
      return this.expander.string(w);
    } catch (e) {
      if (e instanceof ExpansionError) this.fatal(line, e.message, 1);
      throw e;
    }
  }

  private openSink(target: string, append: boolean): Sink | { error: string } {
    if (target === '/dev/null') return { kind: 'null' };
    if (target === '/dev/stdout' || target === '/dev/fd/1') return { kind: 'out' };
    if (target === '/dev/stderr' || target === '/dev/fd/2') return { kind: 'err' };
    const path = this.resolvePath(target);
    if (isProcSys(path)) {
      const entry = this.procEntry(procSysKey(path) ?? '');
      if (entry.kind === 'missing') return { error: 'No such file or directory' };
      if (entry.kind === 'dir') return { error: 'Is a directory' };
      return { kind: 'proc', path, entry, text: '' };
    }
    if (path.startsWith('/proc/') || path.startsWith('/sys/') || path.startsWith('/dev/')) {
      return { error: `run does not write to ${path} (only /proc/sys is modelled)` };
    }
    if (!append || !this.files.has(path)) {
      const existing = append ? this.readRealQuietly(path) : '';
      this.files.set(path, existing);
    }
    return { kind: 'file', path, append };
  }

  private readRealQuietly(path: string): string {
    try {
      return readFileSync(path, 'latin1');
    } catch {
      return '';
    }
  }

  /** what `echo 1 > /proc/sys/...` does: one write of everything the command printed */
  private async procWrite(s: ProcSink, writer: string, line: number, err: (t: string) => void): Promise<number> {
    if (!s.text.length) return 0;
    if (this.o.dryRun) return 0;
    if (s.entry.kind === 'unmodelled') {
      this.note(`${s.entry.key} is a Linux parameter iptables-sim does not model; the write to ${s.path} had no effect`, line);
      return 0;
    }
    if (s.entry.kind !== 'modelled') return 0;
    let e = '';
    const st = await this.tool('sysctl', ['-q', '-w', `${s.entry.key}=${s.text}`], { stdin: '', out: () => undefined, err: (t) => (e += t), env: this.env() }, 'host');
    if (st === 0) return 0;
    // the kernel refused the value: the writing command reports EINVAL as bash's builtins do
    err(`${writer}: write error: Invalid argument\n`);
    return 1;
  }

  private dispatch(argv: string[], cx: CommandIo, line: number, assigns: readonly [string, string][]): number | Promise<number> {
    const cmd = argv[0]!;
    const args = argv.slice(1);
    const extra = this.o.extra && Object.prototype.hasOwnProperty.call(this.o.extra, cmd) ? this.o.extra[cmd] : undefined;
    if (extra) return extra(args, cx);
    if (SHELL_BUILTINS.has(cmd)) return this.builtin(cmd, args, cx, line, assigns);
    const base = baseName(cmd);
    if (cmd.includes('/') && (base === 'echo' || base === 'printf' || base === 'cat' || base === 'grep' || base === 'head' || base === 'tail' || base === 'wc' || base === 'true' || base === 'false' || base === 'test' || base === '[')) {
      // /bin/echo and friends: coreutils behaves like bash's builtins here
      if (base === 'echo') return this.o.dryRun ? 0 : echo(args, cx, false);
      return this.builtin(base, args, cx, line, assigns);
    }
    const tool = EMULATED[base];
    if (tool !== undefined) {
      if (this.o.dryRun) return this.dryTool(tool, args, cx);
      // (run under the name it was called by: iptables-nft-save prints its own name)
      return this.tool(base, args, cx, scopeOf(tool, args));
    }
    const noted = NOTED[base];
    if (noted !== undefined) {
      this.note(`\`${base}' accepted without effect: ${noted}`, line);
      return 0;
    }
    const refused = REFUSED[base];
    if (refused !== undefined) {
      cx.err(`${cmd}: ${refused}\n`);
      return 127;
    }
    if (cmd.includes('/') && !this.stat(cmd)) {
      cx.err(`${cmd}: No such file or directory\n`);
      return 127;
    }
    cx.err(`${cmd}: command not modelled by run (it replays iptables, iptables-save, iptables-restore, their ip6tables twins, sysctl, ip, conntrack, ipset, shell builtins, cat, grep, head, tail and wc -l; iptables-sim run --shell runs other programs with the real bash)\n`);
    return 127;
  }

  /**
   * runs an emulated tool through the CLI's entry point (runTool: main() without commander's
   * routing), which runScript and runLine have loaded
   */
  tool(name: string, args: string[], cx: CommandIo, scope: SnapshotScope): Promise<number> {
    const io = new ToolIo(cx, this.cwd, this.now, this.scriptFile);
    this.o.session?.prepare(this.host, scope);
    return mainModule!.runTool(name, args, io, { statePath: this.o.statePath, host: this.host, session: this.o.session });
  }

  /** --dry-run: iptables lines are parsed as iptables parses them; nothing runs */
  private async dryTool(tool: string, args: string[], cx: CommandIo): Promise<number> {
    if (tool === 'iptables' || tool === 'ip6tables') {
      const { parseIptables } = await import('../cli/commands/iptables.js');
      const { XtablesError, renderXtablesError } = await import('../errors.js');
      try {
        parseIptables(args, () => undefined, false, undefined, undefined, tool === 'ip6tables' ? 6 : 4);
      } catch (e) {
        if (e instanceof XtablesError) {
          cx.err(renderXtablesError(e, tool));
          return e.status;
        }
        return 0;
      }
    }
    if (tool === 'ip') {
      const { parseIp } = await import('../cli/commands/ip.js');
      const r = parseIp(args);
      if ('error' in r) {
        cx.err(r.error);
        return r.status;
      }
    }
    return 0;
  }

  private async builtin(cmd: string, args: string[], cx: CommandIo, line: number, assigns: readonly [string, string][]): Promise<number> {
    const dry = this.o.dryRun;
    switch (cmd) {
      case ':':
      case 'true':
        return 0;
      case 'false':
        return dry ? 0 : 1;
      case 'echo':
        return dry ? 0 : echo(args, cx, this.dash);
      case 'printf':
        return dry ? 0 : printf(args, cx);
      case 'test':
      case '[':
        return dry ? 0 : test(args, cx, this.fileView, cmd === '[');
      case 'cat':
        return dry ? 0 : cat(args, cx, this.fileView);
      case 'grep':
        return dry ? 0 : grep(args, cx, this.fileView);
      case 'head':
      case 'tail':
        return dry ? 0 : headTail(cmd, args, cx, this.fileView);
      case 'wc':
        return dry ? 0 : wc(args, cx);
      case 'exit': {
        if (dry) return 0;
        const n = args[0] === undefined ? this.status : Number(args[0]);
        if (!Number.isInteger(n)) {
          cx.err(`exit: ${args[0]}: numeric argument required\n`);
          throw new ScriptExit(2, true);
        }
        throw new ScriptExit(((n % 256) + 256) % 256, true);
      }
      case 'export':
      case 'readonly': {
        const flags = args.filter((a) => /^-[a-zA-Z]+$/.test(a));
        const names = args.filter((a) => !/^-[a-zA-Z]+$/.test(a));
        if (!names.length || flags.includes('-p')) {
          for (const [k, v] of [...this.vars].sort(([a], [b]) => (a < b ? -1 : 1))) {
            if (cmd === 'export' ? v.exported : v.readonly) cx.out(`declare -${cmd === 'export' ? 'x' : 'r'} ${k}="${v.value.replace(/(["\\$`])/g, '\\$1')}"\n`);
          }
          return 0;
        }
        let status = 0;
        for (const a of names) {
          const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:=([\s\S]*))?$/.exec(a);
          if (!m) {
            cx.err(`${cmd}: \`${a}': not a valid identifier\n`);
            status = 1;
            continue;
          }
          const cur = this.vars.get(m[1]!);
          if (m[2] !== undefined && cur?.readonly) {
            cx.err(`${m[1]}: readonly variable\n`);
            status = 1;
            continue;
          }
          const v: Var = { value: m[2] ?? cur?.value ?? '', exported: cur?.exported ?? false, readonly: cur?.readonly ?? false };
          if (cmd === 'export') v.exported = !flags.includes('-n');
          else v.readonly = true;
          if (m[2] === undefined && !cur && cmd === 'export') {
            // `export NAME` of an unset variable marks it; it has no value yet
            this.setVar(m[1]!, { ...v, value: '' });
            continue;
          }
          this.setVar(m[1]!, v);
        }
        return status;
      }
      case 'unset': {
        let status = 0;
        for (const a of args) {
          if (a === '-v') continue;
          if (a === '-f') return 0;
          if (this.vars.get(a)?.readonly) {
            cx.err(`unset: ${a}: cannot unset: readonly variable\n`);
            status = 1;
            continue;
          }
          this.exported = undefined;
          this.vars.delete(a);
        }
        return status;
      }
      case 'set':
        return this.set(args, cx);
      case 'shift': {
        const n = args[0] === undefined ? 1 : Number(args[0]);
        if (!Number.isInteger(n) || n < 0) {
          cx.err(`shift: ${args[0]}: numeric argument required\n`);
          return 1;
        }
        if (n > this.positional.length) return 1;
        this.positional = this.positional.slice(n);
        return 0;
      }
      case 'cd': {
        const dir = args[0] ?? this.vars.get('HOME')?.value ?? '/';
        const path = this.resolvePath(dir);
        const st = this.stat(path);
        if (!st) {
          cx.err(`cd: ${dir}: No such file or directory\n`);
          return 1;
        }
        if (st.kind !== 'dir') {
          cx.err(`cd: ${dir}: Not a directory\n`);
          return 1;
        }
        this.cwd = path;
        this.assign('PWD', path);
        return 0;
      }
      case 'pwd':
        if (!dry) cx.out(this.cwd + '\n');
        return 0;
      case 'source':
      case '.':
        return this.source(args, cx);
      case 'local':
        cx.err('local: can only be used in a function\n');
        return 1;
      case 'return':
        if (this.sourceDepth > 0) throw new SourceReturn(args[0] === undefined ? this.status : Number(args[0]));
        cx.err("return: can only `return' from a function or sourced script\n");
        return 1;
      case 'umask':
      case 'wait':
        return 0;
      case 'which':
      case 'type':
        return this.which(cmd, args, cx);
      case 'command':
        if (args[0] === '-v' || args[0] === '-V') return this.which(args[0] === '-v' ? 'which' : 'type', args.slice(1), cx, true);
        if (!args.length) return 0;
        return this.dispatch(args, cx, line, assigns);
      case 'sudo': {
        let i = 0;
        while (i < args.length && /^-[EHn]+$/.test(args[i]!)) i++;
        if (args[i] === '--') i++;
        if (i < args.length && args[i]!.startsWith('-')) {
          cx.err(`sudo: option ${args[i]} is not modelled by run\n`);
          return 1;
        }
        if (i >= args.length) {
          cx.err('usage: sudo command\n');
          return 1;
        }
        return this.dispatch(args.slice(i), cx, line, assigns);
      }
      default:
        return this.unsupportedAt(`the \`${cmd}' builtin`, line);
    }
  }

  private sourceDepth = 0;

  private async source(args: string[], cx: CommandIo): Promise<number> {
    if (!args.length) {
      cx.err('.: filename argument required\n.: usage: . filename [arguments]\n');
      return 2;
    }
    const content = await this.read(args[0]!);
    if (typeof content !== 'string') {
      cx.err(`${args[0]}: ${content.error}\n`);
      return 1;
    }
    const file = this.file;
    const positional = this.positional;
    if (args.length > 1) this.positional = args.slice(1);
    this.file = args[0]!;
    this.sourceDepth++;
    try {
      return await this.runItems(new Parser(content));
    } catch (e) {
      if (e instanceof SourceReturn) return e.status;
      if (e instanceof ScriptError) throw new SourcedScriptError(args[0]!, e);
      throw e;
    } finally {
      this.sourceDepth--;
      this.file = file;
      if (args.length > 1) this.positional = positional;
    }
  }

  private which(cmd: string, args: string[], cx: CommandIo, commandV = false): number {
    let status = 0;
    for (const a of args) {
      const base = baseName(a);
      const known = EMULATED[base] !== undefined || NOTED[base] !== undefined;
      if (!a.includes('/') && (SHELL_BUILTINS.has(a) && cmd !== 'which')) {
        cx.out(commandV ? `${a}\n` : `${a} is a shell builtin\n`);
        continue;
      }
      if (known && (!a.includes('/') || this.stat(a)?.executable)) {
        const path = a.includes('/') ? a : toolPath(base);
        cx.out(cmd === 'which' || commandV ? `${path}\n` : `${a} is ${path}\n`);
        continue;
      }
      if (cmd === 'type') cx.err(`type: ${a}: not found\n`);
      status = 1;
    }
    return status;
  }

  private set(args: string[], cx: CommandIo): number {
    if (!args.length) {
      for (const [k, v] of [...this.vars].sort(([a], [b]) => (a < b ? -1 : 1))) cx.out(`${k}=${v.value}\n`);
      return 0;
    }
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === '--' || (a === '-' && i === 0)) {
        this.positional = args.slice(i + 1);
        return 0;
      }
      if (a === '-o' || a === '+o') {
        const opt = args[++i];
        const on = a === '-o';
        switch (opt) {
          case 'errexit':
            this.errexitOff = !on;
            break;
          case 'nounset':
            this.nounset = on;
            break;
          case 'xtrace':
            this.xtrace = on;
            break;
          case 'pipefail':
            this.pipefail = on;
            break;
          case 'noglob':
          case 'verbose':
          case 'noclobber':
            break;
          default:
            cx.err(`set: ${opt ?? ''}: invalid option name\n`);
            return 2;
        }
        continue;
      }
      if (/^[-+][a-zA-Z]+$/.test(a)) {
        const on = a[0] === '-';
        for (const f of a.slice(1)) {
          if (f === 'e') this.errexitOff = !on;
          else if (f === 'u') this.nounset = on;
          else if (f === 'x') this.xtrace = on;
          else if (f === 'f' || f === 'v' || f === 'C' || f === 'h' || f === 'B') continue;
          else {
            cx.err(`set: ${a[0]}${f}: invalid option\n`);
            return 2;
          }
        }
        continue;
      }
      this.positional = args.slice(i);
      return 0;
    }
    return 0;
  }
}

/** a long option starting so is an iptables command other than --append (--delete-chain, --list-rules, ...) */
const OTHER_COMMANDS = /^--(delete|check|insert|replace|list|flush|zero|new-chain|rename-chain|policy|help)/;

/** `iptables [-t TABLE] -A CHAIN ...` in its plain spellings: the table and chain an append goes to */
function appendTarget(args: string[]): { append: TableName; chain: string } | undefined {
  let table = 'filter';
  let chain: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.charCodeAt(0) !== 45 /* - */) continue;
    if (a === '-t' || a === '--table') table = args[++i] ?? '';
    else if (a.startsWith('--table=')) table = a.slice(8);
    else if (a.length > 2 && a[1] === 't') table = a.slice(2);
    else if (a === '-A' || a === '--append') {
      if (chain !== undefined) return undefined;
      chain = args[++i];
      if (chain === undefined) return undefined;
    } else if (a[1] !== '-' && a.length > 2) return undefined;
    else if (a.length === 2 && 'CDIRLSFZNXEPh'.includes(a[1]!)) return undefined;
    else if (a[1] === '-' && OTHER_COMMANDS.test(a)) return undefined;
  }
  return chain !== undefined && isTableName(table) ? { append: table, chain } : undefined;
}


/** how much of the lab a tool can change (what the session must be able to undo) */
export function scopeOf(tool: string, args: string[]): SnapshotScope {
  if (tool === 'iptables') {
    return appendTarget(args) ?? 'tables';
  }
  if (tool === 'iptables-restore' || tool === 'iptables-save') return 'tables';
  // (ip6tables' tables are part of the host's snapshot)
  if (tool === 'sysctl' || tool === 'ip' || tool === 'conntrack' || tool.startsWith('ip6tables')) return 'host';
  return 'lab';
}

function summarizeLines(lines: number[]): string {
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    let j = i;
    while (j + 1 < lines.length && lines[j + 1] === lines[j]! + 1) j++;
    out.push(j > i ? `${lines[i]}-${lines[j]}` : String(lines[i]));
    i = j + 1;
  }
  return out.join(', ');
}

let knownCache: readonly string[] | undefined;
/** the CLI's entry module, imported once (a dynamic import per command costs a module-map lookup) */
let mainModule: typeof import('../cli/dispatch.js') | undefined;

/** loads the CLI's entry module and the list of Linux's sysctl keys (a large generated module) before a replay needs them */
async function loadModules(): Promise<void> {
  mainModule ??= await import('../cli/dispatch.js');
  knownCache ??= (await import('../net/sysctl-known.js')).KNOWN_SYSCTLS;
}
