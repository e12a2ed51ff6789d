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
import { wildcardSource } from '../../util/glob.js';
import { ALL_SPREADS6, FOLLOWS_DEFAULT, followsDefault, GLOBAL_SYSCTLS, modelledKeys, modelledValue } from '../../net/sysctl.js';

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

/** `key` with a device of the host (or all, default) as KNOWN_SYSCTLS writes it: <dev> */
function genericKey(key: string, host: Host): string {
  const devs = ['all', 'default', ...host.interfaces.map((i) => i.name)];
  const m = /^(net\.ipv[46]\.(?:conf|neigh)\.)([^.]+)(\..*)?$/.exec(key);
  return m && devs.includes(m[2]!) ? `${m[1]}<dev>${m[3] ?? ''}` : key;
}

function isKnownUnmodelled(known: readonly string[], key: string, host: Host): boolean {
  return known.includes(genericKey(key, host));
}

/** whether Linux has keys under the directory `key` */
function isKnownDirectory(known: readonly string[], key: string, host: Host): boolean {
  const dir = `${genericKey(key, host)}.`;
  return known.some((k) => k.startsWith(dir));
}

/**
 * The keys under the directory `key` that the host models, in the order a listing of the
 * directory gives them (-a's order); none when `key` is no directory of them
 */
