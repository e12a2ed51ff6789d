/**
 * The script reader: what the shell grammar of `run` accepts, which line bash would name for each
 * command, how words expand, and which constructs are refused (and where).
 */
import { describe, expect, it } from 'vitest';
import { ScriptError } from '../src/script/errors.js';
import { Expander, ExpansionError, type Variables } from '../src/script/expand.js';
import { Lexer, PlainWord, type Word } from '../src/script/lexer.js';
import { parseScript, type Item, type SimpleCommand } from '../src/script/parser.js';

function cmds(src: string): SimpleCommand[] {
  return parseScript(src).flatMap((i: Item) => (i.kind === 'list' ? [i.list.first, ...i.list.rest.map((r) => r.pipeline)].flatMap((p) => p.cmds) : []));
}

function vars(init: Record<string, string> = {}, positional: string[] = []): Variables {
  const m = new Map(Object.entries(init));
  return { get: (n) => m.get(n), set: (n, v) => void m.set(n, v), positional, arg0: 'fw.sh', status: 0, pid: 42, nounset: false, flags: 'hB' };
}

function expand(src: string, v: Variables = vars()): string[] {
  const [c] = cmds(src);
  const e = new Expander(v);
  return c!.words.flatMap((w) => e.fields(w));
}

function refusal(src: string): { line: number; message: string } {
  try {
    parseScript(src);
  } catch (e) {
    if (e instanceof ScriptError) return { line: e.line, message: e.message };
    throw e;
  }
  throw new Error('no error');
}

describe('reading commands', () => {
  it('splits words, keeps quoted text together, drops comments', () => {
    const [c] = cmds(`iptables -A INPUT -m comment --comment "two words" -j LOG --log-prefix 'x: ' # trailing\n`);
    expect(c!.words.map((w) => w.raw)).toEqual(['iptables', '-A', 'INPUT', '-m', 'comment', '--comment', '"two words"', '-j', 'LOG', '--log-prefix', "'x: '"]);
    expect(expand(`a "b c" 'd "e"' f\\ g "h\\"i" 'j\\k'`)).toEqual(['a', 'b c', 'd "e"', 'f g', 'h"i', 'j\\k']);
  });

  it('joins backslash-newline continuations and reports the line bash names ($LINENO)', () => {
    // bash sets LINENO where it reduces the command: the line on which the token after the first word ends
    const c = cmds('true\niptables -A INPUT \\\n  -p tcp \\\n  -j ACCEPT\nfalse \\\n  arg1 \\\n  arg2 \\\n  arg3\n');
    expect(c.map((x) => [x.startLine, x.line])).toEqual([
      [1, 1],
      [2, 2],
      [5, 6],
    ]);
    expect(c[1]!.words.map((w) => w.raw)).toEqual(['iptables', '-A', 'INPUT', '-p', 'tcp', '-j', 'ACCEPT']);
  });

  it('gives a command ending in a here-document the line of its delimiter, as bash does', () => {
    const c = cmds('cat <<EOF | false\na\nb\nEOF\n');
    expect(c.map((x) => x.line)).toEqual([1, 4]);
  });

  it('reads AND-OR lists, pipelines, ! and ; and keeps directives', () => {
    const items = parseScript('a && b || c; d | e\n! f\n# iptables-sim: host pc1\ng\n');
    expect(items.map((i) => i.kind)).toEqual(['list', 'list', 'list', 'directive', 'list']);
    const first = items[0]!;
    expect(first.kind === 'list' && first.list.rest.map((r) => r.op)).toEqual(['&&', '||']);
    const bang = items[2]!;
    expect(bang.kind === 'list' && bang.list.first.bang).toBe(true);
    expect(items[3]).toMatchObject({ kind: 'directive', text: 'host pc1', line: 3 });
  });

  it('keeps here-document bodies, literal when the delimiter is quoted, tab-stripped with <<-', () => {
    const [c] = cmds("iptables-restore <<'EOF'\n*filter\n-A INPUT -s $NET\nCOMMIT\nEOF\n");
    expect(c!.redirs[0]!.heredoc).toMatchObject({ delim: 'EOF', quoted: true });
    expect(c!.redirs[0]!.heredoc!.body!.raw).toBe('*filter\n-A INPUT -s $NET\nCOMMIT\n');
    const [d] = cmds('cat <<-END\n\t\tx $A\n\tEND\n');
    expect(d!.redirs[0]!.heredoc).toMatchObject({ delim: 'END', quoted: false, stripTabs: true });
    expect(d!.redirs[0]!.heredoc!.body!.raw).toBe('x $A\n');
  });

  it('reads redirections with descriptors', () => {
    const [c] = cmds('iptables -N X 2>/dev/null >&2 2>&1 &>/dev/null < in');
    expect(c!.redirs.map((r) => [r.fd, r.op, r.target?.raw])).toEqual([
      [2, '>', '/dev/null'],
      [undefined, '>&', '2'],
      [2, '>&', '1'],
      [undefined, '&>', '/dev/null'],
      [undefined, '<', 'in'],
    ]);
  });
});

