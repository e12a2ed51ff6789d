/**
 * `conntrack` (conntrack-tools 1.4.7) over a host's connection tracking table: -L (list), -D
 * (delete), -C (count), -F (flush), -V and -h here; -G (get), -I and -A (create), -U (update) in
 * ./conntrack-change.ts; the command line and the filters in ./conntrack-args.ts.
 */
import { hostOf, readOnly, readWrite, type CliContext } from '../context.js';
import { conntrackLine, Exit, HELP, liveEntries, parse, selects, VERSION } from './conntrack-args.js';
import { createCommand, getCommand, updateCommand } from './conntrack-change.js';

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
  for (const w of p.warnings) ctx.io.err(w);
  const { command, filter } = p;
  try {
    if (command === 'I' || command === 'A') return await createCommand(ctx, p);
    if (command === 'U') return await updateCommand(ctx, p);
    if (command === 'G') return getCommand(ctx, p);
  } catch (e) {
    if (!(e instanceof Exit)) throw e;
    ctx.io.err(e.text);
    return e.status;
  }
  if (command === 'F') {
    await readWrite(ctx, (lab) => {
      // (-f ipv6 flushes the IPv6 entries: the lab has none)
      if (filter.family !== 6) hostOf(lab, ctx.host)[1].conntrack = [];
      return { save: filter.family !== 6, value: undefined };
    });
    ctx.io.err(`${VERSION}: connection tracking table has been emptied.\n`);
    return 0;
  }
  if (command === 'D') {
    const gone = await readWrite(ctx, (lab) => {
      const host = hostOf(lab, ctx.host)[1];
      const now = lab.clock ?? 0;
      const live = liveEntries(host.conntrack, now);
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
    const live = liveEntries(hostOf(lab, ctx.host)[1].conntrack, now);
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
