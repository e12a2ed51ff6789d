/**
 * `nfacct` (nfacct 1.0.2, libnetfilter_acct) over a host's extended accounting objects: list
 * [reset] [xml|json] [counters|bytes-quota|pkts-quota|overquota], add NAME [byte|packet QUOTA],
 * delete NAME, get NAME [reset] [xml|json], flush, restore (the list's lines on stdin), version and
 * help; every command and keyword by a prefix, as the tool reads them. An object a rule counts
 * into cannot be deleted (EBUSY), and flush leaves such objects. Messages and exit statuses are the
 * tool's and the kernel's, measured: fixtures/kernel/130-nfacct.scn. `monitor` (quota
 * notifications, which never end) is refused by name.
 */
import type { Host } from '../../net/lab.js';
import { findNfacct, NFACCT_NAME_MAX, nfacctText, type NfacctObject } from '../../net/nfacct.js';
import type { Tables } from '../../ruleset/tables.js';
import { strtoumax } from '../../util/strtoul.js';
import { hostOf, readOnly, readWrite, type CliContext } from '../context.js';

const VERSION = '1.0.2';
const USAGE = 'Usage: nfacct command [parameters]...\n';
const VERSION_TEXT =
  `nfacct v${VERSION}: utility for the Netfilter extended accounting infrastructure\n` +
  'Copyright (C) 2011 Pablo Neira Ayuso <pablo@netfilter.org>\n' +
  'Copyright (C) 2011 Intra2net AG <http://www.intra2net.com>\n' +
  'This program comes with ABSOLUTELY NO WARRANTY.\n' +
  'This is free software, and you are welcome to redistribute it under certain \n' +
  'conditions; see LICENSE file distributed in this package for details.\n';
const HELP_TEXT =
  `nfacct v${VERSION}: utility for the Netfilter extended accounting infrastructure\n` +
  USAGE +
  '\nCommands:\n' +
  '  list [reset]\t\tList the accounting object table (and reset)\n' +
  '  add object-name\tAdd new accounting object to table\n' +
  '  delete object-name\tDelete existing accounting object\n' +
  '  get object-name\tGet existing accounting object\n' +
  '  flush\t\t\tFlush accounting object table\n' +
  "  restore\t\tRestore accounting object table reading 'list' output from stdin\n" +
  '  monitor\t\tListens for quota attainment notifications\n' +
  '  version\t\tDisplay version and disclaimer\n' +
  '  help\t\t\tDisplay this help message\n';
const COMMANDS = ['list', 'add', 'delete', 'get', 'flush', 'version', 'help', 'restore', 'monitor'];

/** a failure: what nfacct_perror() prints (with strerror when errno is set) */
class Failed extends Error {}
const fail = (msg: string): never => {
  throw new Failed(`nfacct v${VERSION}: ${msg}\n`);
};
const ENOENT = 'error: No such file or directory';
const EBUSY = 'error: Device or resource busy';

/** strncmp(word, name, strlen(word)) == 0: a prefix of the name (the empty word too) */
const abbrev = (word: string, name: string): boolean => name.startsWith(word);

/** the accounting objects the host's rules count into (a reference each: the kernel's nfacct_mt_checkentry) */
function inUse(host: Host): Set<string> {
  const names = new Set<string>();
  for (const tables of [host.tables, host.tables6] as (Tables | undefined)[]) {
    for (const t of Object.values(tables ?? {})) {
      for (const c of t?.chains ?? []) for (const r of c.rules) for (const m of r.matches) if (m.name === 'nfacct') names.add((m.data as { name: string }).name);
    }
  }
  return names;
}

type Format = 'plain' | 'xml' | 'json';

/** the objects as the tool prints them (the XML and JSON forms with their header and footer) */
function printed(objects: NfacctObject[], format: Format, now: number): string {
  if (!objects.length) return '';
  const body = objects.map((o) => nfacctText(o, format));
  if (format === 'xml') return `<?xml version="1.0" encoding="utf-8"?>\n<nfacct>\n${body.join('\n')}\n</nfacct>\n`;
  if (format === 'json') return `{ "timestamp" : ${now}, \n  "nfacct_counters" : [\n${body.join(',\n')}\n] }\n`;
  return body.map((l) => `${l}\n`).join('');
}

