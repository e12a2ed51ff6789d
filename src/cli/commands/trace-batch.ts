/**
 * `trace --batch FILE` (FILE or - for standard input): many packets through one host, one JSON
 * object per packet line (JSON Lines).
 *
 * - Each line that is neither empty nor a # comment is one packet in the one-packet trace's own
 *   option syntax: `-i eth0 -p tcp -s 50.60.70.1 --sport 40000 -d 10.96.0.10 --dport 80`, with
 *   -i -p -s -d --sport --dport --tcp-flags --icmp-type --mark --len --ttl (long forms, `--opt=v`
 *   and `-dADDR` as commander takes them; simple shell quotes). Same defaults: -p tcp,
 *   --sport 40000, a SYN.
 * - Each packet is classified against the lab as it is when the batch starts, independently of the
 *   others: the first packet of its own connection, no conntrack entry carried from one line to
 *   the next; the lab is not changed (counters, conntrack, nth counters, limit/quota/recent state
 *   and the generator are not saved), as with `trace --all-paths`. statistic random draws (and
 *   random NAT ports) come from the lab's seeded generator, started for each line at a state made
 *   of its seed and the line's number (engine/batch.ts lineState()): the same lab and file give the
 *   same output, and a line's draws do not depend on the lines before it; `--seed N` seeds with N.
 * - Out, per packet: {"line", "outcome" (deliver | transmit | drop | error: the one-packet trace's),
 *   "explanation" (its sentence), "proto", "src", "sport", "dst", "dport" (as the packet leaves or
 *   stops, after NAT), "out" and "nexthop" (transmit), "reason" (drop, error), "errno" (error),
 *   "reject" (the answer a REJECT sent), "rules": the rules that decided, in path order:
 *   {"table", "chain", "rule" (its number), "target"} for each base chain run a rule ended (a
 *   verdict or a NAT target; a policy that decides shows in "reason")}.
 * - A line that cannot be traced gives {"line", "error"} with the message the one-packet trace
 *   prints (without the program name), and the batch goes on. Exit status 0 when every packet
 *   line was classified, 1 when any gave an error (like `check`, so that a script notices bad
 *   lines without parsing the output); errors about the batch itself (FILE unreadable, unknown
 *   host, bad --seed) stop it with the usual message and status.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { resolve } from 'node:path';
import { HostBatch, type BatchResult } from '../../engine/batch.js';
import type { HostOutcome } from '../../engine/host.js';
import type { PacketSpec } from '../../engine/simulate.js';
import { SimError } from '../../errors.js';
import { ipToString } from '../../net/ipv4.js';
import { parseUint } from '../../util/strtoul.js';
import { hostOf, readOnly, type CliContext } from '../context.js';
import { packetSpec, type TraceOptions } from './trace.js';
import { ResultWriter, str } from './trace-batch-out.js';

/** the per-packet options of `trace`, with commander's flags text (its "argument missing" message names them) */
const PACKET_OPTIONS: { short?: string; long: string; key: keyof TraceOptions; flags: string }[] = [
  { short: '-i', long: '--in-interface', key: 'inInterface', flags: '-i, --in-interface <iface>' },
  { short: '-p', long: '--protocol', key: 'protocol', flags: '-p, --protocol <proto>' },
  { short: '-s', long: '--source', key: 'source', flags: '-s, --source <addr>' },
  { short: '-d', long: '--destination', key: 'destination', flags: '-d, --destination <addr>' },
  { long: '--sport', key: 'sport', flags: '--sport <port>' },
  { long: '--dport', key: 'dport', flags: '--dport <port>' },
  { long: '--tcp-flags', key: 'tcpFlags', flags: '--tcp-flags <flags>' },
  { long: '--icmp-type', key: 'icmpType', flags: '--icmp-type <type>' },
  { long: '--mark', key: 'mark', flags: '--mark <mark>' },
  { long: '--len', key: 'len', flags: '--len <bytes>' },
  { long: '--ttl', key: 'ttl', flags: '--ttl <ttl>' },
];
const BY_NAME = new Map(PACKET_OPTIONS.flatMap((o) => (o.short ? [[o.short, o] as const, [o.long, o] as const] : [[o.long, o] as const])));

/** trace's options that are about the whole command, not one packet */
const COMMAND_OPTIONS = ['--format', '--seed', '--from', '--all-paths', '--brief', '--diagram', '--no-diagram', '--hooks', '--batch', '--help', '-h'];

