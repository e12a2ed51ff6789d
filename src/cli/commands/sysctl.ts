/**
 * `sysctl` (procps-ng 4.0.2) over the kernel parameters the engine models. Reading prints
 * "key = value"; writing stores what the kernel's proc_dointvec accepts and echoes the value as
 * given; unknown keys get procps' "cannot stat" complaint. Writing ip_forward or
 * conf.all.forwarding spreads to every interface, as the kernel does.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SimError } from '../../errors.js';
import { getoptPermute, type LongOpt } from '../../../grammar/getopt.js';
import type { Host } from '../../net/lab.js';
import { hostOf, readOnly, readWrite, type CliContext } from '../context.js';
import { strtoumax } from '../../util/strtoul.js';
import { ALL_SPREADS6, FOLLOWS_DEFAULT, followsDefault, GLOBAL_SYSCTLS, modelledDefault } from '../../net/sysctl.js';

const LONG: LongOpt[] = [
  { name: 'all', hasArg: 0, val: 'a' },
  { name: 'binary', hasArg: 0, val: 'b' },
  { name: 'ignore', hasArg: 0, val: 'e' },
  { name: 'names', hasArg: 0, val: 'N' },
  { name: 'values', hasArg: 0, val: 'n' },
  { name: 'load', hasArg: 2, val: 'p' },
  { name: 'quiet', hasArg: 0, val: 'q' },
  { name: 'write', hasArg: 0, val: 'w' },
  { name: 'help', hasArg: 0, val: 'h' },
  { name: 'version', hasArg: 0, val: 'V' },
  { name: 'pattern', hasArg: 1, val: 'r' },
  { name: 'system', hasArg: 0, val: 'S' },
  { name: 'dry-run', hasArg: 0, val: 'D' },
  { name: 'deprecated', hasArg: 0, val: 'E' },
];

const USAGE = `
Usage:
 sysctl [options] [variable[=value] ...]

Options:
  -a, --all            display all variables
  -A                   alias of -a
  -X                   alias of -a
      --deprecated     include deprecated parameters to listing
      --dry-run        Print the key and values but do not write
  -b, --binary         print value without new line
  -e, --ignore         ignore unknown variables errors
  -N, --names          print variable names without values
  -n, --values         print only values of the given variable(s)
  -p, --load[=<file>]  read values from file
  -f                   alias of -p
      --system         read values from all system directories
  -r, --pattern <expression>
                       select setting that match expression
  -q, --quiet          do not echo variable set
  -w, --write          enable writing a value to variable
  -o                   does nothing
  -x                   does nothing
  -d                   alias of -h

 -h, --help     display this help and exit
 -V, --version  output version information and exit

For more details see sysctl(8).
`;

/** proc_dointvec's parser: blanks, optional '-', a base-0 number ending at a blank or the end */
function parseIntvec(value: string): number | undefined {
  const s = value.replace(/^[ \t\n]+/, '');
  const neg = s.startsWith('-');
  const body = neg ? s.slice(1) : s;
  const r = strtoumax(body, 0);
  if (r.end === 0 || /^[+-]/.test(body)) return undefined;
  // proc_get_long(): the number must end at a blank or the end; a one-value parameter reads no
  // further ("1 2" and "1 x" write 1, "1x" and "1,2" are EINVAL: measured, fixtures/cli/sysctl.case)
  const next = body[r.end];
  if (next !== undefined && next !== ' ' && next !== '\t' && next !== '\n') return undefined;
  if (r.value > 0x7fffffffn + (neg ? 1n : 0n)) return undefined;
  return neg ? -Number(r.value) : Number(r.value);
}