describe('the quick word readers', () => {
  it('read a plain word or a lone $NAME as the general word reader does', () => {
    const shape = (w: Word | undefined) => w && { parts: w.parts, raw: w.raw, line: w.line, endLine: w.endLine, col: w.col, start: w.start, end: w.end };
    const words = ['plain', 'a.b/c ', '10.0.0.1/24;', '-j\n', '~x', 'a\r', 'é', 'x#y', 'a{b', '$IPT', '$IPT ', '$IPT;', '$IPT|x', '$IPT)', '$IPT>x', '$IPT\n', '$IPT#', '$IPT\r', '$IPT-x', '$IPT.x', '$_a9 ', '$a1', '$1', '$9x', '$$', '${IPT}', '$IPT$X', '$IPTé', '$IPT"x"', '$', '$ x'];
    for (const text of words) {
      const quick = new Lexer(text);
      const general = new Lexer(text);
      const t = quick.next();
      expect(t.t).toBe('word');
      expect(shape(t as Word)).toEqual(shape(general.readWord()));
      expect(quick.pos).toBe(general.pos);
    }
  });
});

describe('refused constructs name themselves and their line', () => {
  it.each([
    ['if [ -x /sbin/iptables ]; then\n  iptables -F\nfi\n', 1, 'conditionals'],
    ['iptables -F\nfor i in 1 2; do\n  echo $i\ndone\n', 2, 'loops'],
    ['x\nwhile true; do :; done\n', 2, 'loops'],
    ['case $1 in\n start) ;;\nesac\n', 1, '`case ... esac\' statements'],
    ['a\nb\nstart() {\n  iptables -F\n}\n', 3, 'functions (`start() { ... }\')'],
    ['function stop {\n :\n}\n', 1, 'functions'],
    ['IP=$(hostname -i)\n', 1, 'command substitution (`$(...)\')'],
    ['IP=`hostname -i`\n', 1, 'command substitution'],
    ['N=$((1+2))\n', 1, 'arithmetic expansion'],
    ['echo {1..254}\n', 1, 'brace expansion (`{1..254}\')'],
    ['( iptables -F )\n', 1, 'subshells'],
    ['{ iptables -F; }\n', 1, 'command groups'],
    ['iptables -L &\n', 1, 'background jobs'],
    ['[[ -x /sbin/iptables ]] && echo y\n', 1, 'conditional expressions'],
    ['echo ${IFACE/eth/wlan}\n', 1, 'pattern substitution'],
  ])('%#: %j', (src, line, what) => {
    const e = refusal(src);
    expect(e.line).toBe(line);
    expect(e.message).toContain(what);
    expect(e.message).toContain('iptables-sim run --shell FILE');
  });

  it('reports syntax errors in bash words', () => {
    expect(refusal('iptables -A INPUT ;; x\n').message).toBe("syntax error near unexpected token `;;'");
    expect(refusal('echo "unterminated\n')).toEqual({ line: 1, message: 'unexpected EOF while looking for matching `"\'' });
    expect(refusal('a &&\n').message).toMatch(/syntax error near unexpected token/);
  });
});