/** a line cut into words as a shell would for plain words and '...' "..." \\ quoting */
export function splitWords(line: string): string[] {
  if (!/['"\\]/.test(line)) {
    const words: string[] = [];
    let start = -1;
    for (let i = 0; i <= line.length; i++) {
      const c = i < line.length ? line.charCodeAt(i) : 0x20;
      if (c === 0x20 || c === 0x09) {
        if (start >= 0) words.push(line.slice(start, i));
        start = -1;
      } else if (start < 0) start = i;
    }
    return words;
  }
  const words: string[] = [];
  let w = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === ' ' || c === '\t') {
      if (inWord) words.push(w);
      w = '';
      inWord = false;
    } else if (c === "'" || c === '"') {
      const end = line.indexOf(c, i + 1);
      if (end < 0) throw new SimError(`unterminated ${c} quote`, 2);
      w += line.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '\\' && i + 1 < line.length) {
      w += line[++i];
      inWord = true;
    } else {
      w += c;
      inWord = true;
    }
  }
  if (inWord) words.push(w);
  return words;
}

/**
 * One line's words as commander parses `trace`'s options (and with its messages): a value option
 * takes the next word whatever it looks like, `--opt=value` and `-oVALUE` work, the last of a
 * repeated option wins, an unknown option is reported before stray words.
 */
export function parsePacketLine(words: string[]): TraceOptions {
  const o: TraceOptions = { protocol: 'tcp' };
  let extra = 0;
  let unknown: string | undefined;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === '--') {
      extra += words.length - i - 1;
      break;
    }
    if (w.length < 2 || w[0] !== '-') {
      extra++;
      continue;
    }
    let name = w;
    let value: string | undefined;
    if (w.startsWith('--')) {
      const eq = w.indexOf('=');
      if (eq > 0) {
        name = w.slice(0, eq);
        value = w.slice(eq + 1);
      }
    } else if (w.length > 2) {
      name = w.slice(0, 2);
      value = w.slice(2);
    }
    const opt = BY_NAME.get(name);
    if (!opt) {
      if (COMMAND_OPTIONS.includes(name)) {
        throw new SimError(`${name} is an option of the whole batch, not of one packet: a --batch line takes -i -p -s -d --sport --dport --tcp-flags --icmp-type --mark --len --ttl`, 2);
      }
      unknown ??= w;
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= words.length) throw new SimError(`option '${opt.flags}' argument missing`, 2);
      value = words[++i]!;
    }
    (o as Record<string, string>)[opt.key] = value;
  }
  if (unknown !== undefined) throw new SimError(`unknown option '${unknown}'`, 2);
  if (extra) throw new SimError(`too many arguments for 'trace'. Expected 0 arguments but got ${extra}.`, 2);
  return o;
}

// fastSpec()'s options
const F_IFACE = 1;
const F_PROTO = 2;
const F_SRC = 3;
const F_DST = 4;
const F_SPORT = 5;
const F_DPORT = 6;

/** the option word line[start, end) is, of those fastSpec() reads; 0 for any other word */
function fastOption(line: string, start: number, end: number): number {
  const n = end - start;
  if (line.charCodeAt(start) !== 0x2d) return 0;
  if (n === 2) {
    switch (line.charCodeAt(start + 1)) {
      case 0x69: // -i
        return F_IFACE;
      case 0x70: // -p
        return F_PROTO;
      case 0x73: // -s
        return F_SRC;
      case 0x64: // -d
        return F_DST;
    }
    return 0;
  }
  // --sport, --dport
  if (n !== 7 || line.charCodeAt(start + 1) !== 0x2d || line.charCodeAt(start + 3) !== 0x70 || line.charCodeAt(start + 4) !== 0x6f || line.charCodeAt(start + 5) !== 0x72 || line.charCodeAt(start + 6) !== 0x74) return 0;
  const c = line.charCodeAt(start + 2);
  return c === 0x73 ? F_SPORT : c === 0x64 ? F_DPORT : 0;
}

/** a port as num() takes it when it is plain decimal (no leading zero, at most 65535); else -1 */
function fastPort(line: string, start: number, end: number): number {
  const n = end - start;
  if (n < 1 || n > 5 || (n > 1 && line.charCodeAt(start) === 0x30)) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = line.charCodeAt(i) - 0x30;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v <= 0xffff ? v : -1;
}