function normalizeKey(k: string): string {
  return k.replace(/\//g, '.');
}

function isKnownUnmodelled(known: readonly string[], key: string, host: Host): boolean {
  const devs = ['all', 'default', ...host.interfaces.map((i) => i.name)];
  const m = /^(net\.ipv[46]\.(?:conf|neigh)\.)([^.]+)\.(.*)$/.exec(key);
  const generic = m && devs.includes(m[2]!) ? `${m[1]}<dev>.${m[3]}` : key;
  return known.includes(generic);
}

function setForwarding(host: Host, key: string, v: number): void {
  const all = host.interfaces.map((i) => i.name);
  const s = host.sysctls;
  if (key === 'net.ipv4.ip_forward' || key === 'net.ipv4.conf.all.forwarding') {
    // devinet_sysctl_forward(): only a write that changes the value spreads to the interfaces
    // (measured: fixtures/kernel/35-forwarding-per-interface)
    if (Number(s['net.ipv4.ip_forward'] ?? '0') === v) return;
    s['net.ipv4.ip_forward'] = String(v);
    for (const d of ['all', 'default', ...all]) s[`net.ipv4.conf.${d}.forwarding`] = String(v);
  } else {
    s[key] = String(v);
    const m6 = /^net\.ipv6\.conf\.all\.([^.]+)$/.exec(key);
    if (m6 && ALL_SPREADS6.has(m6[1]!)) {
      for (const d of ['default', ...all]) s[`net.ipv6.conf.${d}.${m6[1]}`] = String(v);
      return;
    }
    const m = /^net\.ipv4\.conf\.([^.]+)\.([^.]+)$/.exec(key);
    if (!m || !FOLLOWS_DEFAULT.has(m[2]!) || m[1] === 'all') return;
    if (m[1] !== 'default') {
      if (!host.sysctlsSet?.includes(key)) (host.sysctlsSet ??= []).push(key);
      return;
    }
    // devinet_copy_dflt_conf(): devices whose own value was never written follow `default`
    for (const d of all) {
      const k = `net.ipv4.conf.${d}.${m[2]}`;
      if (!host.sysctlsSet?.includes(k) && followsDefault(host, d)) s[k] = String(v);
    }
  }
}

/** StripLeadingAndTrailingSpaces() of procps: isspace() at both ends */
const trimSpace = (s: string): string => s.replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, '');

/**
 * Preload() of procps-ng 4.0.2 (sysctl -p): every file is read before anything is written
 * (measured: the syntax warnings of all files come first). Blank lines and lines starting with #
 * or ; are skipped; a line without '=' is "invalid syntax" (the status stays 0); the key and the
 * value are trimmed, a leading '-' of the key dropped (it does not silence errors in 4.0.2:
 * measured). "-" is standard input; a file the replaying script wrote is read from the replay.
 */
async function readSettings(io: CliContext['io'], files: string[]): Promise<{ settings: string[]; status: number }> {
  const settings: string[] = [];
  let status = 0;
  for (const f of files) {
    let text: string | undefined;
    if (f === '-') text = await io.readStdin();
    else {
      text = io.scriptFile?.(f);
      if (text === undefined) {
        try {
          text = readFileSync(resolve(io.cwd, f), 'latin1');
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          io.err(`sysctl: cannot open "${f}": ${code === 'EACCES' ? 'Permission denied' : code === 'EISDIR' ? 'Is a directory' : 'No such file or directory'}\n`);
          status = 1;
          continue;
        }
      }
    }
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    lines.forEach((line, i) => {
      const t = trimSpace(line);
      if (!t || t[0] === '#' || t[0] === ';') return;
      const eq = t.indexOf('=');
      if (eq < 0) {
        io.err(`sysctl: ${f}(${i + 1}): invalid syntax, continuing...\n`);
        return;
      }
      let name = trimSpace(t.slice(0, eq));
      if (name.startsWith('-')) name = name.slice(1);
      settings.push(`${name}=${t.slice(eq + 1).replace(/^[ \t]+/, '')}`);
    });
  }
  return { settings, status };
}

