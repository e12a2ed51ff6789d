/**
 * The shell grammar `run` replays (POSIX sh's simple commands, pipelines and AND-OR lists):
 *
 *   program   := { and-or { ';' and-or } [';'] newline }
 *   and-or    := pipeline { ('&&' | '||') newlines pipeline }
 *   pipeline  := ['!'] simple { '|' newlines simple }
 *   simple    := { assignment | redirection } [ word { word | redirection } ]
 *
 * Compound commands (if, for, while, case, functions, groups, subshells) and background jobs are
 * named and refused where they start. Each command keeps bash's $LINENO for it: the line on
 * which the token after its first element ends (where bash's parser reduces the command), so
 * failures are reported on the line bash itself would name.
 */
import { ScriptError, unsupported } from './errors.js';
import { Lexer, type HereDoc, type Token, type Word } from './lexer.js';

export interface Redirect {
  op: string;
  fd?: number;
  /** the file or descriptor word (absent for here-documents) */
  target?: Word;
  heredoc?: HereDoc;
  line: number;
  col: number;
}

export interface Assignment {
  name: string;
  value: Word;
  /** `NAME+=value` */
  append: boolean;
}

export interface SimpleCommand {
  assigns: Assignment[];
  words: Word[];
  redirs: Redirect[];
  /** bash's $LINENO for this command */
  line: number;
  /** line and column where the command starts */
  startLine: number;
  col: number;
  start: number;
  end: number;
}

export interface Pipeline {
  bang: boolean;
  cmds: SimpleCommand[];
}

export interface AndOr {
  first: Pipeline;
  rest: { op: '&&' | '||'; pipeline: Pipeline }[];
}

export type Item = { kind: 'list'; list: AndOr } | { kind: 'directive'; text: string; line: number; col: number };

const RESERVED: Record<string, string> = {
  if: 'conditionals (`if ... fi\')',
  then: 'conditionals (`if ... then ... fi\')',
  elif: 'conditionals (`if ... elif ... fi\')',
  else: 'conditionals (`if ... else ... fi\')',
  fi: 'conditionals (`if ... fi\')',
  for: 'loops (`for ... do ... done\')',
  while: 'loops (`while ... do ... done\')',
  until: 'loops (`until ... do ... done\')',
  select: 'loops (`select ... do ... done\')',
  do: 'loops (`... do ... done\')',
  done: 'loops (`... do ... done\')',
  case: '`case ... esac\' statements',
  esac: '`case ... esac\' statements',
  function: 'functions (`function name { ... }\')',
  '{': 'command groups (`{ ...; }\')',
  '}': 'command groups (`{ ...; }\')',
  '[[': 'conditional expressions (`[[ ... ]]\')',
  ']]': 'conditional expressions (`[[ ... ]]\')',
  time: 'the `time\' keyword',
  coproc: 'coprocesses (`coproc\')',
};

const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)(\+?)=/;

function isPlain(w: Word): boolean {
  return w.parts.length === 1 && w.parts[0]!.k === 'lit' && !w.parts[0]!.q;
}

function tokenText(t: Token): string {
  switch (t.t) {
    case 'word':
      return t.w.raw;
    case 'op':
      return t.op === 'nl' ? 'newline' : t.op;
    case 'redir':
      return (t.fd ?? '') + t.op;
    case 'directive':
      return '#';
    case 'eof':
      return 'EOF';
  }
}

function tokLine(t: Token): number {
  return t.t === 'word' ? t.w.line : t.line;
}

function tokEndLine(t: Token): number {
  return t.t === 'word' ? t.w.endLine : t.endLine;
}

function tokCol(t: Token): number {
  return t.t === 'word' ? t.w.col : t.col;
}

export class Parser {
  private readonly lex: Lexer;
  private la: Token | undefined;

  constructor(src: string) {
    this.lex = new Lexer(src);
  }

  private peek(): Token {
    return (this.la ??= this.lex.next());
  }

  private take(): Token {
    const t = this.peek();
    this.la = undefined;
    return t;
  }

  private syntax(t: Token): ScriptError {
    return new ScriptError(`syntax error near unexpected token \`${tokenText(t)}'`, tokLine(t), tokCol(t), 2, Math.max(1, tokenText(t).length));
  }

  private isOp(t: Token, ...ops: string[]): boolean {
    return t.t === 'op' && ops.includes(t.op);
  }

  private skipNewlines(): void {
    while (this.isOp(this.peek(), 'nl')) this.take();
  }

  /** the next item, or undefined at the end of the script */
  nextItem(): Item | undefined {
    for (;;) {
      const t = this.peek();
      if (t.t === 'eof') return undefined;
      if (this.isOp(t, 'nl', ';')) {
        if (t.t === 'op' && t.op === ';') throw this.syntax(t);
        this.take();
        continue;
      }
      if (t.t === 'directive') {
        this.take();
        return { kind: 'directive', text: t.text, line: t.line, col: t.col };
      }
      const list = this.andOr();
      const end = this.peek();
      if (this.isOp(end, '&')) throw unsupported('background jobs (`&\')', tokLine(end), tokCol(end));
      if (this.isOp(end, ';')) {
        this.take();
      } else if (!this.isOp(end, 'nl') && end.t !== 'eof' && end.t !== 'directive') {
        throw this.syntax(end);
      }
      return { kind: 'list', list };
    }
  }

