/**
 * glibc's getopt_long() as iptables drives it: optstring starting with "-:" (non-options are
 * returned in order as code 1, a missing argument is reported as ':'), long options matched
 * exactly or by an unambiguous prefix, optional arguments only when attached ("-Lfoo",
 * "--list=foo"). The option table can grow while scanning (iptables merges an extension's
 * options when -m/-j/-p loads it), so the caller passes a function that returns the current table.
 */
export interface LongOpt {
  name: string;
  /** 0 no argument, 1 required, 2 optional */
  hasArg: 0 | 1 | 2;
  /** what getopt returns: the short letter or an extension option key */
  val: string;
}

export type GetoptResult =
  /** a known option; `arg` is optarg */
  | { kind: 'option'; val: string; arg: string | undefined; index: number; text: string }
  /** a non-option word (code 1) */
  | { kind: 'nonoption'; arg: string; index: number }
  /** '?': unknown, ambiguous, or an argument given to an option that takes none */
  | { kind: 'unknown'; index: number; text: string }
  /** ':': required argument missing */
  | { kind: 'missing'; index: number; text: string };

/** iptables names the culprit as argv[optind-1] after getopt returned */
export function culprit(argv: readonly string[], g: Getopt): string {
  return argv[g.optind - 1] ?? '(null)';
}

/** each option table's names, first one of a name wins (as the linear search finds it) */
const exactNames = new WeakMap<readonly LongOpt[], Map<string, LongOpt>>();
function byName(table: readonly LongOpt[]): Map<string, LongOpt> {
  let m = exactNames.get(table);
  if (!m) {
    m = new Map();
    for (const o of table) if (!m.has(o.name)) m.set(o.name, o);
    exactNames.set(table, m);
  }
  return m;
}

export class Getopt {
  /** index of the next argv element to scan */
  optind = 0;
  /** position inside a cluster of short options ("-nvL") */
  private nextchar = 0;
  /** getopt stopped at "--": the words after it are left over */
  stoppedAtDashDash = false;

  constructor(
    private readonly argv: readonly string[],
    private readonly shortOpts: Map<string, 0 | 1 | 2>,
    private readonly longOpts: () => readonly LongOpt[],
  ) {}

  /** Peek used by iptables' xs_has_arg(): the next word exists and is not an option or '!' */
  hasArg(): boolean {
    const w = this.argv[this.optind];
    return w !== undefined && w[0] !== '-' && w[0] !== '!';
  }

  /** Takes argv[optind++] (iptables reads extra words this way). */
  take(): string | undefined {
    if (this.optind >= this.argv.length) return undefined;
    return this.argv[this.optind++];
  }

  /** Rewinds to re-scan the option that ended at `index` (iptables' optind-- after loading -p's match). */
  rescan(index: number): void {
    this.optind = index;
    this.nextchar = 0;
  }

  next(): GetoptResult | undefined {
    if (this.nextchar === 0) {
      if (this.optind >= this.argv.length) return undefined;
      const word = this.argv[this.optind]!;
      if (word === '--') {
        // premature end of options: the rest are non-options that getopt does not return
        this.optind++;
        this.stoppedAtDashDash = this.optind < this.argv.length;
        return undefined;
      }
      if (word[0] !== '-' || word.length === 1) {
        this.optind++;
        return { kind: 'nonoption', arg: word, index: this.optind - 1 };
      }
      if (word[1] === '-') return this.long(word);
      this.nextchar = 1;
    }
    return this.short();
  }

  private long(word: string): GetoptResult {
    const index = this.optind;
    this.optind++;
    const body = word.slice(2);
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const table = this.longOpts();
    let found: LongOpt | undefined = byName(table).get(name);
    if (!found) {
      let ambiguous = false;
      for (const o of table) {
        if (!o.name.startsWith(name)) continue;
        if (!found) found = o;
        else if (found.hasArg !== o.hasArg || found.val !== o.val) ambiguous = true;
      }
      if (ambiguous) return { kind: 'unknown', index, text: word };
    }
    if (!found) return { kind: 'unknown', index, text: word };
    if (eq >= 0) {
      if (found.hasArg === 0) return { kind: 'unknown', index, text: word };
      return { kind: 'option', val: found.val, arg: body.slice(eq + 1), index, text: word };
    }
    if (found.hasArg === 1) {
      if (this.optind >= this.argv.length) return { kind: 'missing', index, text: word };
      const arg = this.argv[this.optind]!;
      this.optind++;
      return { kind: 'option', val: found.val, arg, index, text: word };
    }
    return { kind: 'option', val: found.val, arg: undefined, index, text: word };
  }

