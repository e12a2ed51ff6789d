/**
 * `iptables-save [-t TABLE] [-c]` (xtables-save.c): every table that exists, or the one asked
 * for (a built-in table that does not exist yet is printed with its default chains). As
 * ip6tables-save, the same for ip6tables' tables.
 */
import { PROGRAM_VERSION } from '../../errors.js';
import { getoptPermute, type LongOpt } from '../../../grammar/getopt.js';
import { saveAll, saveTable, TextOut } from '../../output/listing.js';
import { isTableName, newTable } from '../../ruleset/tables.js';
import type { Family } from '../../extensions/registry.js';
import { hostOf, readOnly, type CliContext } from '../context.js';

const LONG: LongOpt[] = [
  { name: 'counters', hasArg: 0, val: 'c' },
  { name: 'version', hasArg: 0, val: 'V' },
  { name: 'dump', hasArg: 0, val: 'd' },
  { name: 'table', hasArg: 1, val: 't' },
  { name: 'modprobe', hasArg: 1, val: 'M' },
  { name: 'file', hasArg: 1, val: 'f' },
];

export async function saveCommand(ctx: CliContext, argv: string[], prog = 'iptables-save', family: Family = 4): Promise<number> {
  const { io } = ctx;
  const r = getoptPermute(prog, argv, 'bcdt:M:f:V', LONG);
  if ('error' in r) {
    io.err(r.error + `Look at manual page \`${prog}.8' for more information.\n`);
    return 1;
  }
  let table: string | undefined;
  let counters = false;
  for (const o of r.options) {
    if (o.val === 'b') io.err('-b/--binary option is not implemented\n');
    else if (o.val === 'c') counters = true;
    else if (o.val === 't') table = o.arg;
    else if (o.val === 'f') {
      io.err(`${prog}: -f/--file is not supported by iptables-sim; redirect standard output instead\n`);
      return 1;
    } else if (o.val === 'V') {
      io.out(`${prog} v${PROGRAM_VERSION}\n`);
      return 0;
    }
  }
  if (r.rest.length) {
    io.err('Unknown arguments found on commandline\n');
    return 1;
  }
  return readOnly(ctx, (lab) => {
    const host = hostOf(lab, ctx.host)[1];
    const tables = (family === 6 ? host.tables6 : host.tables) ?? {};
    const out = new TextOut();
    if (table === undefined) saveAll(out, tables, counters, io.now(), prog);
    else if (!isTableName(table)) {
      io.err(`Table \`${table}' does not exist\n`);
      return 1;
    } else saveTable(out, table, tables[table] ?? newTable(table), counters, io.now(), prog);
    const bytes = out.bytes();
    if (io.outBytes) io.outBytes(bytes);
    else io.out(bytes.toString('utf8'));
    return 0;
  });
}
