/**
 * The shell's token reader (bash's read_token and parse_matched_pair, for the part of the
 * language firewall scripts are written in): blanks separate words, quotes and backslashes
 * protect, `$NAME` and `${...}` are kept as expansions to be done when the command runs,
 * operators and redirections are tokens of their own, here-document bodies are read at the end of
 * the line that asked for them. What `run` does not model (command substitution, arithmetic,
 * brace expansion, process substitution) is refused here, at the line it appears on.
 */
import { ScriptError, unsupported } from './errors.js';

export type ParamOp = ':-' | '-' | ':=' | '=' | ':+' | '+' | ':?' | '?' | '#' | '##' | '%' | '%%';

export type WordPart =
  /** literal text; `q` when it came from quotes or a backslash (never split, never a pattern) */
  | { k: 'lit'; s: string; q: boolean }
  /** $name, ${name}, ${name OP word}; `q` when inside double quotes */
  | { k: 'param'; name: string; op?: ParamOp; arg?: Word; q: boolean }
  /** ${#name} */
  | { k: 'len'; name: string; q: boolean };

/** a word; it is also the lexer's token for it */
export interface Word {
  t: 'word';
  parts: WordPart[];
  /** the word as written */
  raw: string;
  /** line where the word starts / ends (1-based), column where it starts (0-based) */
  line: number;
  endLine: number;
  col: number;
  /** offsets in the source */
  start: number;
  end: number;
}

/**
 * A word of ordinary characters only (most words of a script): one literal, unquoted. Its parts
 * are made only if something asks for them; expansion gives its text as it is (unless it starts
 * with `~`).
 */
export class PlainWord implements Word {
  readonly t = 'word';
  private lit: WordPart[] | undefined;

  constructor(
    readonly raw: string,
    readonly line: number,
    readonly col: number,
    readonly start: number,
    readonly end: number,
  ) {}

  get endLine(): number {
    return this.line;
  }

  get parts(): WordPart[] {
    return (this.lit ??= [{ k: 'lit', s: this.raw, q: false }]);
  }
}

export interface HereDoc {
  delim: string;
  /** the delimiter was quoted: the body is taken literally */
  quoted: boolean;
  stripTabs: boolean;
  /** filled when the end of the line is reached */
  body?: Word;
}

export type Token =
  | Word
  /** && || ; ;; & | |& ( ) and 'nl' (a newline) */
  | { t: 'op'; op: string; line: number; endLine: number; col: number; start: number; end: number }
  | {
      t: 'redir';
      op: string;
      fd?: number;
      line: number;
      endLine: number;
      col: number;
      start: number;
      end: number;
      heredoc?: HereDoc;
    }
  /** a `# iptables-sim: ...` comment on a line of its own */
  | { t: 'directive'; text: string; line: number; endLine: number; col: number; start: number; end: number }
  | { t: 'eof'; line: number; endLine: number; col: number; start: number; end: number };

const META = new Set([' ', '\t', '\n', ';', '&', '|', '<', '>', '(', ')']);
const SPECIAL_PARAMS = new Set(['@', '*', '#', '?', '-', '$', '!', '0']);

export const DIRECTIVE = /^#\s*iptables-sim:\s*(.*?)\s*$/;

