/**
 * The small commands firewall scripts lean on, done in-process as bash does them: echo (bash's,
 * or dash's for `#!/bin/sh` scripts), printf, test / [ and cat. They only read files; they never
 * write outside the replay.
 */

export interface StageIo {
  stdin: string;
  out(text: string): void;
  err(text: string): void;
}

/** what a file test sees: the replay's own files, the emulated tools, /proc/sys, then the real disk */
export interface FileView {
  stat(path: string): { kind: 'file' | 'dir'; executable: boolean; size: number; symlink?: boolean } | undefined;
  read(path: string): Promise<string | { error: string }>;
}

function backslashEscapes(s: string, stopAtC: boolean): { text: string; stop: boolean } {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\' || i + 1 >= s.length) {
      out += c;
      continue;
    }
    const e = s[++i]!;
    const simple: Record<string, string> = { a: '\x07', b: '\b', e: '\x1b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };
    if (simple[e] !== undefined) out += simple[e];
    else if (e === 'c' && stopAtC) return { text: out, stop: true };
    else if (e === '0' || (/[1-7]/.test(e) && !stopAtC)) {
      let digits = e === '0' ? '' : e;
      while (digits.length < 3 && /[0-7]/.test(s[i + 1] ?? '')) digits += s[++i];
      out += String.fromCharCode(parseInt(digits || '0', 8) & 0xff);
    } else if (e === 'x' && /[0-9a-fA-F]/.test(s[i + 1] ?? '')) {
      let digits = '';
      while (digits.length < 2 && /[0-9a-fA-F]/.test(s[i + 1] ?? '')) digits += s[++i];
      out += String.fromCharCode(parseInt(digits, 16));
    } else out += '\\' + e;
  }
  return { text: out, stop: false };
}

/** echo: bash's builtin (and coreutils' /bin/echo) take -n -e -E; dash's always interprets escapes */
export function echo(args: string[], io: StageIo, dash = false): number {
  let newline = true;
  let escapes = dash;
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (dash) {
      if (a === '-n') {
        newline = false;
        continue;
      }
      break;
    }
    if (!/^-[neE]+$/.test(a)) break;
    for (const f of a.slice(1)) {
      if (f === 'n') newline = false;
      else if (f === 'e') escapes = true;
      else escapes = false;
    }
  }
  let text = args.slice(i).join(' ');
  if (escapes) {
    const r = backslashEscapes(text, true);
    text = r.text;
    if (r.stop) newline = false;
  }
  io.out(text + (newline ? '\n' : ''));
  return 0;
}