/** dotted() of line[start, end); -1 for what it refuses */
function fastAddr(line: string, start: number, end: number): number {
  let a = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = line.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (++digits > 3) return -1;
      part = part * 10 + c - 48;
    } else if (c === 46 && digits > 0 && dots < 3) {
      if (part > 255) return -1;
      a = a * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else return -1;
  }
  if (dots !== 3 || digits === 0 || part > 255) return -1;
  return a * 256 + part;
}

/** -p tcp, udp or icmp; -1 for any other word */
function fastProto(line: string, start: number, end: number): number {
  const n = end - start;
  const c0 = line.charCodeAt(start);
  if (n === 3) {
    if (c0 === 0x74 && line.charCodeAt(start + 1) === 0x63 && line.charCodeAt(start + 2) === 0x70) return 6;
    if (c0 === 0x75 && line.charCodeAt(start + 1) === 0x64 && line.charCodeAt(start + 2) === 0x70) return 17;
  } else if (n === 4 && c0 === 0x69 && line.charCodeAt(start + 1) === 0x63 && line.charCodeAt(start + 2) === 0x6d && line.charCodeAt(start + 3) === 0x70) return 1;
  return -1;
}

/**
 * packetSpec(parsePacketLine(splitWords(line))) for the lines most batches are made of: plain
 * words, each of -i -p -s -d --sport --dport at most once with a well-formed value (-p tcp, udp or
 * icmp), and nothing that makes packetSpec() refuse the packet. Anything else (quotes, other
 * options, long forms, a value to check or to refuse) returns undefined, and the line goes the
 * general way, which also gives the messages.
 */
export function fastSpec(line: string): PacketSpec | undefined {
  return fastSpecAt(line, 0, line.length);
}

/**
 * fastSpec() of text[from, to), read in place (the batch's lines are not cut out of the file's
 * text first: a cut line is a string that points into the text, and slower to read)
 */
export function fastSpecAt(line: string, from: number, to: number): PacketSpec | undefined {
  let ifStart = -1;
  let ifEnd = -1;
  let proto = -1;
  let src = -1;
  let dst = -1;
  let sport = -1;
  let dport = -1;
  let seen = 0;
  const len = to;
  let i = from;
  for (;;) {
    // the option's word
    let c = 0;
    while (i < len && ((c = line.charCodeAt(i)) === 0x20 || c === 0x09)) i++;
    if (i >= len) break;
    let end = i + 1;
    while (end < len && (c = line.charCodeAt(end)) !== 0x20 && c !== 0x09) end++;
    const opt = fastOption(line, i, end);
    if (!opt || seen & (1 << opt)) return undefined;
    seen |= 1 << opt;
    // its value: the next word, whatever it is
    i = end;
    while (i < len && ((c = line.charCodeAt(i)) === 0x20 || c === 0x09)) i++;
    if (i >= len) return undefined;
    end = i;
    while (end < len && (c = line.charCodeAt(end)) !== 0x20 && c !== 0x09) {
      // quoting: splitWords() would join or cut words differently
      if (c === 0x22 || c === 0x27 || c === 0x5c) return undefined;
      end++;
    }
    switch (opt) {
      case F_IFACE:
        ifStart = i;
        ifEnd = end;
        break;
      case F_PROTO:
        if ((proto = fastProto(line, i, end)) < 0) return undefined;
        break;
      case F_SRC:
        if ((src = fastAddr(line, i, end)) < 0) return undefined;
        break;
      case F_DST:
        if ((dst = fastAddr(line, i, end)) < 0) return undefined;
        break;
      case F_SPORT:
        if ((sport = fastPort(line, i, end)) < 0) return undefined;
        break;
      default:
        if ((dport = fastPort(line, i, end)) < 0) return undefined;
    }
    i = end;
  }
  if (dst < 0) return undefined;
  const iface = ifStart < 0 ? undefined : line.slice(ifStart, ifEnd);
  const source = src < 0 ? undefined : src;
  // packetSpec()'s objects, field for field
  if (proto === 1) {
    if (dport >= 0) return undefined;
    if (sport < 0) return { iface, proto, src: source, dst, mark: undefined, len: undefined, ttl: undefined, icmpType: 8, icmpCode: 0 };
    return { iface, proto, src: source, dst, mark: undefined, len: undefined, ttl: undefined, icmpType: 8, icmpCode: 0, sport };
  }
  if (dport < 0) return undefined;
  if (proto === 17) return { iface, proto, src: source, dst, mark: undefined, len: undefined, ttl: undefined, sport: sport < 0 ? 40000 : sport, dport };
  return { iface, proto: 6, src: source, dst, mark: undefined, len: undefined, ttl: undefined, sport: sport < 0 ? 40000 : sport, dport, tcpFlags: 0x02 };
}