/** characters with no meaning to the word reader (sticky: matched at the reader's position) */
const PLAIN_RUN = /[^ \t\n;&|<>()'"\\$`#]+/y;
const PLAIN_RUN_BRACED = /[^\n}'"\\$`]+/y;
const PLAIN_RUN_DQ_BRACED = /[^\n}"\\$`]+/y;
const DQ_RUN = /[^\n"\\$`]+/y;
/** ASCII characters that mean nothing to the word reader (no quoting, expansion, brace or comment) */
const PLAIN = new Uint8Array(128);
/** characters a plain word can end before: blanks and operators */
const ENDS_WORD = new Uint8Array(128);
for (let i = 33; i < 127; i++) if (!`;&|<>()'"\\$\`#{}`.includes(String.fromCharCode(i))) PLAIN[i] = 1;
for (const ch of ' \t\n;&|<>()') ENDS_WORD[ch.charCodeAt(0)] = 1;
/** characters a token other than a word can start with */
const OPERATOR_START = new Uint8Array(128);
for (const ch of ';&|()<>') OPERATOR_START[ch.charCodeAt(0)] = 1;

/** a character a variable name can start with (a letter or _); `code` is a UTF-16 code unit */
export function isNameStart(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || code === 95;
}

/** where the name characters (letters, digits, _) from `at` on end */
function nameEnd(s: string, at: number): number {
  let e = at;
  for (let c = s.charCodeAt(e); isNameStart(c) || (c >= 48 && c <= 57); c = s.charCodeAt(++e));
  return e;
}

export class Lexer {
  pos = 0;
  line = 1;
  private lineStart = 0;
  private pending: HereDoc[] = [];
  /** the last token was a newline or the start (a directive comment may follow) */
  private atLineStart = true;

  constructor(readonly src: string) {}

  private col(at = this.pos): number {
    return at - this.lineStart;
  }

  private eofError(what: string, line: number, col: number): ScriptError {
    const e = new ScriptError(`unexpected EOF while looking for matching \`${what}'`, line, col);
    (e as ScriptError & { incomplete?: boolean }).incomplete = true;
    return e;
  }

  private newline(): void {
    this.line++;
    this.lineStart = this.pos;
  }

  /** skips blanks, backslash-newlines and comments; reports a directive comment */
  private skip(): Token | undefined {
    const s = this.src;
    for (;;) {
      const c = s[this.pos];
      // a carriage return is an ordinary character to bash (a CRLF script passes "-F\r" along)
      if (c === ' ' || c === '\t') this.pos++;
      else if (c === '\\' && s[this.pos + 1] === '\n') {
        this.pos += 2;
        this.newline();
      } else if (c === '#') {
        const start = this.pos;
        let end = s.indexOf('\n', this.pos);
        if (end < 0) end = s.length;
        const text = s.slice(start, end);
        const lineOnly = this.atLineStart && /^[ \t]*$/.test(s.slice(this.lineStart, start));
        const col = this.col(start);
        this.pos = end;
        if (lineOnly && DIRECTIVE.test(text)) {
          return { t: 'directive', text: DIRECTIVE.exec(text)![1]!, line: this.line, endLine: this.line, col, start, end };
        }
      } else return undefined;
    }
  }

  next(): Token {
    const directive = this.skip();
    if (directive) return directive;
    const s = this.src;
    const start = this.pos;
    const line = this.line;
    const col = this.col();
    const c = s[this.pos];
    if (c === undefined) {
      if (this.pending.length) throw this.eofError(this.pending[0]!.delim, line, col);
      return { t: 'eof', line, endLine: line, col, start, end: start };
    }
    if (c === '\n') {
      this.pos++;
      this.newline();
      let endLine = line;
      if (this.pending.length) {
        this.readHereDocs();
        endLine = this.line - 1;
      }
      this.atLineStart = true;
      return { t: 'op', op: 'nl', line, endLine, col, start, end: this.pos };
    }
    this.atLineStart = false;
    const code = s.charCodeAt(start);
    if ((code < 128 && OPERATOR_START[code] === 1) || (code >= 48 && code <= 57 && this.fdRedirection())) return this.operator(c, line, col);
    const w = (code === 36 /* $ */ ? this.paramWord() : this.plainWord()) ?? this.readWord();
    if (!w) throw new ScriptError(`syntax error near unexpected token \`${c}'`, line, col);
    return w;
  }

  /** digits at pos are a file descriptor number written right before a redirection (`2>`) */
  private fdRedirection(): boolean {
    const s = this.src;
    let e = this.pos;
    while (e < this.pos + 11 && s.charCodeAt(e) >= 48 && s.charCodeAt(e) <= 57) e++;
    return s[e] === '<' || s[e] === '>';
  }

  private op(o: string, line: number, col: number): Token {
    const start = this.pos;
    this.pos += o.length;
    return { t: 'op', op: o, line, endLine: line, col, start, end: this.pos };
  }

  /** an operator or a redirection at pos (its first character is c) */
  private operator(c: string, line: number, col: number): Token {
    const s = this.src;
    const start = this.pos;
    if (c === ';' || c === '&' || c === '|') {
      const two = s.slice(this.pos, this.pos + 2);
      if (two === ';;' && s[this.pos + 2] === '&') return this.op(';;&', line, col);
      if (two === '&&' || two === '||' || two === ';;' || two === ';&' || two === '|&') return this.op(two, line, col);
    }
    if (c === ';' || c === '|' || c === ')') return this.op(c, line, col);
    if (c === '(') {
      if (s[this.pos + 1] === '(') throw unsupported('arithmetic commands (`(( ... ))\')', line, col, 2);
      return this.op(c, line, col);
    }
    // redirections, with an optional file descriptor number written right before them
    const m = /^(\d*)(&>>|&>|<<<|<<-|<<|>>|>&|<&|<>|>\||<|>)/.exec(s.slice(this.pos, this.pos + 16));
    if (m && (m[1] === '' || !m[2]!.startsWith('&'))) {
      if ((m[2] === '<' || m[2] === '>') && s[this.pos + m[0].length] === '(') {
        throw unsupported('process substitution (`<(...)\')', line, col, m[0].length + 1);
      }
      this.pos += m[0].length;
      const tok: Token = { t: 'redir', op: m[2]!, line, endLine: line, col, start, end: this.pos };
      if (m[1] !== '') tok.fd = Number(m[1]);
      if (m[2] === '<<' || m[2] === '<<-') {
        this.skipBlanks();
        const dw = this.readWord();
        if (!dw) throw new ScriptError('syntax error near unexpected token `newline\'', this.line, this.col());
        const quoted = dw.parts.some((p) => p.k !== 'lit' || p.q) || /['"\\]/.test(dw.raw);
        const delim = dw.raw.replace(/\\(.)/g, '$1').replace(/["']/g, '');
        tok.heredoc = { delim, quoted, stripTabs: m[2] === '<<-' };
        tok.end = this.pos;
        this.pending.push(tok.heredoc);
      }
      return tok;
    }
    return this.op('&', line, col);
  }

  private skipBlanks(): void {
    while (this.src[this.pos] === ' ' || this.src[this.pos] === '\t') this.pos++;
  }

  /** reads every here-document body owed by the line just ended */
  private readHereDocs(): void {
    const s = this.src;
    for (const hd of this.pending) {
      const bodyLine = this.line;
      const bodyStart = this.pos;
      let text = '';
      for (;;) {
        if (this.pos >= s.length) {
          // bash warns and takes the body up to the end of the file; a script cut short is an error here
          throw this.eofError(hd.delim, bodyLine, 0);
        }
        let end = s.indexOf('\n', this.pos);
        const last = end < 0;
        if (last) end = s.length;
        let l = s.slice(this.pos, end);
        this.pos = last ? end : end + 1;
        if (!last) this.newline();
        else this.lineStart = this.pos;
        if (hd.stripTabs) l = l.replace(/^\t+/, '');
        if (l === hd.delim) break;
        text += l + '\n';
      }
      hd.body = hd.quoted
        ? { t: 'word', parts: [{ k: 'lit', s: text, q: true }], raw: text, line: bodyLine, endLine: this.line, col: 0, start: bodyStart, end: this.pos }
        : this.expandableText(text, bodyLine, bodyStart);
    }
    this.pending = [];
  }

  /** a here-document body with expansions: like double quotes, but `"` is an ordinary character */
  private expandableText(text: string, line: number, start: number): Word {
    const sub = new Lexer(text);
    sub.line = line;
    const parts: WordPart[] = [];
    let lit = '';
    const flush = (): void => {
      if (lit) parts.push({ k: 'lit', s: lit, q: true });
      lit = '';
    };
    while (sub.pos < text.length) {
      const c = text[sub.pos]!;
      if (c === '\\' && '$`\\\n'.includes(text[sub.pos + 1] ?? '')) {
        if (text[sub.pos + 1] !== '\n') lit += text[sub.pos + 1];
        else sub.newline();
        sub.pos += 2;
      } else if (c === '$') {
        const p = sub.readDollar(true);
        if (p.k === 'lit') lit += p.s;
        else {
          flush();
          parts.push(p);
        }
      } else if (c === '`') {
        throw unsupported('command substitution (`` `...` ``)', sub.line, sub.col());
      } else {
        if (c === '\n') sub.newline();
        lit += c;
        sub.pos++;
      }
    }
    flush();
    return { t: 'word', parts, raw: text, line, endLine: sub.line, col: 0, start, end: start + text.length };
  }

  /** most words are one run of ordinary characters (no quoting, no expansion): read those quickly */
  private plainWord(): PlainWord | undefined {
    const s = this.src;
    const start = this.pos;
    const n = s.length;
    let end = start;
    let code = 0;
    while (end < n && (code = s.charCodeAt(end)) < 128 && PLAIN[code] === 1) end++;
    // the word must end at a blank, an operator or the end: anything else needs the full reader
    if (end === start || (end < n && !(code < 128 && ENDS_WORD[code] === 1))) return undefined;
    const text = s.slice(start, end);
    this.pos = end;
    return new PlainWord(text, this.line, start - this.lineStart, start, end);
  }

  /** a word that is one `$NAME` and nothing else (as `$IPT`): the word readWord reads, read quickly */
  private paramWord(): Word | undefined {
    const s = this.src;
    const start = this.pos;
    if (!isNameStart(s.charCodeAt(start + 1))) return undefined;
    const end = nameEnd(s, start + 2);
    const code = s.charCodeAt(end);
    if (end < s.length && !(code < 128 && ENDS_WORD[code] === 1)) return undefined;
    this.pos = end;
    return { t: 'word', parts: [{ k: 'param', name: s.slice(start + 1, end), q: false }], raw: s.slice(start, end), line: this.line, endLine: this.line, col: start - this.lineStart, start, end };
  }

  /** reads one word at pos; undefined when there is none (a metacharacter) */
  readWord(stopAt?: string, inDouble = false): Word | undefined {
    const s = this.src;
    const start = this.pos;
    const line = this.line;
    const col = this.col();
    const parts: WordPart[] = [];
    let lit = '';
    let litQ = false;
    /** unquoted text with quoted/expanded pieces as placeholders, to spot brace expansion */
    let shape = '';
    const push = (text: string, q: boolean): void => {
      if (lit && litQ !== q) {
        parts.push({ k: 'lit', s: lit, q: litQ });
        lit = '';
      }
      litQ = q;
      lit += text;
      shape += q ? 'x'.repeat(text.length) : text;
    };
    const plain = stopAt === undefined ? PLAIN_RUN : inDouble ? PLAIN_RUN_DQ_BRACED : PLAIN_RUN_BRACED;
    const flush = (): void => {
      if (lit) parts.push({ k: 'lit', s: lit, q: litQ });
      lit = '';
    };
    for (;;) {
      const c = s[this.pos];
      if (c === undefined) break;
      if (stopAt !== undefined && c === stopAt) break;
      if (stopAt === undefined && META.has(c)) break;
      if (stopAt !== undefined && c === '\n') {
        this.pos++;
        this.newline();
        push('\n', inDouble);
        continue;
      }
      if (c === '\\') {
        const n = s[this.pos + 1];
        if (n === '\n') {
          this.pos += 2;
          this.newline();
          continue;
        }
        if (n === undefined) {
          this.pos++;
          push('\\', false);
          continue;
        }
        this.pos += 2;
        if (inDouble && !'$`"\\}'.includes(n)) push('\\' + n, true);
        else push(n, true);
        continue;
      }
      if (c === "'" && !inDouble) {
        const qline = this.line;
        const qcol = this.col();
        const close = s.indexOf("'", this.pos + 1);
        if (close < 0) throw this.eofError("'", qline, qcol);
        const text = s.slice(this.pos + 1, close);
        for (const ch of text) if (ch === '\n') this.line++;
        if (text.includes('\n')) this.lineStart = this.pos + 1 + text.lastIndexOf('\n') + 1;
        this.pos = close + 1;
        push(text, true);
        if (!text.length) parts.push({ k: 'lit', s: '', q: true });
        continue;
      }
      if (c === '"') {
        const qline = this.line;
        const qcol = this.col();
        this.pos++;
        flush();
        const before = parts.length;
        this.readDouble(parts, qline, qcol);
        if (parts.length === before) parts.push({ k: 'lit', s: '', q: true });
        shape += 'x';
        continue;
      }
      if (c === '`') throw unsupported('command substitution (`` `...` ``)', this.line, this.col());
      if (c === '$') {
        const p = this.readDollar(inDouble);
        if (p.k === 'lit') push(p.s, p.q);
        else {
          flush();
          parts.push(p);
          shape += 'x';
        }
        continue;
      }
      if (stopAt === undefined && c === '#' && this.pos === start) break;
      // a run of ordinary characters at once
      plain.lastIndex = this.pos;
      const run = plain.exec(s);
      if (run) {
        this.pos += run[0].length;
        push(run[0], inDouble);
        continue;
      }
      this.pos++;
      push(c, inDouble);
    }
    flush();
    if (this.pos === start) return undefined;
    if (stopAt === undefined && shape.includes('{')) {
      const brace = /\{[^{}\s]*(,|\.\.)[^{}\s]*\}/.exec(shape);
      if (brace && !/^[A-Za-z_][A-Za-z0-9_]*=/.test(shape.slice(0, brace.index))) {
        throw unsupported(`brace expansion (\`${brace[0]}')`, line, col + brace.index, brace[0].length);
      }
    }
    return { t: 'word', parts, raw: s.slice(start, this.pos), line, endLine: this.line, col, start, end: this.pos };
  }

  /** the inside of "...": pos is after the opening quote */
  private readDouble(parts: WordPart[], qline: number, qcol: number): void {
    const s = this.src;
    let lit = '';
    const flush = (): void => {
      if (lit) parts.push({ k: 'lit', s: lit, q: true });
      lit = '';
    };
    for (;;) {
      const c = s[this.pos];
      if (c === undefined) throw this.eofError('"', qline, qcol);
      if (c === '"') {
        this.pos++;
        break;
      }
      if (c === '\\') {
        const n = s[this.pos + 1];
        if (n === '\n') {
          this.pos += 2;
          this.newline();
          continue;
        }
        if (n !== undefined && '$`"\\'.includes(n)) {
          lit += n;
          this.pos += 2;
          continue;
        }
        lit += '\\';
        this.pos++;
        continue;
      }
      if (c === '`') throw unsupported('command substitution (`` `...` ``)', this.line, this.col());
      if (c === '$') {
        const p = this.readDollar(true);
        if (p.k === 'lit') lit += p.s;
        else {
          flush();
          parts.push(p);
        }
        continue;
      }
      if (c === '\n') {
        this.pos++;
        this.newline();
        lit += '\n';
        continue;
      }
      DQ_RUN.lastIndex = this.pos;
      const run = DQ_RUN.exec(s);
      if (run) {
        lit += run[0];
        this.pos += run[0].length;
        continue;
      }
      lit += c;
      this.pos++;
    }
    flush();
  }

  /** a `$` at pos: an expansion, or a literal `$` */
  readDollar(inDouble: boolean): WordPart {
    const s = this.src;
    const line = this.line;
    const col = this.col();
    const n = s[this.pos + 1];
    if (n === '(') {
      if (s[this.pos + 2] === '(') throw unsupported('arithmetic expansion (`$((...))\')', line, col, 3);
      throw unsupported('command substitution (`$(...)\')', line, col, 2);
    }
    if (n === '[') throw unsupported('arithmetic expansion (`$[...]\')', line, col, 2);
    if (n === "'" && !inDouble) {
      this.pos += 2;
      return { k: 'lit', s: this.readAnsiC(line, col), q: true };
    }
    if (n === '"' && !inDouble) {
      // $"..." (locale translation) is "..." when no catalogue applies
      this.pos++;
      return { k: 'lit', s: '', q: false };
    }
    if (n === '{') return this.readBraced(inDouble, line, col);
    if (isNameStart(s.charCodeAt(this.pos + 1))) {
      const e = nameEnd(s, this.pos + 2);
      const name = s.slice(this.pos + 1, e);
      this.pos = e;
      return { k: 'param', name, q: inDouble };
    }
    if (n !== undefined && (/[0-9]/.test(n) || SPECIAL_PARAMS.has(n))) {
      this.pos += 2;
      return { k: 'param', name: n, q: inDouble };
    }
    this.pos++;
    return { k: 'lit', s: '$', q: inDouble };
  }

  private readBraced(inDouble: boolean, line: number, col: number): WordPart {
    const s = this.src;
    this.pos += 2;
    let len = false;
    if (s[this.pos] === '#' && s[this.pos + 1] !== '}') {
      len = true;
      this.pos++;
    }
    let name: string;
    if (isNameStart(s.charCodeAt(this.pos))) {
      const e = nameEnd(s, this.pos + 1);
      name = s.slice(this.pos, e);
      this.pos = e;
    } else if (/[0-9]/.test(s[this.pos] ?? '')) {
      let e = this.pos;
      while (e < s.length && /[0-9]/.test(s[e]!)) e++;
      name = s.slice(this.pos, e);
      this.pos = e;
    } else if (SPECIAL_PARAMS.has(s[this.pos] ?? '')) {
      name = s[this.pos]!;
      this.pos++;
    } else {
      if (s[this.pos] === '!') throw unsupported('indirect expansion (`${!name}\')', line, col, 3);
      throw new ScriptError(`\${${s.slice(this.pos, s.indexOf('}', this.pos) < 0 ? this.pos + 1 : s.indexOf('}', this.pos))}}: bad substitution`, line, col, 1);
    }
    if (len) {
      if (s[this.pos] !== '}') throw new ScriptError(`\${#${name}...}: bad substitution`, line, col);
      this.pos++;
      return { k: 'len', name, q: inDouble };
    }
    if (s[this.pos] === '}') {
      this.pos++;
      return { k: 'param', name, q: inDouble };
    }
    const m = /^(:-|:=|:\+|:\?|-|=|\+|\?|##|#|%%|%)/.exec(s.slice(this.pos, this.pos + 2));
    if (!m) {
      if (s[this.pos] === undefined) throw this.eofError('}', line, col);
      const what = s[this.pos] === '/' ? 'pattern substitution (`${name/pattern/string}\')' : s[this.pos] === ':' ? 'substrings (`${name:offset:length}\')' : s[this.pos] === '^' || s[this.pos] === ',' ? 'case modification (`${name^}\')' : undefined;
      if (what) throw unsupported(what, line, col, 2);
      throw new ScriptError(`\${${name}${s[this.pos]}...}: bad substitution`, line, col);
    }
    this.pos += m[1]!.length;
    const argStart = this.pos;
    // a pattern (# ## % %%) is read as outside double quotes even inside them: "${x%% *}" removes
    // everything from the first space, quotes inside the braces still quote
    const pattern = m[1]!.startsWith('#') || m[1]!.startsWith('%');
    const arg = this.readWord('}', inDouble && !pattern) ?? { t: 'word', parts: [], raw: '', line: this.line, endLine: this.line, col: this.col(), start: argStart, end: argStart };
    if (s[this.pos] !== '}') throw this.eofError('}', line, col);
    this.pos++;
    return { k: 'param', name, op: m[1] as ParamOp, arg, q: inDouble };
  }

  /** $'...': bash's ANSI-C quoting */
  private readAnsiC(line: number, col: number): string {
    const s = this.src;
    let out = '';
    for (;;) {
      const c = s[this.pos];
      if (c === undefined) throw this.eofError("'", line, col);
      this.pos++;
      if (c === "'") return out;
      if (c === '\n') this.newline();
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = s[this.pos++];
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', e: '\x1b', E: '\x1b', f: '\f', v: '\v', '\\': '\\', "'": "'", '"': '"', '?': '?' };
      if (e !== undefined && simple[e] !== undefined) out += simple[e];
      else if (e !== undefined && /[0-7]/.test(e)) {
        let digits = e;
        while (digits.length < 3 && /[0-7]/.test(s[this.pos] ?? '')) digits += s[this.pos++];
        out += String.fromCharCode(parseInt(digits, 8) & 0xff);
      } else if (e === 'x') {
        let digits = '';
        while (digits.length < 2 && /[0-9a-fA-F]/.test(s[this.pos] ?? '')) digits += s[this.pos++];
        out += digits ? String.fromCharCode(parseInt(digits, 16)) : '\\x';
      } else out += '\\' + (e ?? '');
    }
  }
}
