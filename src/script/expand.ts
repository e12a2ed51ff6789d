/**
 * Word expansion as the shell does it when a command runs: tilde, parameters (with the
 * `:-` `-` `:=` `=` `:+` `+` `:?` `?` `#` `##` `%` `%%` forms and ${#name}), field splitting of
 * unquoted results on IFS, and quote removal. Pathname expansion is not done: a word with `*` or
 * `?` stays as written (what bash does too when no file matches).
 */
import { isNameStart, PlainWord, type Word, type WordPart } from './lexer.js';
import { wildcardSource } from '../util/glob.js';

export interface Variables {
  get(name: string): string | undefined;
  set(name: string, value: string): void;
  positional: string[];
  /** $0 */
  arg0: string;
  status: number;
  pid: number;
  nounset: boolean;
  flags: string;
}

/** an expansion error (`${X:?}`, an unset variable under `set -u`): the shell stops */
export class ExpansionError extends Error {}

interface Piece {
  text: string;
  /** subject to field splitting */
  split: boolean;
}

const DEFAULT_IFS = ' \t\n';

/** the value has a character of the default IFS (it would be split) */
function hasBlank(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10) return true;
  }
  return false;
}

function lookup(v: Variables, name: string): string | undefined {
  if (/^[0-9]+$/.test(name)) {
    const n = Number(name);
    return n === 0 ? v.arg0 : v.positional[n - 1];
  }
  switch (name) {
    case '#':
      return String(v.positional.length);
    case '?':
      return String(v.status);
    case '$':
      return String(v.pid);
    case '-':
      return v.flags;
    case '!':
      return '';
    case '@':
    case '*':
      return v.positional.length ? v.positional.join(' ') : undefined;
  }
  return v.get(name);
}

/** a shell pattern (as in ${x#pattern}) as a regular expression source; quoted parts are literal */
function patternSource(parts: { s: string; q: boolean }[]): string {
  let re = '';
  for (const { s, q } of parts) {
    if (q) {
      re += s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      continue;
    }
    re += wildcardSource(s, '[\\s\\S]');
  }
  return re;
}

function removePattern(value: string, op: '#' | '##' | '%' | '%%', pat: string): string {
  const longest = op.length === 2;
  if (op[0] === '#') {
    const lens = [...Array(value.length + 1).keys()];
    if (longest) lens.reverse();
    const re = new RegExp(`^(?:${pat})$`);
    for (const n of lens) if (re.test(value.slice(0, n))) return value.slice(n);
    return value;
  }
  const starts = [...Array(value.length + 1).keys()];
  if (!longest) starts.reverse();
  const re = new RegExp(`^(?:${pat})$`);
  for (const n of starts) if (re.test(value.slice(n))) return value.slice(0, n);
  return value;
}

export class Expander {
  constructor(private readonly v: Variables) {}

  private ifs(): string {
    return this.v.get('IFS') ?? DEFAULT_IFS;
  }