/**
 * The line's JSON object: what the packet became, and which rules decided. Written field by field:
 * JSON.stringify of an object per packet is a good part of a batch's time.
 */
export function resultJson(line: number, r: BatchResult): string {
  const o = r.outcome;
  const p = o.pkt;
  let j = `{"line":${line},"outcome":"${o.kind}","explanation":${str(r.explanation)},"proto":${p.proto},"src":"${ipToString(p.src)}"`;
  if (p.sport !== undefined) j += `,"sport":${p.sport}`;
  j += `,"dst":"${ipToString(p.dst)}"`;
  if (p.dport !== undefined) j += `,"dport":${p.dport}`;
  if (o.kind === 'transmit') j += `,"out":${str(o.dev)},"nexthop":"${ipToString(o.nexthop)}"`;
  else if (o.kind === 'drop') {
    j += `,"reason":${str(o.reason)}`;
    if (r.reject !== undefined) j += `,"reject":${str(r.reject)}`;
  } else if (o.kind === 'error') j += `,"errno":"${o.errno}","reason":${str(o.reason)}`;
  j += ',"rules":[';
  for (let i = 0; i < r.decisions.length; i++) {
    const d = r.decisions[i]!;
    j += `${i ? ',' : ''}{"table":"${d.table}","chain":${str(d.chain)},"rule":${d.rule},"target":${str(d.target)}}`;
  }
  return j + ']}';
}

/** command-line options that describe one packet or one picture have no place beside --batch */
function checkCommandLine(o: TraceOptions): string {
  const format = o.format ?? 'json';
  if (format !== 'json') throw new SimError(`trace: --batch writes JSON lines; --format ${format} is for one packet or one connection`, 2);
  const clash: [unknown, string][] = [
    [o.from, '--from'],
    [o.allPaths, '--all-paths'],
    [o.inInterface, '-i'],
    // commander fills in -p tcp by default: only another protocol shows that -p was given
    [o.protocol !== undefined && o.protocol !== 'tcp' ? o.protocol : undefined, '-p'],
    [o.source, '-s'],
    [o.destination, '-d'],
    [o.sport, '--sport'],
    [o.dport, '--dport'],
    [o.tcpFlags, '--tcp-flags'],
    [o.icmpType, '--icmp-type'],
    [o.mark, '--mark'],
    [o.len, '--len'],
    [o.ttl, '--ttl'],
    [o.brief, '--brief'],
    [o.diagramFile, '--diagram'],
    [o.textDiagram === false ? true : undefined, '--no-diagram'],
    [o.hooks, '--hooks'],
  ];
  for (const [v, name] of clash) {
    if (v !== undefined && v !== false) throw new SimError(`trace: ${name} is not used with --batch (each line of the file describes its packet)`, 2);
  }
  return o.batch!;
}

export async function traceBatch(ctx: CliContext, o: TraceOptions): Promise<number> {
  const file = checkCommandLine(o);
  let seed: number | undefined;
  if (o.seed !== undefined) {
    seed = parseUint(o.seed, 0, 0xffffffff);
    if (seed === undefined) throw new SimError(`trace: bad --seed \`${o.seed}'`, 2);
  }
  let lines: LineBlocks;
  if (file === '-') {
    let text: string;
    try {
      text = await ctx.io.readStdin();
    } catch (e) {
      throw new SimError(`cannot read ${file}: ${(e as Error).message}`, 2);
    }
    lines = new LineBlocks(file, undefined, text);
  } else lines = LineBlocks.open(file, resolve(ctx.io.cwd, file));
  try {
    return batchLines(ctx, lines, seed);
  } finally {
    lines.close();
  }
}

