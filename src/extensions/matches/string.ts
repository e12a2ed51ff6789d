import { SimError } from '../../errors.js';
/**
 * string match (libxt_string revision 1, xt_string). Patterns are bytes: command-line text is
 * taken as its UTF-8 encoding, as the C code sees argv.
 */
import { paramProblem } from '../../errors.js';
import type { PacketView } from '../../engine/ext-api.js';
import type { MatchExtension, OptionEntry } from '../types.js';

const XT_STRING_MAX_PATTERN_SIZE = 128;
const XT_STRING_MAX_ALGO_NAME_SIZE = 16;
const UINT16_MAX = 0xffff;

export interface StringData {
  from: number;
  to: number;
  algo: string;
  /** the pattern bytes, hex-encoded */
  pattern: string;
  invert: boolean;
  icase: boolean;
}

const O_FROM = 0;
const O_TO = 1;
const O_ALGO = 2;
const O_ICASE = 3;
const O_STRING = 4;
const O_HEX_STRING = 5;

const opts: OptionEntry[] = [
  { name: 'from', id: O_FROM, type: 'uint16' },
  { name: 'to', id: O_TO, type: 'uint16' },
  { name: 'algo', id: O_ALGO, type: 'string', mandatory: true, size: XT_STRING_MAX_ALGO_NAME_SIZE },
  { name: 'string', id: O_STRING, type: 'string', invert: true, excl: [O_HEX_STRING] },
  { name: 'hex-string', id: O_HEX_STRING, type: 'string', invert: true, excl: [O_STRING] },
  { name: 'icase', id: O_ICASE, type: 'none' },
];

const toHex = (b: number[]): string => b.map((x) => x.toString(16).padStart(2, '0')).join('');
const fromHex = (h: string): number[] => (h.match(/../g) ?? []).map((x) => parseInt(x, 16));
const utf8 = (s: string): number[] => [...Buffer.from(s, 'utf8')];

/** parse_string(): at most 128 bytes, no terminator needed */
function parseString(s: string): number[] {
  const b = utf8(s);
  if (b.length > XT_STRING_MAX_PATTERN_SIZE) throw paramProblem(`STRING too long "${s}"`);
  return b;
}