export async function sysctlCommand(ctx: CliContext, argv: string[]): Promise<number> {
  const { io } = ctx;
  if (!argv.length) {
    io.err(USAGE);
    return 1;
  }
  const r = getoptPermute('sysctl', argv, 'bAdefhaNnp::qoxwr:VX', LONG);
  if ('error' in r) {
    io.err(r.error + USAGE);
    return 1;
  }
  let write = false;
  let valuesOnly = false;
  let namesOnly = false;
  let quiet = false;
  let ignore = false;
  let all = false;
  let load = false;
  const loadFiles: string[] = [];
  for (const o of r.options) {
    switch (o.val) {
      case 'w':
        write = true;
        break;
      case 'n':
        valuesOnly = true;
        break;
      case 'N':
        namesOnly = true;
        break;
      case 'q':
        quiet = true;
        break;
      case 'e':
        ignore = true;
        break;
      case 'a':
      case 'A':
      case 'X':
        all = true;
        break;
      case 'h':
      case 'd':
        io.out(USAGE);
        return 0;
      case 'V':
        io.out('sysctl from procps-ng 4.0.2\n');
        return 0;
      case 'p':
      case 'f':
        load = true;
        if (o.arg !== undefined) loadFiles.push(o.arg);
        break;
      case 'S':
      case 'r':
        throw new SimError(`sysctl: option -${o.val} is not supported by iptables-sim; give the keys on the command line`, 2);
    }
  }
  const show = (key: string, value: string): string => {
    if (namesOnly) return `${key}\n`;
    if (valuesOnly) return `${value}\n`;
    return `${key} = ${value}\n`;
  };
  if (all) {
    return readOnly(ctx, (lab) => {
      const host = hostOf(lab, ctx.host)[1];
      for (const k of Object.keys(host.sysctls).sort()) io.out(show(k, host.sysctls[k]!));
      return 0;
    });
  }
  let args = r.rest;
  let loadStatus = 0;
  if (load) {
    // -p: every argument names a file (none: /etc/sysctl.conf); all are read, then written
    const read = await readSettings(io, loadFiles.length || args.length ? [...loadFiles, ...args] : ['/etc/sysctl.conf']);
    args = read.settings;
    loadStatus = read.status;
    write = true;
    if (!args.length) return loadStatus;
  } else if (!args.length) {
    io.err('sysctl: no variables specified\nTry `sysctl --help\' for more information.\n');
    return 1;
  }
  const writes = args.filter((a) => write || a.includes('='));
  const { KNOWN_SYSCTLS } = await import('../../net/sysctl-known.js');
  const run = (host: Host): { status: number; changed: boolean } => {
    let status = loadStatus;
    let changed = false;
    for (const arg of args) {
      const eq = arg.indexOf('=');
      const isWrite = write || eq >= 0;
      if (isWrite && eq < 0) {
        io.err('sysctl: command line(0): invalid syntax, continuing...\n');
        status = 1;
        continue;
      }
      const key = normalizeKey(isWrite ? arg.slice(0, eq) : arg);
      const value = isWrite ? arg.slice(eq + 1) : '';
      if (key === '') {
        io.err('sysctl: Path is not under /proc/sys/: /proc/sys/\n');
        status = 1;
        continue;
      }
      const current = host.sysctls[key] ?? modelledDefault(key, host.interfaces.map((i) => i.name));
      if (current === undefined) {
        if (isKnownUnmodelled(KNOWN_SYSCTLS, key, host)) {
          io.err(`sysctl: iptables-sim does not model ${key} (it exists on Linux); nothing was ${isWrite ? 'written' : 'read'}\n`);
          status = 1;
        } else if (!ignore) {
          io.err(`sysctl: cannot stat /proc/sys/${key.replace(/\./g, '/')}: No such file or directory\n`);
          status = 1;
        }
        continue;
      }
      if (!isWrite) {
        io.out(show(key, current));
        continue;
      }
      if (key === 'net.ipv4.ip_local_port_range') {
        const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(value);
        if (!m || Number(m[1]) > Number(m[2]) || Number(m[2]) > 65535 || Number(m[1]) < 1) {
          io.err(`sysctl: setting key "${key}": Invalid argument\n`);
          status = 1;
          continue;
        }
        host.sysctls[key] = `${Number(m[1])}\t${Number(m[2])}`;
      } else {
        const v = parseIntvec(value);
        const g = GLOBAL_SYSCTLS[key];
        const range = g?.range;
        if (v === undefined || (range && (v < range[0] || v > range[1]))) {
          io.err(`sysctl: setting key "${key}": Invalid argument\n`);
          status = 1;
          continue;
        }
        setForwarding(host, key, g?.nonzeroIsOne && v ? 1 : v);
      }
      changed = true;
      if (!quiet) io.out(show(key, value.replace(/^[ \t]+/, '')));
    }
    return { status, changed };
  };
  if (!writes.length) return readOnly(ctx, (lab) => run(hostOf(lab, ctx.host)[1]).status);
  return readWrite(ctx, (lab) => {
    const { status, changed } = run(hostOf(lab, ctx.host)[1]);
    return { save: changed, value: status };
  });
}