  /** the pieces of a word; `fields` receives the extra breaks of "$@" */
  private pieces(parts: WordPart[], out: Piece[][], quotedContext = false): void {
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      const cur = out[out.length - 1]!;
      if (p.k === 'lit') {
        let s = p.s;
        if (i === 0 && !p.q && !quotedContext && s.startsWith('~') && out.length === 1 && cur.length === 0) {
          const m = /^~(?=\/|$)/.exec(s);
          if (m) s = (this.v.get('HOME') ?? '~') + s.slice(1);
        }
        cur.push({ text: s, split: false });
        continue;
      }
      const q = p.q || quotedContext;
      if (p.k === 'len') {
        cur.push({ text: String((lookup(this.v, p.name) ?? '').length), split: !q });
        continue;
      }
      if (p.name === '@' && q && !p.op) {
        // "$@": one field per positional parameter
        const ps = this.v.positional;
        if (!ps.length) continue;
        cur.push({ text: ps[0]!, split: false });
        for (const x of ps.slice(1)) out.push([{ text: x, split: false }]);
        continue;
      }
      let value = lookup(this.v, p.name);
      if (p.name === '*' && q && value !== undefined) value = this.v.positional.join(this.ifs()[0] ?? '');
      const unset = value === undefined;
      const nul = unset || value === '';
      const colon = p.op?.startsWith(':') ?? false;
      const missing = colon ? nul : unset;
      switch (p.op) {
        case undefined:
          if (unset && this.v.nounset && !['@', '*'].includes(p.name)) throw new ExpansionError(`${p.name}: unbound variable`);
          cur.push({ text: value ?? '', split: !q });
          break;
        case ':-':
        case '-':
          if (missing) this.pieces(p.arg!.parts, out, q);
          else cur.push({ text: value!, split: !q });
          break;
        case ':=':
        case '=': {
          if (missing) {
            if (/^[0-9@*#?$!-]/.test(p.name)) throw new ExpansionError(`$${p.name}: cannot assign in this way`);
            const v = this.string(p.arg!);
            this.v.set(p.name, v);
            cur.push({ text: v, split: !q });
          } else cur.push({ text: value!, split: !q });
          break;
        }
        case ':+':
        case '+':
          if (!missing) this.pieces(p.arg!.parts, out, q);
          break;
        case ':?':
        case '?':
          if (missing) {
            const msg = this.string(p.arg!);
            throw new ExpansionError(`${p.name}: ${msg || (colon ? 'parameter null or not set' : 'parameter not set')}`);
          }
          cur.push({ text: value!, split: !q });
          break;
        default: {
          if (unset && this.v.nounset) throw new ExpansionError(`${p.name}: unbound variable`);
          const pat = patternSource(this.patternParts(p.arg!.parts));
          cur.push({ text: removePattern(value ?? '', p.op, pat), split: !q });
        }
      }
    }
  }

  /** the parts of a pattern after parameter expansion, keeping which text was quoted */
  private patternParts(parts: WordPart[]): { s: string; q: boolean }[] {
    const out: { s: string; q: boolean }[] = [];
    for (const p of parts) {
      if (p.k === 'lit') out.push({ s: p.s, q: p.q });
      else out.push({ s: this.string({ t: 'word', parts: [p], raw: '', line: 0, endLine: 0, col: 0, start: 0, end: 0 }), q: p.q });
    }
    return out;
  }

  /** a word expanded into fields (command arguments), pushed onto `fields` */
  fields(w: Word, fields: string[] = []): string[] {
    if (w instanceof PlainWord && w.raw[0] !== '~') {
      fields.push(w.raw);
      return fields;
    }
    if (w.parts.length === 1) {
      // the common words: one literal, or one unquoted variable without IFS characters
      const p = w.parts[0]!;
      if (p.k === 'lit' && (p.q || (p.s.length && p.s[0] !== '~'))) {
        fields.push(p.s);
        return fields;
      }
      if (p.k === 'param' && !p.op && !p.q && isNameStart(p.name.charCodeAt(0)) && this.v.get('IFS') === undefined) {
        const v = this.v.get(p.name);
        if (v !== undefined && v.length && !hasBlank(v)) {
          fields.push(v);
          return fields;
        }
      }
    }
    return this.split(w, fields);
  }

  /** fields() for any word (its own function: the closures here would cost every call a context) */
  private split(w: Word, fields: string[]): string[] {
    const groups: Piece[][] = [[]];
    this.pieces(w.parts, groups);
    const quotedSomewhere = w.parts.some((p) => (p.k === 'lit' && p.q) || (p.k !== 'lit' && p.q));
    const ifs = this.ifs();
    const white = [...ifs].filter((c) => c === ' ' || c === '\t' || c === '\n').join('');
    const hard = [...ifs].filter((c) => !white.includes(c)).join('');
    const first = fields.length;
    for (const g of groups) {
      let cur: string | undefined;
      const emit = (): void => {
        if (cur !== undefined) fields.push(cur);
        cur = undefined;
      };
      for (const piece of g) {
        if (!piece.split || !ifs.length) {
          cur = (cur ?? '') + piece.text;
          continue;
        }
        let i = 0;
        const t = piece.text;
        while (i < t.length) {
          const c = t[i]!;
          if (white.includes(c)) {
            emit();
            while (i < t.length && white.includes(t[i]!)) i++;
            continue;
          }
          if (hard.includes(c)) {
            fields.push(cur ?? '');
            cur = undefined;
            i++;
            while (i < t.length && white.includes(t[i]!)) i++;
            continue;
          }
          cur = (cur ?? '') + c;
          i++;
        }
      }
      if (cur !== undefined) fields.push(cur);
      else if (g.length && g.every((p) => !p.split) && groups.length > 1) fields.push('');
    }
    if (fields.length === first && quotedSomewhere && !(w.parts.length === 1 && w.parts[0]!.k === 'param' && w.parts[0].name === '@')) fields.push('');
    return fields;
  }

  /** a word expanded into one string (assignments, redirection targets, here-documents) */
  string(w: Word): string {
    const groups: Piece[][] = [[]];
    this.pieces(w.parts, groups);
    return groups.map((g) => g.map((p) => p.text).join('')).join(' ');
  }
}
