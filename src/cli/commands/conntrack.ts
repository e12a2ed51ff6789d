/**
 * `conntrack` (conntrack-tools 1.4.7) over a host's connection tracking table: -L (list), -C
 * (count), -V and -h here, the commands that change the table (-I -A -U -D -F) and -G in
 * ./conntrack-change.ts, the command line and the filters in ./conntrack-args.ts; and -R FILE
 * (--load-file), which reads a file of -I, -A, -U, -D and -F lines (`-o save` writes such lines),
 * checks them all, then runs them in order without the counts at the end, stopping at the first
 * that fails (the ones before it stay done).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Host } from '../../net/lab.js';
import { hostOf, readOnly, readWrite, type CliContext } from '../context.js';
import type { Io } from '../io.js';
import { entryLine, Exit, fail, HELP, liveEntries, parse, selects, VERSION, type Parsed } from './conntrack-args.js';
import { createIn, deleteIn, flushIn, getCommand, updateIn } from './conntrack-change.js';
import { splitRestoreLine } from './restore.js';

/** what the stats line at the end says each command did */
const DONE: Record<string, string> = { I: 'created', A: 'added', U: 'updated', D: 'deleted' };

/** one command that changes the table; the count of entries it made, updated or deleted (-F: none) */
function change(host: Host, now: number, p: Parsed, io: Io): { count: number; touched: boolean } {
  switch (p.command) {
    case 'I':
    case 'A': {
      const count = createIn(host, now, p);
      return { count, touched: count > 0 };
    }
    case 'U':
      return updateIn(host, now, p, io);
    case 'D': {
      const count = deleteIn(host, now, p.filter, io);
      return { count, touched: count > 0 };
    }
    default:
      flushIn(host, p.filter, io);
      return { count: 0, touched: p.filter.family !== 6 };
  }
}

/** -R FILE: every line parsed (and refused) first, then run in one change of the lab */
async function loadFile(ctx: CliContext, file: string): Promise<number> {
  let text: string;
  try {
    text = file === '-' ? await ctx.io.readStdin() : (ctx.io.scriptFile?.(file) ?? readFileSync(resolve(ctx.io.cwd, file), 'latin1'));
  } catch {
    fail(`Failed to open file ${file} for reading`);
  }
  const lines: Parsed[] = [];
  for (const raw of text.split('\n')) {
    // leading blanks skipped; an empty line or a comment is passed over
    const line = raw.replace(/^[ \t]+/, '');
    if (line === '' || line[0] === '#') continue;
    const argv: string[] = [];
    try {
      splitRestoreLine(line, argv);
    } catch (e) {
      fail((e as Error).message.replace(/^.*?: /, ''));
    }
    const p = parse(argv);
    if (p === 'help' || p === 'version') fail(`Cannot use command \`${p === 'help' ? '-h' : '-V'}' with --load-file`);
    lines.push(p);
  }
  for (const p of lines) if (!'IAUDF'.includes(p.command)) fail(`Cannot use command \`-${p.command}' with --load-file`);
  // conntrack-tools 1.4.7 keeps one current template, the last line's, and -U takes the mark from it
  const last = lines.at(-1)?.filter.tmplMark;
  for (const p of lines) if (p.command === 'U' && p.filter.mark) p.filter.setMark = last;
  const failure = await readWrite(ctx, (lab) => {
    const host = hostOf(lab, ctx.host)[1];
    const now = lab.clock ?? 0;
    let touched = false;
    for (const p of lines) {
      for (const w of p.warnings) ctx.io.err(w);
      try {
        touched = change(host, now, p, ctx.io).touched || touched;
      } catch (e) {
        if (!(e instanceof Exit)) throw e;
        // the lines before the one that failed stay done, as they do in the kernel
        return { save: touched, value: e };
      }
    }
    return { save: touched, value: undefined };
  });
  if (!failure) return 0;
  ctx.io.err(failure.text);
  return failure.status;
}

async function run(ctx: CliContext, argv: string[]): Promise<number> {
  if (argv.length >= 2 && (argv[0] === '-R' || argv[0] === '--load-file')) return loadFile(ctx, argv[1]!);
  const p = parse(argv);
  if (p === 'help') {
    ctx.io.out(HELP);
    return 0;
  }
  if (p === 'version') {
    ctx.io.out(`${VERSION}\n`);
    return 0;
  }
  for (const w of p.warnings) ctx.io.err(w);
  const { command, filter } = p;
  if (command === 'G') return getCommand(ctx, p);
  if (command === 'L' || command === 'C') {
    return readOnly(ctx, (lab) => {
      const now = lab.clock ?? 0;
      const live = liveEntries(hostOf(lab, ctx.host)[1].conntrack, now);
      if (command === 'C') {
        ctx.io.out(`${live.length}\n`);
        return 0;
      }
      const shown = live.filter((e) => selects(filter, e));
      for (const e of shown) ctx.io.out(entryLine(e, now, filter, 1) + '\n');
      ctx.io.err(`${VERSION}: ${shown.length} flow entries have been shown.\n`);
      return 0;
    });
  }
  const count = await readWrite(ctx, (lab) => {
    const { count, touched } = change(hostOf(lab, ctx.host)[1], lab.clock ?? 0, p, ctx.io);
    return { save: touched, value: count };
  });
  if (command === 'F') return 0;
  ctx.io.err(`${VERSION}: ${count} flow entries have been ${DONE[command]}.\n`);
  // (-A succeeds when the entry was there already)
  return count > 0 || command === 'A' ? 0 : 1;
}

export async function conntrackCommand(ctx: CliContext, argv: string[]): Promise<number> {
  try {
    return await run(ctx, argv);
  } catch (e) {
    if (!(e instanceof Exit)) throw e;
    ctx.io.err(e.text);
    return e.status;
  }
}
