/**
 * `shell`: a prompt that feels like a root shell on a host of the lab (`router# `). It takes the
 * lines `run` takes (same reader, same interpreter, every tool through the CLI's entry point),
 * each command reading and writing the lab file as a separate invocation would, so another
 * terminal sees every change at once. On top: `host NAME` switches hosts (the prompt follows),
 * `trace ...` and `lab ...` run inline, `help` lists what is there. Errors point at the offending
 * token with a caret. History is kept next to the lab file; Tab completes from the grammar.
 */
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface, type Interface as Readline } from 'node:readline';
import { ScriptError } from '../../script/errors.js';
import { complete } from '../../script/complete.js';
import { Replay, type FailureReport } from '../../script/interpreter.js';
import { parseScript } from '../../script/parser.js';
import { readLab } from '../../state/store.js';
import type { CliContext } from '../context.js';
import { findHost, noHostMessage } from '../../net/lab.js';

const HELP = `Lines are shell commands, as in a script for \`iptables-sim run\`:
  iptables ..., iptables-save, iptables-restore, sysctl ..., ip addr|route|link ..., conntrack ...
  variables, quotes, pipes (echo ... | iptables-restore), here-documents, &&, ||
Shell commands:
  host [NAME]     show the lab's hosts, or act on another one (the prompt names it)
  trace ...       trace a packet or a connection (see iptables-sim trace --help)
  lab [show]      the lab's hosts, interfaces, routes and sysctls
  help            this text
  exit            leave (also Ctrl-D)
Tab completes commands, options, chains, targets, matches, interfaces and hosts.
`;

/** Where an error points: the token it quotes, found among the command's words. */
export function caretFor(report: FailureReport): { col: number; width: number } | undefined {
  const quoted = [...report.message.matchAll(/[`"']([^`"'\n]+)['"]/g)].map((m) => m[1]!);
  for (const q of quoted) {
    const hit = report.fields.find((f) => f.text === q) ?? report.fields.find((f) => q.length > 1 && f.text.includes(q));
    if (hit) return { col: hit.word.col, width: Math.max(1, hit.word.end - hit.word.start) };
  }
  return undefined;
}

export interface LineResult {
  /** the input so far is incomplete (open quote, here-document, trailing && or \\) */
  more: boolean;
  exit: boolean;
  status: number;
}

/** The prompt's logic without the terminal: tests drive it line by line. */
export class ShellSession {
  private pending = '';
  readonly replay: Replay;
  status = 0;
  /** the line being run (for carets) */
  private current = '';

  constructor(private readonly ctx: CliContext) {
    const { io } = ctx;
    this.replay = new Replay({
      io,
      statePath: ctx.statePath,
      host: ctx.host,
      keepGoing: true,
      report: (r) => this.report(r),
      extra: {
        host: async (args, cx) => this.hostCommand(args, cx),
        trace: async (args, cx) => this.replay.tool('trace', args, cx, 'lab'),
        lab: async (args, cx) => this.replay.tool('lab', args.length ? args : ['show'], cx, 'lab'),
        help: async (_args, cx) => {
          cx.out(HELP);
          return 0;
        },
        quit: async () => {
          throw new QuitSignal();
        },
      },
    });
  }

  get host(): string {
    return this.replay.currentHost ?? this.lab().defaultHost;
  }

  prompt(): string {
    return this.pending ? '> ' : `${this.host}# `;
  }

  private lab() {
    return readLab(this.ctx.statePath);
  }

  private hostCommand(args: string[], cx: { out(t: string): void; err(t: string): void }): number {
    const lab = this.lab();
    if (!args.length) {
      for (const h of Object.keys(lab.hosts)) cx.out(`${h === this.host ? '*' : ' '} ${h}${h === lab.defaultHost ? ' (default)' : ''}\n`);
      return 0;
    }
    if (args.length > 1) {
      cx.err('host: usage: host [NAME]\n');
      return 2;
    }
    if (!findHost(lab, args[0]!)) {
      cx.err(`host: ${noHostMessage(lab, args[0]!)}\n`);
      return 1;
    }
    this.replay.currentHost = args[0];
    return 0;
  }