  private short(): GetoptResult {
    const index = this.optind;
    const word = this.argv[this.optind]!;
    const c = word[this.nextchar]!;
    this.nextchar++;
    const atEnd = this.nextchar >= word.length;
    const spec = this.shortOpts.get(c);
    if (spec === undefined || c === ':' || c === '-') {
      if (atEnd) this.endCluster();
      return { kind: 'unknown', index, text: word };
    }
    if (spec === 0) {
      if (atEnd) this.endCluster();
      return { kind: 'option', val: c, arg: undefined, index, text: word };
    }
    if (!atEnd) {
      const arg = word.slice(this.nextchar);
      this.endCluster();
      return { kind: 'option', val: c, arg, index, text: word };
    }
    this.endCluster();
    if (spec === 2) return { kind: 'option', val: c, arg: undefined, index, text: word };
    if (this.optind >= this.argv.length) return { kind: 'missing', index, text: word };
    const arg = this.argv[this.optind]!;
    this.optind++;
    return { kind: 'option', val: c, arg, index, text: word };
  }

  private endCluster(): void {
    this.nextchar = 0;
    this.optind++;
  }
}

/** Parses an optstring such as "A:L::nv" into letter -> has_arg. */
export function parseOptstring(optstring: string): Map<string, 0 | 1 | 2> {
  const m = new Map<string, 0 | 1 | 2>();
  let s = optstring.replace(/^[-+]?:?/, '');
  while (s.length) {
    const c = s[0]!;
    if (s.startsWith('::', 1)) {
      m.set(c, 2);
      s = s.slice(3);
    } else if (s[1] === ':') {
      m.set(c, 1);
      s = s.slice(2);
    } else {
      m.set(c, 0);
      s = s.slice(1);
    }
  }
  return m;
}

export type UtilOption = { val: string; arg?: string };

/**
 * getopt_long() in its default mode, as iptables-save and iptables-restore use it: non-options
 * are permuted to the end, and glibc prints its own complaint (opterr is on). Returns the options
 * in order and the remaining words, or the complaint glibc would print.
 */
export function getoptPermute(
  prog: string,
  argv: readonly string[],
  optstring: string,
  longOpts: readonly LongOpt[],
): { options: UtilOption[]; rest: string[] } | { error: string } {
  const short = parseOptstring(optstring);
  const options: UtilOption[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i]!;
    if (w === '--') {
      rest.push(...argv.slice(i + 1));
      break;
    }
    if (w[0] !== '-' || w.length === 1) {
      rest.push(w);
      continue;
    }
    if (w.startsWith('--')) {
      const body = w.slice(2);
      const eq = body.indexOf('=');
      const name = eq >= 0 ? body.slice(0, eq) : body;
      let found = longOpts.find((o) => o.name === name);
      if (!found) {
        const cands = longOpts.filter((o) => o.name.startsWith(name));
        const distinct = cands.filter((o, k) => cands.findIndex((x) => x.val === o.val && x.hasArg === o.hasArg) === k);
        if (distinct.length > 1) {
          return { error: `${prog}: option '${w}' is ambiguous; possibilities:${cands.map((c) => ` '--${c.name}'`).join('')}\n` };
        }
        found = cands[0];
      }
      if (!found) return { error: `${prog}: unrecognized option '${w}'\n` };
      if (eq >= 0) {
        if (found.hasArg === 0) return { error: `${prog}: option '--${found.name}' doesn't allow an argument\n` };
        options.push({ val: found.val, arg: body.slice(eq + 1) });
      } else if (found.hasArg === 1) {
        if (i + 1 >= argv.length) return { error: `${prog}: option '--${found.name}' requires an argument\n` };
        options.push({ val: found.val, arg: argv[++i] });
      } else {
        options.push({ val: found.val });
      }
      continue;
    }
    for (let k = 1; k < w.length; k++) {
      const c = w[k]!;
      const spec = short.get(c);
      if (spec === undefined) return { error: `${prog}: invalid option -- '${c}'\n` };
      if (spec === 0) {
        options.push({ val: c });
        continue;
      }
      if (k + 1 < w.length) {
        options.push({ val: c, arg: w.slice(k + 1) });
      } else if (spec === 1) {
        if (i + 1 >= argv.length) return { error: `${prog}: option requires an argument -- '${c}'\n` };
        options.push({ val: c, arg: argv[++i] });
      } else {
        options.push({ val: c });
      }
      break;
    }
  }
  return { options, rest };
}