describe('expansion', () => {
  it('expands variables, defaults and positional parameters', () => {
    const v = vars({ IPT: '/sbin/iptables', NET: '10.0.0.0/8', EMPTY: '' }, ['eth0']);
    expect(expand('$IPT -s ${NET} -o ${1:-eth1} -i ${2:-ppp0} ${EMPTY:-d1} ${EMPTY-d2} ${UNSET+alt} ${NET:+alt}', v)).toEqual([
      '/sbin/iptables', '-s', '10.0.0.0/8', '-o', 'eth0', '-i', 'ppp0', 'd1', 'alt',
    ]);
    expect(expand('x${EMPTY}y "$EMPTY" $EMPTY', v)).toEqual(['xy', '']);
  });

  it('splits unquoted expansions on IFS, not quoted ones', () => {
    const v = vars({ IPT: 'iptables -w', PORTS: '22  80\t443' });
    expect(expand('$IPT -A "$PORTS" $PORTS', v)).toEqual(['iptables', '-w', '-A', '22  80\t443', '22', '80', '443']);
    expect(expand('"$@" "$*" $#', vars({}, ['a b', 'c']))).toEqual(['a b', 'c', 'a b c', '2']);
  });

  it('assigns with := and fails with :?', () => {
    const v = vars();
    expect(expand('${LAN:=eth1} $LAN', v)).toEqual(['eth1', 'eth1']);
    expect(() => expand('${WAN:?set WAN first}', v)).toThrow(new ExpansionError('WAN: set WAN first'));
  });

  it('removes prefixes and suffixes by pattern, and counts', () => {
    const v = vars({ P: '/usr/local/sbin/iptables', A: '10.0.0.1/24' });
    expect(expand('${P##*/} ${P#*/} ${A%/*} ${A%%.*} ${#A}', v)).toEqual(['iptables', 'usr/local/sbin/iptables', '10.0.0.1', '10', '11']);
  });

  it('reads a pattern inside double quotes as a pattern, quotes within it as quotes (as bash does)', () => {
    const v = vars({ X: 'a b c.d', Y: 'a*b' });
    expect(expand(`"\${X%% *}|\${X##* }|\${X%.*}|\${X%%'c.d'}|\${X%%"c.d"}"`, v)).toEqual(['a|c.d|a b c|a b |a b ']);
    expect(expand(`"\${Y%%\\*b}|\${Y#'a*'}|\${Y%%'*'*}"`, v)).toEqual(['a|b|a']);
    // the other operators keep double quotes' rules: single quotes inside are characters
    expect(expand(`"\${Z:-'t u'}"`, v)).toEqual(["'t u'"]);
  });

  it('expands ~ and leaves glob characters alone', () => {
    expect(expand('~/x "~/y" a* [ab]', vars({ HOME: '/root' }))).toEqual(['/root/x', '~/y', 'a*', '[ab]']);
  });

  it('expands a plain word (read without parts) as the same word spelled with its literal part', () => {
    const [c] = cmds('iptables -A INPUT -s 10.0.0.0/8 ~ ~/x ~root a~ x=~/y a*b [ab] 1:2 %x @a a,b -j --log-prefix !');
    for (const v of [vars({ HOME: '/root' }), vars({ HOME: '/h', IFS: ':,/' })]) {
      const e = new Expander(v);
      for (const w of c!.words) {
        expect(w).toBeInstanceOf(PlainWord);
        const spelled: Word = { t: 'word', parts: [{ k: 'lit', s: w.raw, q: false }], raw: w.raw, line: w.line, endLine: w.endLine, col: w.col, start: w.start, end: w.end };
        expect(w.parts).toEqual(spelled.parts);
        expect(e.fields(w)).toEqual(e.fields(spelled));
        expect(e.string(w)).toBe(e.string(spelled));
      }
    }
  });
});
