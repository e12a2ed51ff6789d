/**
 * What running one emulated tool takes, shared by both bundles: the global options commander would
 * take in front of it, its context, and the one place errors become messages and exit statuses.
 * It imports no command: ./dispatch.ts (every tool, the full bundle) and ./entry-iptables.ts (the
 * iptables bundle, which holds only what the iptables tools typed one by one need) both run from
 * here.
 */
import { SimError } from '../errors.js';
import { defaultStatePath } from '../state/paths.js';
import type { CliContext, LabSession } from './context.js';
import type { Io } from './io.js';

/** one tool's code: its arguments in, its exit status out */
export type ToolRun = (ctx: CliContext, args: string[]) => Promise<number>;

export type ToolOptions = { statePath: string; host?: string; session?: LabSession; json?: boolean; color?: boolean };

export const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/**
 * The context of one emulated tool call. A class (its getter on the prototype): `run` makes one
 * for every line of a script, and an object literal with a getter is built the slow way.
 */
class ToolContext implements CliContext {
  readonly statePath: string;
  readonly host: string | undefined;
  readonly json: boolean;
  readonly session: LabSession | undefined;
  constructor(
    readonly io: Io,
    private readonly o: ToolOptions,
  ) {
    this.statePath = o.statePath;
    this.host = o.host ?? (io.env.IPTABLES_SIM_HOST || undefined);
    this.json = !!o.json;
    this.session = o.session;
  }

  /** asked only by commands that colour their output (finding out whether stdout is a terminal costs) */
  get color(): boolean {
    return this.o.color !== false && !this.io.env.NO_COLOR && this.io.isTTY;
  }
}

export function reportError(e: unknown, io: Io): number {
  // commander has printed its own message (CommanderError, not imported here: see ./dispatch.ts);
  // a usage error is a parameter problem, exit 2 as the tools' own (help and --version: 0)
  if (e instanceof Error && (e as { code?: unknown }).code?.toString().startsWith('commander.')) {
    const code = (e as unknown as { exitCode: number }).exitCode;
    return code === 0 ? 0 : 2;
  }
  if (e instanceof SimError) {
    io.err(`iptables-sim: ${e.message}\n`);
    return e.status;
  }
  const err = e as Error;
  io.err(`iptables-sim: internal error: ${err?.stack ?? String(e)}\n`);
  return 70;
}

/** runs one tool call in the context `o` gives; an error becomes its message and exit status */
export async function runInContext(run: ToolRun, args: string[], io: Io, o: ToolOptions): Promise<number> {
  const ctx = new ToolContext(io, o);
  try {
    return await run(ctx, args);
  } catch (e) {
    return reportError(e, io);
  }
}

/** the global options commander would take in front of a command, and where the command is; undefined: left to commander */
export function globalOptions(argv: readonly string[]): { at: number; state?: string; host?: string; json: boolean; color: boolean } | undefined {
  let state: string | undefined;
  let host: string | undefined;
  let json = false;
  let color = true;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    const m = /^--(state|host)(?:=(.*))?$/s.exec(a);
    if (m) {
      const v = m[2] ?? argv[++i];
      // (an empty --state is refused by main())
      if (v === undefined || (m[2] === undefined && v.startsWith('-')) || (m[1] === 'state' && v === '')) return undefined;
      if (m[1] === 'state') state = v;
      else host = v;
    } else if (a === '--json') json = true;
    else if (a === '--no-color') color = false;
    else break;
  }
  return { at: i, state, host, json, color };
}

export type DirectTool = { tool: string; args: string[]; statePath: string; host?: string; json: boolean; color: boolean };

/**
 * The global options commander would take, then a tool of `tools`; undefined for anything else
 * (another command, --help, --version, an option commander refuses: commander handles those).
 */
export function directCommand(argv: readonly string[], env: NodeJS.ProcessEnv, tools: object): DirectTool | undefined {
  const g = globalOptions(argv);
  if (!g) return undefined;
  const tool = argv[g.at];
  if (tool === undefined || !hasOwn(tools, tool)) return undefined;
  return { tool, args: argv.slice(g.at + 1), statePath: g.state ?? defaultStatePath(env), host: g.host, json: g.json, color: g.color };
}

/**
 * The names of every tool the CLI runs with their arguments untouched (./dispatch.ts's TOOLS, held
 * to this list by test/launcher.test.ts): the names argv0 dispatch answers to. Here, so that the
 * small bundles, which run a few of them, read a command line as the full bundle does.
 */
export const TOOL_NAMES: ReadonlySet<string> = new Set([
  ...['iptables', 'ip6tables'].flatMap((t) => [t, `${t}-save`, `${t}-restore`, `${t}-nft`, `${t}-nft-save`, `${t}-nft-restore`]),
  'xtables-nft-multi',
  'sysctl',
  'conntrack',
  'ip',
  'ipset',
  'nfacct',
]);

/**
 * The process's command line as the CLI reads it: argv0 dispatch (a symlink called `iptables`, or
 * IPTABLES_SIM_ARGV0 as the shims set it, runs `iptables`) for a name of TOOL_NAMES
 */
export function processArgv(): string[] {
  const args = process.argv.slice(2);
  const invokedAs = (process.env.IPTABLES_SIM_ARGV0 || process.argv[1] || '').split('/').pop() ?? '';
  return TOOL_NAMES.has(invokedAs) ? [invokedAs, ...args] : args;
}