  private andOr(): AndOr {
    const first = this.pipeline();
    const rest: AndOr['rest'] = [];
    for (;;) {
      const t = this.peek();
      if (t.t === 'op' && (t.op === '&&' || t.op === '||')) {
        this.take();
        this.skipNewlines();
        rest.push({ op: t.op, pipeline: this.pipeline() });
      } else return { first, rest };
    }
  }

  private pipeline(): Pipeline {
    let bang = false;
    const t = this.peek();
    if (t.t === 'word' && isPlain(t.w) && t.w.raw === '!') {
      this.take();
      bang = true;
    }
    const cmds = [this.simple()];
    for (;;) {
      const p = this.peek();
      if (this.isOp(p, '|&')) throw unsupported('`|&\' (stderr into a pipe)', tokLine(p), tokCol(p), 2);
      if (!this.isOp(p, '|')) break;
      this.take();
      this.skipNewlines();
      cmds.push(this.simple());
    }
    return { bang, cmds };
  }

  private simple(): SimpleCommand {
    const first = this.peek();
    const cmd: SimpleCommand = {
      assigns: [],
      words: [],
      redirs: [],
      line: tokLine(first),
      startLine: tokLine(first),
      col: tokCol(first),
      start: first.t === 'word' ? first.w.start : (first as { start: number }).start,
      end: 0,
    };
    let elements = 0;
    const noteLine = (): void => {
      if (++elements === 1) cmd.line = tokEndLine(this.peek());
    };
    for (;;) {
      const t = this.peek();
      if (t.t === 'redir') {
        this.take();
        const r: Redirect = { op: t.op, fd: t.fd, line: t.line, col: t.col };
        if (t.heredoc) r.heredoc = t.heredoc;
        else {
          const w = this.peek();
          if (w.t !== 'word') throw this.syntax(w);
          this.take();
          r.target = w.w;
        }
        if (r.fd !== undefined && r.fd > 2) throw unsupported(`redirections of file descriptor ${r.fd}`, t.line, t.col);
        cmd.redirs.push(r);
        cmd.end = this.lexEnd(r);
        noteLine();
        continue;
      }
      if (t.t !== 'word') break;
      const w = t.w;
      if (cmd.words.length === 0) {
        const m = ASSIGNMENT.exec(w.raw);
        if (m && w.parts[0]?.k === 'lit' && !w.parts[0].q && w.parts[0].s.startsWith(m[0])) {
          this.take();
          cmd.assigns.push({ name: m[1]!, append: m[2] === '+', value: stripPrefix(w, m[0].length) });
          cmd.end = w.end;
          if (this.isOp(this.peek(), '(') && w.raw === m[0]) throw unsupported('arrays (`name=(...)\')', w.line, w.col, w.raw.length + 1);
          noteLine();
          continue;
        }
        if (isPlain(w) && RESERVED[w.raw] !== undefined) throw unsupported(RESERVED[w.raw]!, w.line, w.col, w.raw.length);
        if (isPlain(w) && w.raw === '!') throw this.syntax(t);
        this.take();
        cmd.words.push(w);
        cmd.end = w.end;
        const n = this.peek();
        if (this.isOp(n, '(')) {
          throw unsupported(`functions (\`${w.raw}() { ... }')`, w.line, w.col, w.raw.length + 2);
        }
        noteLine();
        continue;
      }
      this.take();
      cmd.words.push(w);
      cmd.end = w.end;
      continue;
    }
    const t = this.peek();
    if (elements === 0) {
      if (this.isOp(t, '(')) throw unsupported('subshells (`( ... )\')', tokLine(t), tokCol(t));
      throw this.syntax(t);
    }
    if (this.isOp(t, '(')) throw this.syntax(t);
    return cmd;
  }

  private lexEnd(r: Redirect): number {
    return r.target ? r.target.end : this.lex.pos;
  }
}

/** the value part of an assignment word (`NAME=` removed from its first literal) */
function stripPrefix(w: Word, n: number): Word {
  const [head, ...tail] = w.parts;
  const h = head as { k: 'lit'; s: string; q: boolean };
  const parts = h.s.length > n ? [{ ...h, s: h.s.slice(n) }, ...tail] : tail;
  return { ...w, parts, raw: w.raw.slice(n), col: w.col + n, start: w.start + n };
}

/** Parses a whole script (syntax and unsupported constructs are reported before anything runs). */
export function parseScript(src: string): Item[] {
  return [...readItems(src)];
}

/**
 * Reads a script item by item, as bash reads it while it runs (an error is thrown when reached).
 * A replay holds one item at a time: the whole tree of a 10,000-line script costs more in garbage
 * collection than the reading itself.
 */
export function* readItems(src: string): Generator<Item> {
  const p = new Parser(src);
  for (let it = p.nextItem(); it; it = p.nextItem()) yield it;
}