function keysUnder(host: Host, key: string): string[] {
  const dir = `${key}.`;
  return modelledKeys(host).filter((k) => k.startsWith(dir));
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

/** a key to write and its value; `glob`: from a -p file, where a key with * ? [ names every match */
interface Setting {
  key: string;
  value: string;
  glob: boolean;
}

/**
 * A `key=value` setting as procps 4.0.2 reads one, on the command line or in a -p file: the key
 * and the value trimmed, one leading '-' of the key dropped (measured:
 * fixtures/cli/sysctl-parse.case); undefined without '='.
 */
function parseSetting(text: string, glob: boolean): Setting | undefined {
  const t = trimSpace(text);
  const eq = t.indexOf('=');
  if (eq < 0) return undefined;
  let key = trimSpace(t.slice(0, eq));
  if (key.startsWith('-')) key = key.slice(1);
  return { key, value: trimSpace(t.slice(eq + 1)), glob };
}

/** glob(3) of a key's /proc/sys path (* ? [...] [!...] within one component), as a test of a dotted key */
function keyGlob(key: string): ((k: string) => boolean) | undefined {
  if (!/[*?[]/.test(key)) return undefined;
  const r = new RegExp(`^${wildcardSource(procPath(key), '[^/]')}$`);
  return (k) => r.test(procPath(k));
}

/** the /proc/sys path of a dotted key, which glob() sorts its matches by */
const procPath = (key: string): string => key.replace(/\./g, '/');

/**
 * proc_dointvec_minmax() of ip_local_port_range's two numbers (base 0, blanks between; one number
 * sets the low end alone), then ipv4_local_port_range(): low <= high, low at least
 * ip_unprivileged_port_start (measured: fixtures/cli/sysctl-parse.case)
 */
function portRange(value: string, current: string): string | undefined {
  const hi0 = Number(current.split(/\s+/)[1]);
  const got: number[] = [];
  let rest = value;
  while (got.length < 2) {
    rest = rest.replace(/^[ \t\n]+/, '');
    if (rest === '') break;
    const m = /^-?[^ \t\n]*/.exec(rest)![0];
    const v = parseIntvec(m);
    if (v === undefined) return undefined;
    got.push(v);
    rest = rest.slice(m.length);
  }
  if (!got.length) return undefined;
  const lo = got[0]!;
  const hi = got[1] ?? hi0;
  if (hi > 65535 || lo > hi || lo < 1024) return undefined;
  return `${lo}\t${hi}`;
}

/**
 * Preload() of procps-ng 4.0.2 (sysctl -p): every file is read before anything is written
 * (measured: the syntax warnings of all files come first). Blank lines and lines starting with #
 * or ; are skipped; a line without '=' is "invalid syntax" (the status stays 0); the key and the
 * value are trimmed, a leading '-' of the key dropped (it does not silence errors in 4.0.2:
 * measured). "-" is standard input; a file the replaying script wrote is read from the replay.
 */
async function readSettings(io: CliContext['io'], files: string[]): Promise<{ settings: Setting[]; status: number }> {
  const settings: Setting[] = [];
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
      const setting = parseSetting(t, true);
      if (!setting) io.err(`sysctl: ${f}(${i + 1}): invalid syntax, continuing...\n`);
      else settings.push(setting);
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
    // (Usage(stderr)... of procps 4.0.2 goes to stdout, with exit status 0: measured, fixtures/cli/sysctl-opts.case)
    io.err(r.error);
    io.out(USAGE);
    return 0;
  }
  let write = false;
  let valuesOnly = false;
  let namesOnly = false;
  let quiet = false;
  let ignore = false;
  let all = false;
  let load = false;
  let dryRun = false;
  let binary = false;
  let pattern: RegExp | undefined;
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
      case 'D':
        dryRun = true;
        break;
      case 'b':
        binary = true;
        break;
      case 'r':
        // (regcomp(REG_EXTENDED): the expressions people give read the same in JavaScript)
        try {
          pattern = new RegExp(o.arg!);
        } catch {
          io.err(`sysctl: unable to parse pattern: ${o.arg}\n`);
          return 1;
        }
        break;
      case 'S':
        throw new SimError('sysctl: --system reads the files of a real system (/etc/sysctl.d, /run, /usr/lib); give them with -p FILE', 2);
    }
  }
  if (namesOnly && quiet) {
    io.err("sysctl: options -N and -q cannot coexist\nTry `sysctl --help' for more information.\n");
    return 1;
  }
  const show = (key: string, value: string): string => {
    if (binary) return value;
    if (namesOnly) return `${key}\n`;
    if (valuesOnly) return `${value}\n`;
    return `${key} = ${value}\n`;
  };
  const selected = (key: string): boolean => !pattern || pattern.test(key);
  if (all) {
    return readOnly(ctx, (lab) => {
      const host = hostOf(lab, ctx.host)[1];
      for (const k of modelledKeys(host)) if (selected(k)) io.out(show(k, modelledValue(host, k)!));
      return 0;
    });
  }
  let args: (string | Setting)[] = r.rest;
  let loadStatus = 0;
  if (load) {
    // -p: every argument names a file (none: /etc/sysctl.conf); all are read, then written
    const read = await readSettings(io, loadFiles.length || args.length ? [...loadFiles, ...args.map(String)] : ['/etc/sysctl.conf']);
    args = read.settings;
    loadStatus = read.status;
    write = true;
    if (!args.length) return loadStatus;
  } else if (!args.length) {
    io.err('sysctl: no variables specified\nTry `sysctl --help\' for more information.\n');
    return 1;
  }
  const writes = args.some((a) => typeof a !== 'string' || write || a.includes('='));
  const { KNOWN_SYSCTLS } = await import('../../net/sysctl-known.js');
  const run = (host: Host): { status: number; changed: boolean } => {
    let status = loadStatus;
    let changed = false;
    /** the value of `key` on this host, undefined when it has no such key (after saying so) */
    const exists = (key: string, isWrite: boolean): string | undefined => {
      const current = modelledValue(host, key);
      if (current !== undefined) return current;
      if (isKnownUnmodelled(KNOWN_SYSCTLS, key, host)) {
        io.err(`sysctl: iptables-sim does not model ${key} (it exists on Linux); nothing was ${isWrite ? 'written' : 'read'}\n`);
        status = 1;
      } else if (isKnownDirectory(KNOWN_SYSCTLS, key, host)) {
        io.err(`sysctl: iptables-sim models none of the keys under ${key} (they exist on Linux); nothing was ${isWrite ? 'written' : 'read'}\n`);
        status = 1;
      } else if (!ignore) {
        io.err(`sysctl: cannot stat /proc/sys/${key.replace(/\./g, '/')}: No such file or directory\n`);
        status = 1;
      }
      return undefined;
    };
    const writeOne = (key: string, value: string, current: string): void => {
      // --dry-run: what would be written, whatever the value, even under -q
      if (dryRun) {
        io.out(namesOnly ? `${value}\n` : show(key, value));
        return;
      }
      if (key === 'net.ipv4.ip_local_port_range') {
        const range = portRange(value, current);
        if (range === undefined) {
          io.err(`sysctl: setting key "${key}": Invalid argument\n`);
          status = 1;
          return;
        }
        host.sysctls[key] = range;
      } else {
        const v = parseIntvec(value);
        const g = GLOBAL_SYSCTLS[key];
        const range = g?.range;
        if (v === undefined || (range && (v < range[0] || v > range[1]))) {
          io.err(`sysctl: setting key "${key}": Invalid argument\n`);
          status = 1;
          return;
        }
        setForwarding(host, key, g?.nonzeroIsOne && v ? 1 : v);
      }
      changed = true;
      // (-N echoes the value of what it wrote: measured)
      if (!quiet) io.out(namesOnly ? `${value}\n` : show(key, value));
    };
    for (const arg of args) {
      const isWrite = typeof arg !== 'string' || write || arg.includes('=');
      const setting = typeof arg !== 'string' ? arg : isWrite ? parseSetting(arg, false) : undefined;
      if (isWrite && !setting) {
        io.err('sysctl: command line(0): invalid syntax, continuing...\n');
        status = 1;
        continue;
      }
      const key = normalizeKey(setting ? setting.key : (arg as string));
      if (key === '') {
        io.err('sysctl: Path is not under /proc/sys/: /proc/sys/\n');
        status = 1;
        continue;
      }
      const matches = setting?.glob ? keyGlob(key) : undefined;
      if (matches) {
        // glob() of the path: every key that matches, in path order; none is no error
        const keys = modelledKeys(host).filter(matches).sort((a, b) => (procPath(a) < procPath(b) ? -1 : 1));
        for (const k of keys) if (selected(k)) writeOne(k, setting!.value, modelledValue(host, k)!);
        continue;
      }
      // a directory: reading it reads every key under it (DisplayAll()), writing it fails with
      // EINVAL and leaves the status as it was (measured: fixtures/cli/sysctl-dir.case)
      const under = modelledValue(host, key) === undefined ? keysUnder(host, key) : [];
      if (under.length) {
        if (setting) io.err(`sysctl: setting key "${key}": Invalid argument\n`);
        else for (const k of under) if (selected(k)) io.out(show(k, modelledValue(host, k)!));
        continue;
      }
      if (!selected(key)) continue;
      const current = exists(key, isWrite);
      if (current === undefined) continue;
      if (!setting) io.out(show(key, current));
      else writeOne(key, setting.value, current);
    }
    return { status, changed };
  };
  if (!writes || dryRun) return readOnly(ctx, (lab) => run(hostOf(lab, ctx.host)[1]).status);
  return readWrite(ctx, (lab) => {
    const { status, changed } = run(hostOf(lab, ctx.host)[1]);
    return { save: changed, value: status };
  });
}