/** printf FORMAT [ARG...]: the format is reused until the arguments are used up */
export function printf(args: string[], io: StageIo): number {
  if (!args.length) {
    io.err('printf: usage: printf [-v var] format [arguments]\n');
    return 2;
  }
  const [format, ...rest] = args as [string, ...string[]];
  let status = 0;
  let ai = 0;
  const next = (): string | undefined => rest[ai++];
  let out = '';
  const once = (): boolean => {
    for (let i = 0; i < format.length; i++) {
      const c = format[i]!;
      if (c === '\\') {
        const m = /^\\(?:[0-7]{1,3}|x[0-9a-fA-F]{1,2}|.)/.exec(format.slice(i))!;
        out += backslashEscapes(m[0], false).text;
        i += m[0].length - 1;
        continue;
      }
      if (c !== '%') {
        out += c;
        continue;
      }
      const m = /^%([-+ #0]*)(\*|\d+)?(?:\.(\*|\d+))?([sbcdiouxXeEfgG%])/.exec(format.slice(i));
      if (!m) {
        io.err(`printf: \`${format.slice(i + 1, i + 2) || '%'}': invalid format character\n`);
        status = 1;
        return false;
      }
      i += m[0].length - 1;
      const conv = m[4]!;
      if (conv === '%') {
        out += '%';
        continue;
      }
      const width = m[2] === '*' ? Number(next() ?? 0) : m[2] !== undefined ? Number(m[2]) : undefined;
      const prec = m[3] === '*' ? Number(next() ?? 0) : m[3] !== undefined ? Number(m[3]) : undefined;
      const flags = m[1]!;
      const arg = next();
      let s: string;
      if (conv === 's' || conv === 'b' || conv === 'c') {
        s = arg ?? '';
        if (conv === 'b') s = backslashEscapes(s, true).text;
        if (conv === 'c') s = s.slice(0, 1);
        if (prec !== undefined && conv !== 'c') s = s.slice(0, prec);
      } else if ('diouxX'.includes(conv)) {
        const a = (arg ?? '0').trim();
        let n: bigint;
        if (/^[-+]?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.test(a)) n = BigInt(a.replace(/^\+/, '').replace(/^(-?)0([0-7]+)$/, '$10o$2'));
        else if (/^['"]./.test(a)) n = BigInt(a.codePointAt(1)!);
        else {
          io.err(`printf: ${a}: invalid number\n`);
          status = 1;
          n = 0n;
        }
        if (conv === 'o') s = (n < 0n ? (1n << 64n) + n : n).toString(8);
        else if (conv === 'x') s = (n < 0n ? (1n << 64n) + n : n).toString(16);
        else if (conv === 'X') s = (n < 0n ? (1n << 64n) + n : n).toString(16).toUpperCase();
        else if (conv === 'u') s = (n < 0n ? (1n << 64n) + n : n).toString();
        else s = (flags.includes('+') && n >= 0n ? '+' : flags.includes(' ') && n >= 0n ? ' ' : '') + n.toString();
      } else {
        const x = Number(arg ?? 0);
        if (Number.isNaN(x)) {
          io.err(`printf: ${arg}: invalid number\n`);
          status = 1;
        }
        const p = prec ?? 6;
        s = conv === 'e' || conv === 'E' ? x.toExponential(p) : conv === 'f' ? x.toFixed(p) : String(Number(x.toPrecision(p || 1)));
        if (conv === 'E' || conv === 'G') s = s.toUpperCase();
      }
      if (width !== undefined && s.length < width) {
        const pad = flags.includes('0') && !flags.includes('-') && conv !== 's' ? '0' : ' ';
        s = flags.includes('-') ? s.padEnd(width) : pad === '0' && /^[-+]/.test(s) ? s[0] + s.slice(1).padStart(width - 1, '0') : s.padStart(width, pad);
      }
      out += s;
    }
    return true;
  };
  do {
    if (!once()) break;
  } while (ai < rest.length && ai > 0);
  io.out(out);
  return status;
}

class TestError extends Error {}

/** test / [ as bash's builtin evaluates it (POSIX's rules by argument count, then -a/-o/!/( )) */
export function test(argv: string[], io: StageIo, files: FileView, bracket: boolean): number {
  const name = bracket ? '[' : 'test';
  let args = argv;
  if (bracket) {
    if (args[args.length - 1] !== ']') {
      io.err("[: missing `]'\n");
      return 2;
    }
    args = args.slice(0, -1);
  }
  const int = (s: string): bigint => {
    const t = s.trim();
    if (!/^[-+]?[0-9]+$/.test(t)) throw new TestError(`${s}: integer expression expected`);
    return BigInt(t);
  };
  const unary = (op: string, a: string): boolean => {
    switch (op) {
      case '-z':
        return a.length === 0;
      case '-n':
        return a.length > 0;
      case '-t':
        return false;
    }
    const st = files.stat(a);
    switch (op) {
      case '-e':
      case '-a':
        return !!st;
      case '-f':
        return st?.kind === 'file';
      case '-d':
        return st?.kind === 'dir';
      case '-r':
      case '-w':
        return !!st;
      case '-x':
        return !!st && (st.kind === 'dir' || st.executable);
      case '-s':
        return !!st && (st.kind === 'dir' || st.size > 0);
      case '-L':
      case '-h':
        return !!st?.symlink;
    }
    throw new TestError(`${op}: unary operator expected`);
  };
  const UNARY = new Set(['-z', '-n', '-t', '-e', '-a', '-f', '-d', '-r', '-w', '-x', '-s', '-L', '-h']);
  const BINARY = new Set(['=', '==', '!=', '<', '>', '-eq', '-ne', '-lt', '-le', '-gt', '-ge']);
  const binary = (a: string, op: string, b: string): boolean => {
    switch (op) {
      case '=':
      case '==':
        return a === b;
      case '!=':
        return a !== b;
      case '<':
        return a < b;
      case '>':
        return a > b;
      case '-eq':
        return int(a) === int(b);
      case '-ne':
        return int(a) !== int(b);
      case '-lt':
        return int(a) < int(b);
      case '-le':
        return int(a) <= int(b);
      case '-gt':
        return int(a) > int(b);
      case '-ge':
        return int(a) >= int(b);
    }
    throw new TestError(`${op}: binary operator expected`);
  };
  // the general grammar: expr := and { -o and }, and := not { -a not }, not := ! not | ( expr ) | primary
  let pos = 0;
  const expr = (end: number): boolean => {
    let v = andExpr(end);
    while (pos < end && args[pos] === '-o') {
      pos++;
      v = andExpr(end) || v;
    }
    return v;
  };
  const andExpr = (end: number): boolean => {
    let v = notExpr(end);
    while (pos < end && args[pos] === '-a') {
      pos++;
      v = notExpr(end) && v;
    }
    return v;
  };
  const notExpr = (end: number): boolean => {
    if (args[pos] === '!' && pos + 1 < end) {
      pos++;
      return !notExpr(end);
    }
    if (args[pos] === '(' && pos + 1 < end) {
      pos++;
      const v = expr(end);
      if (args[pos] !== ')') throw new TestError(`\`)' expected`);
      pos++;
      return v;
    }
    const a = args[pos];
    if (a === undefined) throw new TestError('argument expected');
    if (pos + 2 < end + 1 && BINARY.has(args[pos + 1] ?? '') && pos + 2 < end) {
      pos += 3;
      return binary(a, args[pos - 2]!, args[pos - 1]!);
    }
    if (UNARY.has(a) && pos + 1 < end) {
      pos += 2;
      return unary(a, args[pos - 1]!);
    }
    pos++;
    return a.length > 0;
  };
  const byCount = (a: string[]): boolean => {
    switch (a.length) {
      case 0:
        return false;
      case 1:
        return a[0]!.length > 0;
      case 2:
        if (a[0] === '!') return !byCount(a.slice(1));
        if (UNARY.has(a[0]!)) return unary(a[0]!, a[1]!);
        throw new TestError(`${a[0]}: unary operator expected`);
      case 3:
        if (BINARY.has(a[1]!)) return binary(a[0]!, a[1]!, a[2]!);
        if (a[1] === '-a') return a[0]!.length > 0 && a[2]!.length > 0;
        if (a[1] === '-o') return a[0]!.length > 0 || a[2]!.length > 0;
        if (a[0] === '!') return !byCount(a.slice(1));
        if (a[0] === '(' && a[2] === ')') return a[1]!.length > 0;
        throw new TestError(`${a[1]}: binary operator expected`);
      case 4:
        if (a[0] === '!') return !byCount(a.slice(1));
        if (a[0] === '(' && a[3] === ')') return byCount(a.slice(1, 3));
        return general(a);
      default:
        return general(a);
    }
  };
  const general = (a: string[]): boolean => {
    pos = 0;
    const v = expr(a.length);
    if (pos < a.length) throw new TestError('too many arguments');
    return v;
  };
  try {
    return byCount(args) ? 0 : 1;
  } catch (e) {
    if (e instanceof TestError) {
      io.err(`${name}: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

/** cat [FILE...]: standard input, or the files in order */
export async function cat(args: string[], io: StageIo, files: FileView): Promise<number> {
  const names = args.filter((a) => a !== '--');
  const opt = names.find((a) => a.startsWith('-') && a !== '-');
  if (opt) {
    io.err(`cat: option ${opt} is not modelled by run\n`);
    return 1;
  }
  if (!names.length) names.push('-');
  let status = 0;
  for (const n of names) {
    if (n === '-') {
      io.out(io.stdin);
      continue;
    }
    const r = await files.read(n);
    if (typeof r === 'string') io.out(r);
    else {
      io.err(`cat: ${n}: ${r.error}\n`);
      status = 1;
    }
  }
  return status;
}

/**
 * head / tail [-n N | -N] [FILE...] (tail also -n +N, from line N): what scripts use to cut
 * listings short. Lines as coreutils counts them (a last line without newline is a line).
 */
export async function headTail(which: 'head' | 'tail', args: string[], io: StageIo, files: FileView): Promise<number> {
  let count = '10';
  const names: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      names.push(...args.slice(i + 1));
      break;
    }
    if (a === '-n') {
      const v = args[++i];
      if (v === undefined) {
        io.err(`${which}: option requires an argument -- 'n'\nTry '${which} --help' for more information.\n`);
        return 1;
      }
      count = v;
    } else if (/^-n./.test(a)) count = a.slice(2);
    else if (/^-\d+$/.test(a)) count = a.slice(1);
    else if (a.startsWith('-') && a !== '-') {
      io.err(`${which}: option ${a} is not modelled by run\n`);
      return 1;
    } else names.push(a);
  }
  const from = which === 'tail' && count.startsWith('+');
  const digits = from ? count.slice(1) : count;
  if (!/^\d+$/.test(digits)) {
    io.err(`${which}: invalid number of lines: \u2018${count}\u2019\n`);
    return 1;
  }
  const n = Number(digits);
  if (!names.length) names.push('-');
  let status = 0;
  for (const [k, name] of names.entries()) {
    const text = name === '-' ? io.stdin : await files.read(name);
    if (typeof text !== 'string') {
      io.err(`${which}: cannot open '${name}' for reading: ${text.error}\n`);
      status = 1;
      continue;
    }
    if (names.length > 1) io.out(`${k ? '\n' : ''}==> ${name === '-' ? 'standard input' : name} <==\n`);
    const lines = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
    const kept = which === 'head' ? lines.slice(0, n) : from ? lines.slice(Math.max(n - 1, 0)) : n ? lines.slice(-n) : [];
    io.out(kept.join(''));
  }
  return status;
}

/**
 * wc -l | -w | -c | -m on standard input: the one count, as coreutils prints it for a pipe
 * (`iptables -S | wc -l`). Several counts or files are padded in ways scripts do not rely on: not
 * modelled.
 */
export function wc(args: string[], io: StageIo): number {
  const opts = args.filter((a) => a !== '-');
  if (opts.length !== 1 || !/^-[lwcm]$/.test(opts[0]!) || args.length > 2) {
    io.err(`wc: ${args.length ? args.join(' ') : 'without -l, -w, -c or -m'}: only one count of standard input is modelled by run\n`);
    return 1;
  }
  const t = io.stdin;
  const n =
    opts[0] === '-l' ? (t.match(/\n/g) ?? []).length
    : opts[0] === '-w' ? (t.match(/[^ \t\n\v\f\r]+/g) ?? []).length
    : opts[0] === '-c' ? Buffer.byteLength(t, 'utf8')
    : [...t].length;
  io.out(`${n}${args.includes('-') ? ' -' : ''}\n`);
  return 0;
}

/** a basic regular expression (grep without -E) as a JavaScript one */
function breToJs(re: string): string {
  let out = '';
  for (let i = 0; i < re.length; i++) {
    const c = re[i]!;
    if (c === '\\' && i + 1 < re.length) {
      const n = re[++i]!;
      // \( \) \{ \} \| \+ \? are the operators of a BRE; the bare characters are literal
      out += '(){}|+?'.includes(n) ? n : n === '<' || n === '>' ? '\\b' : '\\' + n;
    } else if ('(){}|+?'.includes(c)) out += '\\' + c;
    else out += c;
  }
  return out;
}

/** grep [-qvcinxwEF] [-e PATTERN]... [PATTERN] [FILE...]: what scripts use to test iptables output */
export async function grep(args: string[], io: StageIo, files: FileView): Promise<number> {
  const patterns: string[] = [];
  const names: string[] = [];
  const f = { q: false, v: false, c: false, i: false, n: false, x: false, w: false, E: false, F: false };
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (a === '-e') {
      const p = args[++i];
      if (p === undefined) {
        io.err("grep: option requires an argument -- 'e'\nUsage: grep [OPTION]... PATTERNS [FILE]...\n");
        return 2;
      }
      patterns.push(p);
      continue;
    }
    if (/^-[qvcinxwEFs]+$/.test(a)) {
      for (const o of a.slice(1)) if (o !== 's') f[o as keyof typeof f] = true;
      continue;
    }
    if (a.startsWith('-') && a !== '-') {
      io.err(`grep: option ${a} is not modelled by run\n`);
      return 2;
    }
    break;
  }
  const rest = args.slice(i);
  if (!patterns.length) {
    if (!rest.length) {
      io.err('Usage: grep [OPTION]... PATTERNS [FILE]...\n');
      return 2;
    }
    patterns.push(rest.shift()!);
  }
  names.push(...rest);
  const sources = patterns.flatMap((p) => p.split('\n')).map((p) => (f.F ? p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : f.E ? p : breToJs(p)));
  let re: RegExp;
  try {
    re = new RegExp(sources.map((s) => (f.x ? `^(?:${s})$` : f.w ? `(?<![A-Za-z0-9_])(?:${s})(?![A-Za-z0-9_])` : `(?:${s})`)).join('|'), f.i ? 'i' : '');
  } catch {
    io.err('grep: Unmatched ( or \\(\n');
    return 2;
  }
  let count = 0;
  let status = 1;
  let trouble = false;
  const inputs: { name: string; text: string }[] = [];
  if (!names.length) inputs.push({ name: '(standard input)', text: io.stdin });
  for (const n of names) {
    if (n === '-') {
      inputs.push({ name: '(standard input)', text: io.stdin });
      continue;
    }
    const r = await files.read(n);
    if (typeof r === 'string') inputs.push({ name: n, text: r });
    else {
      io.err(`grep: ${n}: ${r.error}\n`);
      trouble = true;
    }
  }
  for (const { name, text } of inputs) {
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    let here = 0;
    lines.forEach((l, k) => {
      if (re.test(l) === f.v) return;
      here++;
      if (f.q || f.c) return;
      io.out(`${inputs.length > 1 ? `${name}:` : ''}${f.n ? `${k + 1}:` : ''}${l}\n`);
    });
    if (f.c) io.out(`${inputs.length > 1 ? `${name}:` : ''}${here}\n`);
    count += here;
    if (f.q && count) return 0;
  }
  if (count) status = 0;
  return trouble && !(f.q && count) ? 2 : status;
}
