/**
 * `iptables ARGS...`: parse the command line exactly as iptables does, then run it on the host's
 * tables; read-only commands read the lab, the others change it under the lock.
 */
import { Exit, PROGRAM_VERSION, XtablesError, renderXtablesError } from '../../errors.js';
import { parseCommandLine } from '../../../grammar/parser.js';
import { CMD, CommandParse, EarlyExit, XtablesSession, type ParsedCommand } from '../../ruleset/command-parse.js';
import { execute, KernelRefusal, NftError } from '../../ruleset/execute.js';
import type { Tables } from '../../ruleset/tables.js';
import type { TextOut } from '../../output/listing.js';
import type { Family } from '../../extensions/registry.js';
import type { Host } from '../../net/lab.js';
import { findIpset } from '../../net/ipset.js';
import { earlyExitText } from '../iptables-help.js';
import { hostOf, readOnly, readWrite, type CliContext } from '../context.js';

/** Parses argv; throws XtablesError or EarlyExit. Warnings go to `warn` as iptables prints them. */
export function parseIptables(argv: readonly string[], warn: (t: string) => void, restore = false, table?: string, session?: XtablesSession, family?: Family): ParsedCommand {
  const sink = new CommandParse({ warn, restore, table, session, family });
  parseCommandLine(argv, sink);
  return sink.finish();
}

const READ_ONLY = new Set<number>([CMD.LIST, CMD.LIST_RULES, CMD.CHECK]);

export function nftErrorText(prog: string, e: NftError): string {
  return `${prog}: ${e.message}.${e.einval ? " Run `dmesg' for more information." : ''}\n`;
}

/** " RULE_APPEND failed (Invalid argument): rule in chain X" as iptables (or, with a line, iptables-restore) prints it */
export function refusalText(prog: string, e: KernelRefusal, line?: number): string {
  const head = line === undefined ? `${prog} v${PROGRAM_VERSION}:  ` : `${prog} v${PROGRAM_VERSION}: \nline ${line}: `;
  return `${head}${e.message}\n${e.why ? `iptables-sim: ${e.why}\n` : ''}`;
}

/** The host's tables of a family: ip6tables' are made on first use. */
export function familyTables(host: Host, family: Family): Tables {
  return family === 6 ? (host.tables6 ??= {}) : host.tables;
}

export async function iptablesCommand(ctx: CliContext, argv: string[], prog = 'iptables', family: Family = 4): Promise<number> {
  const { io } = ctx;
  let cmd: ParsedCommand;
  try {
    const session = new XtablesSession(family);
    // a set match asks the kernel for the host's set while the line is parsed
    session.ipset = (name) => readOnly(ctx, (lab) => findIpset(hostOf(lab, ctx.host)[1], name));
    cmd = parseIptables(argv, (t) => io.err(t), false, undefined, session, family);
  } catch (e) {
    if (e instanceof EarlyExit) {
      io.out(earlyExitText(e, prog));
      return 0;
    }
    if (e instanceof XtablesError) {
      io.err(renderXtablesError(e, prog));
      return e.status;
    }
    throw e;
  }
  try {
    let out: TextOut;
    if (READ_ONLY.has(cmd.command)) {
      out = readOnly(ctx, (lab) => execute(familyTables(hostOf(lab, ctx.host)[1], family), cmd));
    } else {
      out = await readWrite(ctx, (lab) => {
        const host = hostOf(lab, ctx.host)[1];
        const otherTables = family === 6 ? host.tables : host.tables6;
        return { save: true, value: execute(familyTables(host, family), { ...cmd, kernel: { nfacct: host.nfacct ?? [], otherTables } }) };
      });
    }
    // (as bytes where the output takes them: a listing of a big table is made as bytes)
    if (io.outBytes) io.outBytes(out.bytes());
    else io.out(out.text());
    return 0;
  } catch (e) {
    if (e instanceof NftError) {
      io.err(nftErrorText(prog, e));
      return Exit.OTHER_PROBLEM;
    }
    if (e instanceof KernelRefusal) {
      io.err(refusalText(prog, e));
      return Exit.RESOURCE_PROBLEM;
    }
    if (e instanceof XtablesError) {
      io.err(renderXtablesError(e, prog));
      return e.status;
    }
    throw e;
  }
}