  private report(r: FailureReport): void {
    const { io } = this.ctx;
    const caret = caretFor(r);
    const lines = this.current.split('\n');
    const src = lines[Math.min(lines.length, Math.max(1, r.line)) - 1] ?? '';
    if (caret && src) io.err(`${src}\n${' '.repeat(caret.col)}${'^'.repeat(caret.width)}\n`);
    io.err(r.message.endsWith('\n') ? r.message : r.message + '\n');
  }

  /** names of the lab's hosts and the current host, for completion */
  completionData() {
    let lab;
    try {
      lab = this.lab();
    } catch {
      return { hosts: [], host: undefined };
    }
    return { hosts: Object.keys(lab.hosts), host: lab.hosts[this.host] };
  }

  complete(line: string): [string[], string] {
    return complete(line, this.completionData());
  }

  /** One line of input. */
  async line(text: string): Promise<LineResult> {
    const { io } = this.ctx;
    const src = this.pending ? `${this.pending}\n${text}` : text;
    let items;
    try {
      items = parseScript(src + '\n');
    } catch (e) {
      if (e instanceof ScriptError) {
        if ((e as ScriptError & { incomplete?: boolean }).incomplete || /unexpected token `EOF'|near unexpected token `newline'$/.test(e.message) && /(&&|\|\||\|)\s*$/.test(src)) {
          this.pending = src;
          return { more: true, exit: false, status: this.status };
        }
        this.pending = '';
        const lines = src.split('\n');
        const l = lines[Math.min(lines.length, e.line) - 1] ?? '';
        io.err(`${l}\n${' '.repeat(e.col)}${'^'.repeat(e.width)}\n${e.message}\n`);
        this.status = e.status;
        return { more: false, exit: false, status: e.status };
      }
      throw e;
    }
    if (/\\$/.test(src)) {
      this.pending = src.slice(0, -1);
      return { more: true, exit: false, status: this.status };
    }
    this.pending = '';
    this.current = src;
    try {
      const r = await this.replay.runLine(items, '<shell>');
      this.status = r.status;
      return { more: false, exit: r.exit, status: r.status };
    } catch (e) {
      if (e instanceof QuitSignal) return { more: false, exit: true, status: this.status };
      throw e;
    }
  }

  /** Ctrl-C: drop a half-typed command */
  cancel(): void {
    this.pending = '';
  }
}

class QuitSignal {}

/** next to the lab it belongs to */
function historyFile(ctx: CliContext): string {
  return `${ctx.statePath}.history`;
}

export async function shellCommand(ctx: CliContext): Promise<number> {
  const session = new ShellSession(ctx);
  const hist = historyFile(ctx);
  let history: string[] = [];
  try {
    history = readFileSync(hist, 'utf8').split('\n').filter((l) => l.length).reverse().slice(0, 1000);
  } catch {
    /* no history yet */
  }
  const rl: Readline = createInterface({
    input: process.stdin,
    output: process.stdout,
    terminal: !!process.stdin.isTTY,
    history,
    historySize: 1000,
    removeHistoryDuplicates: true,
    completer: (line: string) => session.complete(line),
  });
  const save = (line: string): void => {
    if (!line.trim()) return;
    try {
      mkdirSync(dirname(hist), { recursive: true });
      appendFileSync(hist, line.replace(/\n/g, ' ') + '\n');
    } catch {
      /* history is a convenience */
    }
  };
  // like bash, a prompt only for a person at a terminal; piped lines just run
  const interactive = !!process.stdin.isTTY;
  const prompt = (): void => {
    if (!interactive) return;
    rl.setPrompt(session.prompt());
    rl.prompt();
  };
  if (interactive) ctx.io.out(`iptables-sim shell on the lab ${ctx.statePath}; \`help' lists what it takes, Ctrl-D leaves.\n`);
  prompt();
  return new Promise<number>((resolvePromise) => {
    let busy = Promise.resolve();
    let closed = false;
    rl.on('SIGINT', () => {
      session.cancel();
      rl.write('^C\n');
      prompt();
    });
    rl.on('line', (line) => {
      rl.pause();
      busy = busy.then(async () => {
        save(line);
        const r = await session.line(line);
        if (r.exit) {
          closed = true;
          rl.close();
          return;
        }
        rl.resume();
        prompt();
      });
    });
    rl.on('close', () => {
      void busy.then(() => {
        if (!closed && process.stdin.isTTY) ctx.io.out('\n');
        resolvePromise(session.status);
      });
    });
  });
}