function batchLines(ctx: CliContext, lines: LineBlocks, seed: number | undefined): number {
  return readOnly(ctx, (lab) => {
    const [name] = hostOf(lab, ctx.host);
    const batch = new HostBatch(lab, name, { seed });
    const io = ctx.io;
    const out = new ResultWriter(io.outBytes ? (b) => io.outBytes!(b) : (b) => io.out(Buffer.from(b.buffer, b.byteOffset, b.length).toString('utf8')));
    let failed = false;
    let lineNo = 0;
    let start = 0;
    let text = '';
    for (;;) {
      if (start >= text.length) {
        const next = lines.next();
        if (next === undefined) break;
        text = next;
        start = 0;
      }
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      const from = start;
      start = end + 1;
      lineNo++;
      // a line that starts and ends with a printable ASCII character other than # has nothing to
      // trim and is no comment: read in place (fastSpecAt()); any other goes the general way
      const first = from < end ? text.charCodeAt(from) : 0;
      const last = from < end ? text.charCodeAt(end - 1) : 0;
      const plain = first > 0x20 && first < 0x7f && first !== 0x23 && last > 0x20 && last < 0x7f;
      const spec = plain ? fastSpecAt(text, from, end) : undefined;
      let line = '';
      if (!spec) {
        line = text.slice(from, end).trim();
        if (line === '' || line[0] === '#') continue;
      }
      let outcome: HostOutcome;
      try {
        outcome = batch.run(spec ?? packetSpec(parsePacketLine(splitWords(line))), lineNo);
      } catch (e) {
        if (!(e instanceof SimError)) throw e;
        failed = true;
        out.line(JSON.stringify({ line: lineNo, error: e.message }));
        continue;
      }
      out.result(lineNo, name, outcome, batch.lastDecisions(), batch.lastReject());
    }
    out.flush();
    return failed ? 1 : 0;
  });
}

/** how much of a packet file is read at a time */
const BLOCK = 1 << 16;

/**
 * A packet file's text, a block of whole lines at a time (the last line of the file may lack its
 * newline): a file is read BLOCK bytes at a time, the lines that straddle a block carried over. A
 * batch's file read whole was one string as big as the file (14 MB for 200,000 packets), whose
 * fresh memory cost more than reading and scanning it; a block of 64 KiB is a string the young
 * generation takes and gives back. Lines are cut at newline bytes, which no UTF-8 sequence holds,
 * so each line decodes as it did from the whole file. Standard input is one block.
 */
export class LineBlocks {
  private buf = Buffer.allocUnsafe(BLOCK);
  /** bytes in buf: the start of a line carried over, then what the last read added */
  private have = 0;
  private eof = false;

  constructor(
    /** the name the user gave, for messages */
    private readonly name: string,
    private fd: number | undefined,
    /** a block read before next() was first called: standard input's whole text, or the file's first block (open()) */
    private first?: string,
  ) {}

  /** the file at `path` opened, its first block read (a file that cannot be read is reported before the lab is read) */
  static open(name: string, path: string): LineBlocks {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw new SimError(`cannot read ${name}: ${(e as Error).message}`, 2);
    }
    const lines = new LineBlocks(name, fd);
    try {
      lines.first = lines.read();
    } catch (e) {
      lines.close();
      throw e;
    }
    return lines;
  }

  /** the next block of whole lines; undefined at the end of the file */
  next(): string | undefined {
    if (this.first !== undefined) {
      const w = this.first;
      this.first = undefined;
      if (w !== '') return w;
    }
    return this.read();
  }

  private read(): string | undefined {
    if (this.fd === undefined) return undefined;
    for (;;) {
      if (this.eof) {
        if (!this.have) return undefined;
        const rest = this.buf.toString('utf8', 0, this.have);
        this.have = 0;
        return rest;
      }
      // a line longer than the buffer: a bigger one
      if (this.have === this.buf.length) {
        const b = Buffer.allocUnsafe(this.buf.length * 2);
        this.buf.copy(b, 0, 0, this.have);
        this.buf = b;
      }
      let got: number;
      try {
        got = readSync(this.fd, this.buf, this.have, this.buf.length - this.have, null);
      } catch (e) {
        throw new SimError(`cannot read ${this.name}: ${(e as Error).message}`, 2);
      }
      if (got === 0) {
        this.eof = true;
        continue;
      }
      this.have += got;
      // (the bytes carried over hold no newline)
      const nl = this.buf.lastIndexOf(0x0a, this.have - 1);
      if (nl < 0) continue;
      const text = this.buf.toString('utf8', 0, nl + 1);
      this.buf.copy(this.buf, 0, nl + 1, this.have);
      this.have -= nl + 1;
      return text;
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