/** NFNL_MSG_ACCT_GET_CTRZERO: the counters (and the over-quota mark) back to 0 after they are read */
function reset(o: NfacctObject): void {
  o.pkts = 0;
  o.bytes = 0;
  if (o.quota) o.quota.over = false;
}

/** nfnl_acct_new(): a new object, or EBUSY when the name exists */
function add(host: Host, name: string, quota?: NfacctObject['quota'], pkts = 0, bytes = 0): void {
  const list = (host.nfacct ??= []);
  const cut = name.slice(0, NFACCT_NAME_MAX - 1);
  if (findNfacct(list, cut)) fail(EBUSY);
  list.push(quota ? { name: cut, pkts, bytes, quota } : { name: cut, pkts, bytes });
}

/** sscanf("%" PRIu64): leading blanks and digits (a sign is taken, a minus negates modulo 2^64) */
function scanU64(s: string): number | undefined {
  const m = /^\s*([+-]?)(\d+)/.exec(s);
  if (!m) return undefined;
  const v = strtoumax(`${m[1]}${m[2]}`).value;
  return Number(v);
}

function listCommand(ctx: CliContext, args: string[]): Promise<number> | number {
  let zero = false;
  let format: Format = 'plain';
  let filter: ((o: NfacctObject) => boolean) | undefined;
  const dup = (w: string): never => {
    throw new Failed(`Error: duplicate "${w}" or collision with another option \n`);
  };
  for (const w of args) {
    if (abbrev(w, 'reset')) zero ? dup(w) : (zero = true);
    else if (abbrev(w, 'xml')) format !== 'plain' ? dup(w) : (format = 'xml');
    else if (abbrev(w, 'json')) format !== 'plain' ? dup(w) : (format = 'json');
    else if (abbrev(w, 'counters')) filter ? dup(w) : (filter = (o) => !o.quota);
    else if (abbrev(w, 'bytes-quota')) filter ? dup(w) : (filter = (o) => o.quota?.mode === 'byte');
    else if (abbrev(w, 'pkts-quota')) filter ? dup(w) : (filter = (o) => o.quota?.mode === 'packet');
    else if (abbrev(w, 'overquota')) filter ? dup(w) : (filter = (o) => !!o.quota?.over);
    else fail('unknown argument');
  }
  const show = (host: Host, now: number): string => printed((host.nfacct ?? []).filter((o) => !filter || filter(o)), format, now);
  if (!zero) {
    return readOnly(ctx, (lab) => {
      ctx.io.out(show(hostOf(lab, ctx.host)[1], lab.clock ?? 0));
      return 0;
    });
  }
  return readWrite(ctx, (lab) => {
    const host = hostOf(lab, ctx.host)[1];
    ctx.io.out(show(host, lab.clock ?? 0));
    for (const o of host.nfacct ?? []) if (!filter || filter(o)) reset(o);
    return { save: true, value: 0 };
  });
}

