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

/** (a Map: words such as `toString` are commands, not members of an object's prototype) */
const RESERVED = new Map<string, string>(Object.entries({
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
}));

const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)(\+?)=/;

function isOp(t: Token, op: string): boolean {
  return t.t === 'op' && t.op === op;
}

function isPlain(w: Word): boolean {
  return w.parts.length === 1 && w.parts[0]!.k === 'lit' && !w.parts[0]!.q;
}

function tokenText(t: Token): string {
  switch (t.t) {
    case 'word':
      return t.raw;
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
    return new ScriptError(`syntax error near unexpected token \`${tokenText(t)}'`, t.line, t.col, 2, Math.max(1, tokenText(t).length));
  }

  private skipNewlines(): void {
    while (isOp(this.peek(), 'nl')) this.take();
  }

  /** the next item, or undefined at the end of the script */
  nextItem(): Item | undefined {
    for (;;) {
      const t = this.peek();
      if (t.t === 'eof') return undefined;
      if (isOp(t, ';')) throw this.syntax(t);
      if (isOp(t, 'nl')) {
        this.take();
        continue;
      }
      if (t.t === 'directive') {
        this.take();
        return { kind: 'directive', text: t.text, line: t.line, col: t.col };
      }
      const list = this.andOr();
      const end = this.peek();
      if (isOp(end, '&')) throw unsupported('background jobs (`&\')', end.line, end.col);
      if (isOp(end, ';')) {
        this.take();
      } else if (!isOp(end, 'nl') && end.t !== 'eof' && end.t !== 'directive') {
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
    if (t.t === 'word' && t.raw === '!' && isPlain(t)) {
      this.take();
      bang = true;
    }
    const cmds = [this.simple()];
    for (;;) {
      const p = this.peek();
      if (isOp(p, '|&')) throw unsupported('`|&\' (stderr into a pipe)', p.line, p.col, 2);
      if (!isOp(p, '|')) break;
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
      line: first.line,
      startLine: first.line,
      col: first.col,
      start: first.start,
      end: 0,
    };
    /** $LINENO is where the token after the command's first element ends */
    let lineSet = false;
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
          r.target = w;
        }
        if (r.fd !== undefined && r.fd > 2) throw unsupported(`redirections of file descriptor ${r.fd}`, t.line, t.col);
        cmd.redirs.push(r);
        cmd.end = this.lexEnd(r);
      } else if (t.t !== 'word') break;
      else if (cmd.words.length) {
        this.take();
        cmd.words.push(t);
        cmd.end = t.end;
        continue;
      } else {
        const m = ASSIGNMENT.exec(t.raw);
        if (m && t.parts[0]?.k === 'lit' && !t.parts[0].q && t.parts[0].s.startsWith(m[0])) {
          this.take();
          cmd.assigns.push({ name: m[1]!, append: m[2] === '+', value: stripPrefix(t, m[0].length) });
          cmd.end = t.end;
          if (isOp(this.peek(), '(') && t.raw === m[0]) throw unsupported('arrays (`name=(...)\')', t.line, t.col, t.raw.length + 1);
        } else {
          if (RESERVED.has(t.raw) && isPlain(t)) throw unsupported(RESERVED.get(t.raw)!, t.line, t.col, t.raw.length);
          if (t.raw === '!' && isPlain(t)) throw this.syntax(t);
          this.take();
          cmd.words.push(t);
          cmd.end = t.end;
          if (isOp(this.peek(), '(')) {
            throw unsupported(`functions (\`${t.raw}() { ... }')`, t.line, t.col, t.raw.length + 2);
          }
        }
      }
      if (!lineSet) {
        lineSet = true;
        cmd.line = this.peek().endLine;
      }
    }
    const t = this.peek();
    if (!lineSet) {
      if (isOp(t, '(')) throw unsupported('subshells (`( ... )\')', t.line, t.col);
      throw this.syntax(t);
    }
    if (isOp(t, '(')) throw this.syntax(t);
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
  return { t: 'word', parts, raw: w.raw.slice(n), line: w.line, endLine: w.endLine, col: w.col + n, start: w.start + n, end: w.end };
}

/** Parses a whole script (syntax and unsupported constructs are reported before anything runs). */
export function parseScript(src: string): Item[] {
  const p = new Parser(src);
  const items: Item[] = [];
  for (let it = p.nextItem(); it; it = p.nextItem()) items.push(it);
  return items;
}