const isXdigit = (c: number | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(String.fromCharCode(c));

/** parse_hex_string(): text with |hex blocks| and \-escaped literals */
function parseHexString(str: string): number[] {
  const s = utf8(str);
  const slen = s.length;
  if (slen === 0) throw paramProblem('STRING must contain at least one char');
  const at = (k: number): number => (k < slen ? s[k]! : 0);
  const out: number[] = [];
  let i = 0;
  let hex = false;
  let literal = false;
  const BS = 0x5c;
  const BAR = 0x7c;
  const SP = 0x20;
  while (i < slen) {
    if (out.length >= XT_STRING_MAX_PATTERN_SIZE) throw paramProblem(`STRING too long "${str}"`);
    if (s[i] === BS && !hex) {
      literal = true;
    } else if (s[i] === BS) {
      throw paramProblem('Cannot include literals in hex data');
    } else if (s[i] === BAR) {
      if (hex) {
        hex = false;
      } else {
        hex = true;
        // skip blanks right after the opening '|'
        while (at(i + 1) === SP) i++;
      }
      if (i + 1 >= slen) break;
      i++;
    }
    if (literal) {
      if (i + 1 >= slen) throw paramProblem('Bad literal placement at end of string');
      out.push(s[i + 1]!);
      i += 2;
      literal = false;
    } else if (hex) {
      if (i + 1 >= slen) throw paramProblem('Odd number of hex digits');
      if (i + 2 >= slen) throw paramProblem('Invalid hex block');
      if (!isXdigit(s[i])) throw paramProblem(`Invalid hex char '${String.fromCharCode(s[i]!)}'`);
      if (!isXdigit(s[i + 1])) throw paramProblem(`Invalid hex char '${String.fromCharCode(s[i + 1]!)}'`);
      out.push(parseInt(String.fromCharCode(s[i]!, s[i + 1]!), 16));
      i += at(i + 2) === SP ? 3 : 2;
    } else {
      out.push(s[i]!);
      i++;
    }
  }
  return out;
}

/** is_hex_string(): any byte outside isprint() in the C locale, or a trailing backslash */
function needsHex(p: number[]): boolean {
  if (p.some((c) => c < 0x20 || c > 0x7e)) return true;
  // with an empty pattern str[-1] is the last byte of the algo name, always NUL
  return p.length > 0 && p[p.length - 1] === 0x5c;
}

function patternText(p: number[]): string {
  if (needsHex(p)) return ` "|${toHex(p)}|"`;
  let s = ' "';
  for (const c of p) s += (c === 0x22 || c === 0x5c ? '\\' : '') + String.fromCharCode(c);
  return `${s}"`;
}

// ts_fsm tokens (struct ts_fsm_token: u16 type, u8 recur, u8 value)
const TS_FSM_TYPE_MAX = 13;
const TS_FSM_RECUR_MAX = 4;
const TS_FSM_HEAD_IGNORE = 4;

/** fsm_init()'s checks of a token pattern; undefined when valid */
function fsmInvalid(p: number[], icase: boolean): string | undefined {
  const n = p.length / 4;
  if (p.length % 4 || n < 1) return 'xt_string: an fsm pattern is a list of 4-byte ts_fsm tokens';
  if (icase) return 'xt_string: the fsm algorithm does not support --icase';
  for (let i = 0; i < n; i++) {
    const type = p[4 * i]! | (p[4 * i + 1]! << 8);
    const recur = p[4 * i + 2]!;
    if (type > TS_FSM_TYPE_MAX || recur > TS_FSM_RECUR_MAX) return `xt_string: fsm token ${i} has a bad type or recurrence`;
    if (recur === TS_FSM_HEAD_IGNORE && (i !== 0 || i === n - 1)) return 'xt_string: an fsm HEAD_IGNORE token must come first and not alone';
  }
  return undefined;
}

/**
 * The bytes the search sees, from the start of the IP header: the lab knows the payload but not
 * the raw header bytes, so header positions hold no byte (a pattern never matches across them).
 * Header sizes: 20 for IP; TCP 40 on a SYN and 32 otherwise (the options Linux sends, as the tcp
 * match assumes); UDP and ICMP 8.
 */
function packetBytes(pkt: PacketView): (number | undefined)[] {
  let l4 = 0;
  if (pkt.proto === 6) l4 = (pkt.tcpFlags ?? 0) & 0x02 ? 40 : 32;
  else if (pkt.proto === 17 || pkt.proto === 136 || pkt.proto === 1) l4 = 8;
  const head = pkt.fragment ? 20 : 20 + l4;
  const payload = [...(pkt.payload ?? '')].map((c) => c.charCodeAt(0) & 0xff);
  const total = Math.max(pkt.len, head + payload.length);
  const bytes: (number | undefined)[] = new Array(total).fill(undefined);
  payload.forEach((b, k) => (bytes[head + k] = b));
  return bytes;
}

const upper = (c: number): number => (c >= 0x61 && c <= 0x7a ? c - 0x20 : c);

export const string: MatchExtension<StringData> = {
  kind: 'match',
  name: 'string',
  revision: 1,
  // string_help() of libxt_string.c, byte for byte as iptables 1.8.9 prints it
  help:
    'string match options:\n' +
    '--from                       Offset to start searching from\n' +
    '--to                         Offset to stop searching\n' +
    '--algo                       Algorithm\n' +
    '--icase                      Ignore case (default: 0)\n' +
    '[!] --string string          Match a string in a packet\n' +
    '[!] --hex-string string      Match a hex string in a packet\n',
  options: opts,
  // string_init(): search up to offset 65535
  init: () => ({ from: 0, to: UINT16_MAX, algo: '', pattern: '', invert: false, icase: false }),
  parse({ entry, arg, invert, val, data }) {
    switch (entry.id) {
      case O_FROM:
        data.from = val.num!;
        break;
      case O_TO:
        data.to = val.num!;
        break;
      case O_ALGO:
        data.algo = val.str!;
        break;
      case O_STRING:
        data.pattern = toHex(parseString(arg!));
        if (invert) data.invert = true;
        break;
      case O_HEX_STRING:
        data.pattern = toHex(parseHexString(arg!));
        if (invert) data.invert = true;
        break;
      case O_ICASE:
        data.icase = true;
        break;
    }
  },
  finalCheck({ xflags }) {
    if (!(xflags & ((1 << O_STRING) | (1 << O_HEX_STRING)))) {
      throw paramProblem("STRING match: You must specify `--string' or `--hex-string'");
    }
  },
  print(d) {
    let s = ` STRING match ${d.invert ? '!' : ''}${patternText(fromHex(d.pattern))}`;
    s += ` ALGO name ${d.algo}`;
    if (d.from !== 0) s += ` FROM ${d.from}`;
    if (d.to !== UINT16_MAX) s += ` TO ${d.to}`;
    if (d.icase) s += ' ICASE';
    return s;
  },
  save(d) {
    const p = fromHex(d.pattern);
    let s = `${d.invert ? ' !' : ''} ${needsHex(p) ? '--hex-string' : '--string'}${patternText(p)}`;
    s += ` --algo ${d.algo}`;
    if (d.from !== 0) s += ` --from ${d.from}`;
    if (d.to !== UINT16_MAX) s += ` --to ${d.to}`;
    if (d.icase) s += ' --icase';
    return s;
  },
  /**
   * string_mt_check(). An algorithm the kernel does not have is refused with ENOENT, which is
   * reported here as the EINVAL refusal the contract knows.
   */
  kernelCheck(d) {
    if (d.from > d.to) return 'xt_string: --from is beyond --to';
    const p = fromHex(d.pattern);
    // textsearch_prepare() finds no such module: ENOENT
    if (!['bm', 'kmp', 'fsm'].includes(d.algo)) return { errno: 'No such file or directory', why: `xt_string: no text search algorithm "${d.algo}" (bm, kmp, fsm)` };
    // textsearch_prepare() refuses an empty pattern
    if (p.length === 0) return 'xt_string: the pattern is empty';
    if (d.algo === 'fsm') return fsmInvalid(p, d.icase);
    return undefined;
  },
  /**
   * string_mt(): skb_find_text() between --from and --to (offsets from the IP header); the whole
   * pattern must lie before --to. bm and kmp find the same leftmost occurrence; --icase compares
   * ASCII letters without case.
   */
  match(d, pkt) {
    if (d.algo === 'fsm') {
      throw new SimError('cannot trace through a string match with --algo fsm: the ts_fsm token automaton is not modelled', 3);
    }
    const pat = fromHex(d.pattern).map((c) => (d.icase ? upper(c) : c));
    const bytes = packetBytes(pkt);
    const end = Math.min(d.to, bytes.length);
    let found = false;
    for (let start = d.from; !found && start + pat.length <= end; start++) {
      found = pat.every((c, k) => {
        const b = bytes[start + k];
        return b !== undefined && (d.icase ? upper(b) : b) === c;
      });
    }
    return found !== d.invert;
  },
};