async function run(ctx: CliContext, argv: string[]): Promise<number> {
  if (!argv.length) {
    ctx.io.err(USAGE);
    return 1;
  }
  const cmd = COMMANDS.find((c) => abbrev(argv[0]!, c));
  if (!cmd) {
    ctx.io.err(`nfacct v${VERSION}: Unknown command: ${argv[0]}\n${USAGE}`);
    return 1;
  }
  const args = argv.slice(1);
  switch (cmd) {
    case 'version':
      ctx.io.out(VERSION_TEXT);
      return 0;
    case 'help':
      ctx.io.out(HELP_TEXT);
      return 0;
    case 'monitor':
      ctx.io.err('nfacct: monitor is not modelled by iptables-sim (it waits for quota notifications and never ends)\n');
      return 2;
    case 'list':
      return listCommand(ctx, args);
    case 'add': {
      if (!args.length) fail('missing object name');
      if (args.length === 2) fail('missing quota value');
      if (args.length === 3 && args[1] !== 'byte' && args[1] !== 'packet') fail('argument must "byte" or "packet"');
      if (args.length > 3) fail('too many arguments');
      let quota: NfacctObject['quota'];
      if (args.length === 3) {
        const value = scanU64(args[2]!);
        if (value === undefined) fail('error reading quota');
        quota = { mode: args[1] === 'byte' ? 'byte' : 'packet', value: value!, over: false };
      }
      return readWrite(ctx, (lab) => {
        add(hostOf(lab, ctx.host)[1], args[0]!, quota);
        return { save: true, value: 0 };
      });
    }
    case 'delete':
      if (!args.length) fail('missing object name');
      if (args.length > 1) fail('too many arguments');
      return readWrite(ctx, (lab) => {
        const host = hostOf(lab, ctx.host)[1];
        const o = findNfacct(host.nfacct, args[0]!);
        if (!o) fail(ENOENT);
        if (inUse(host).has(o!.name)) fail(EBUSY);
        host.nfacct = host.nfacct!.filter((x) => x !== o);
        return { save: true, value: 0 };
      });
    case 'get': {
      if (!args.length) fail('missing object name');
      let zero = false;
      let format: Format = 'plain';
      for (const w of args.slice(1)) {
        if (abbrev(w, 'reset')) zero = true;
        else if (abbrev(w, 'xml')) format = 'xml';
        else if (abbrev(w, 'json')) format = 'json';
        else fail('unknown argument');
      }
      return readWrite(ctx, (lab) => {
        const o = findNfacct(hostOf(lab, ctx.host)[1].nfacct, args[0]!);
        if (!o) fail(ENOENT);
        ctx.io.out(printed([o!], format, lab.clock ?? 0));
        if (zero) reset(o!);
        return { save: zero, value: 0 };
      });
    }
    case 'flush':
      if (args.length) fail('too many arguments');
      // (nfnl_acct_del of every object: those a rule counts into stay)
      return readWrite(ctx, (lab) => {
        const host = hostOf(lab, ctx.host)[1];
        const used = inUse(host);
        if (host.nfacct) host.nfacct = host.nfacct.filter((o) => used.has(o.name));
        return { save: true, value: 0 };
      });
    case 'restore': {
      const input = await ctx.io.readStdin();
      return readWrite(ctx, (lab) => {
        const host = hostOf(lab, ctx.host)[1];
        let status = 0;
        try {
          for (const line of input.split(/(?<=\n)/).filter((l) => l !== '')) {
            const semicolon = line.indexOf(';');
            if (semicolon < 0) fail('invalid line');
            const text = line.slice(0, semicolon);
            // sscanf's "%s" stops at a blank: "mode = %s } = %s" reads a hand-written quota line, not one
            // as `list` prints it (its "mode = byte," runs on into ", overquota = no"), which fails
            const plain = /^\{ pkts = (\d+), bytes = (\d+) \} = (\S+)/.exec(text);
            const quoted = /^\{ pkts = (\d+), bytes = (\d+), quota = (\d+), mode = (\S+) \} = (\S+)/.exec(text);
            if (!text.includes('quota')) {
              if (!plain) fail('error reading input');
              add(host, plain![3]!, undefined, Number(plain![1]), Number(plain![2]));
            } else {
              if (!quoted) fail('error reading input');
              add(host, quoted![5]!, { mode: quoted![4] === 'byte' ? 'byte' : 'packet', value: Number(quoted![3]), over: false }, Number(quoted![1]), Number(quoted![2]));
            }
          }
        } catch (e) {
          if (!(e instanceof Failed)) throw e;
          ctx.io.err(e.message);
          status = 1;
        }
        // (the objects made before a failing line stay)
        return { save: true, value: status };
      });
    }
  }
  return 0;
}

export async function nfacctCommand(ctx: CliContext, argv: string[]): Promise<number> {
  try {
    return await run(ctx, argv);
  } catch (e) {
    if (!(e instanceof Failed)) throw e;
    ctx.io.err(e.message);
    return 1;
  }
}
