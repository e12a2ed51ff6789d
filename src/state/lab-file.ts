/**
 * The lab file's layout (format version 4): JSON Lines. Line 1 is the lab as JSON with each
 * table's chains listed in columns (below) instead of as objects; each later line is one chain's
 * rules as a JSON array, in the order of the columns, and after the rules of a chain of LAZY_MIN
 * to LAZY_MAX rules its frames line. Line 1 starts with the checksum of the rest of itself.
 *
 *   {"checksum":"crc32:0c3d...","format":"iptables-sim-lab","version":3,...,"tables":{"nat":{
 *     "chains":{"names":"PREROUTING\nINPUT\n...","kinds":"Aaaau...","num":[0,0,1,165,0,...],
 *     "sums":"2fd529b1...","heads":{}},"nextHandle":50017}}...}
 *   [{"matches":[{"name":"comment","data":...}],...,"target":{"kind":"jump","chain":"KUBE-SERVICES"}}]
 *   {"frames":"FwEAAIoCiiwG...","matches":["comment","tcp"],"targets":[]}
 *
 * The columns of a table's chains, one entry per chain in order:
 * - names: the chain's name (the names joined by newlines, or a list when one holds a newline);
 * - kinds: one character: `u` a user-defined chain {name, pkts, bytes, handle?}; `A` `a` `D` `d` a
 *   built-in chain {name, policy, created, pkts, bytes, handle?} with policy ACCEPT (A, a) or DROP
 *   (D, d) and created true (A, D) or false (a, d); `g` any other chain, whose fields (all but its
 *   rules) are heads[index] as an object;
 * - num: five numbers: pkts, bytes, handle (-1: none), the byte length of its rules line (0: no
 *   rules and no line; -1: the rules are in heads[index]), the byte length of its frames line (0: none);
 * - sums: for each chain with lines, the checksum (8 hex digits) of its rules line, or for a long
 *   chain of its frames line;
 * - reach (optional): the table's jump graph, a mark and two characters per chain (../ruleset/jump-graph.ts),
 *   written when the graph is known, so that adding a rule that jumps does not decode every chain to
 *   build it again. Believed only while line 1's checksum holds and every chain's lines are as line
 *   1 says (checked, without decoding, when the graph is first needed); older readers ignore it and
 *   write their tables back without it.
 * A frames line holds, base64 of little-endian 32-bit numbers, for each rule the byte length of its
 * text in the rules line, the checksum of that text, and its frame (../ruleset/lazy-rules.ts); and
 * the names of the match and target extensions the rules use.
 *
 * Why: a kube-proxy-sized lab holds 110,000 rules in 40,000 chains (35 MB), and a command or a
 * trace uses a few of those chains. Reading parses line 1 only (columns parse many times faster
 * than 40,000 objects); a chain's rules are decoded (and their checksum verified) when something
 * first reads them; a trace walking a long chain decodes (and verifies) only the rules whose frame
 * can match the packet; writing copies the lines of chains nobody read byte for byte, and of a long
 * chain only the rules that were decoded are encoded again. Checksums are CRC-32 (zlib's, native):
 * they tell our own writes from edits made by hand, they are not a seal.
 *
 * Appended records. A change to a big lab (1 MiB or more) is appended to the file it was read
 * from, instead of the whole file being written again: the lines of the chains that changed (laid
 * out as above), then a new header line, whose tables' columns say in `runs` where their chains'
 * lines are (for each stretch of chains whose lines follow each other in the file: the index of
 * its first chain with lines, the byte offset of its first line and that line's number), and which
 * ends with its own line number, `"line":N}`. The newest header is the file's last line; lines no
 * header points at any more are dead. A file that would grow past twice what the whole file would
 * be is written whole instead (compacted), as is one that changed on disk since it was read or is
 * not laid out as its header says. A record cut short (a writer stopped by a crash: no header ends
 * the file) is passed over: the last header whose checksum holds is the lab, and the next change
 * writes the file whole. Version 3 files are the same without records; version 3 readers refuse
 * version 4 files (they would take line 1 for the lab).
 *
 * Patches. An appended header gives a table's columns as a patch against an earlier header of the
 * file (the one the table was read from, or the one its patch was against) when only the entries of
 * some chains differ from that header's, and chains were added after its own: `"chains":{"patch":
 * {"base":[AT,END],"chains":[i,...],"kinds":"..","num":[five a chain],"sums":"8 hex a chain with
 * lines","added":{"names":[...],"kinds":"..","num":[...],"sums":".."}},"runs":[...]}`, the chains
 * listed in order, "added" when there are such chains, and a "reach" when it is not the base's. A
 * kube-proxy lab's header is 2 MB of columns, and a trace changes a dozen chains: written whole, it
 * was 2.2 of the 5.8 MB a trace appended. The header a patch is against must be there with its
 * checksum holding, or the file is refused.
 *
 * Counters apart. A long chain's rules whose counters changed and nothing else (a trace counts the
 * rules it matches) keep their text: a table's `counts` column (or its patch's, for the chains it
 * lists) gives their counters instead, `{"<chain index>":[position, pkts, bytes, ...]}`, positions
 * in order. Else the 3 MB rules line and the frames line of a kube-proxy lab's KUBE-SERVICES were
 * appended again by every trace. Past countsMax() rules so counted the chain is written again with
 * the counters in its rules.
 *
 * A header with a patch or counts says version 5 (V5), which version 4 readers refuse as newer
 * (they would take the columns for damaged, or a rule's counters for those of its text).
 *
 * Reading in parts. A big file is read as its parts are needed (LabSource.need): the newest header,
 * then the lines of the chains something reads. Their places come from the header's lengths; a
 * line's newline is looked at when the line is read, and all of them when the whole file is written
 * or the jump graph is checked (settleLayout), so that a file whose lines moved is still found out
 * and read by scanning, as when it is read whole.
 *
 * Why both: a trace or a command on a kube-proxy-sized lab (35 MB, 40,000 chains) reads and changes
 * a dozen chains; reading the whole file, then writing it again (fsync, rename), was half its time.
 *
 * Version 2 files (the same rules lines, but line 1 with each chain as an object whose rules name
 * the line that holds them: {"line":1,"bytes":219,"sum":"5f0e..."}, and FNV-1a checksums:
 * {"checksum":"fnv1a:...) are read the same way; version
 * 1 files (one JSON document, written by iptables-sim 0.1 development builds or by hand) are read
 * whole.
 */
import { setStoredChains, type Chain, type Table } from '../ruleset/tables.js';
import { scanJumps } from './jump-scan.js';
import { jumpsOf, type Rule } from '../ruleset/rule.js';
import { encodeFrame, extensionNames, LAZY_STRIDE, setLazyRulesSource, type LazyRules } from '../ruleset/lazy-rules.js';
import { reachColumn, reachFits, storeReach } from '../ruleset/jump-graph.js';
import { cloneData } from '../util/clone.js';
import { LAB_VERSION, type Lab } from '../net/lab.js';

/** a header line starts with its checksum: CRC-32 in version 3 and 4 files, FNV-1a in version 2 ones */
const SUM_HEAD = '{"checksum":"crc32:';
const V2_SUM_HEAD = '{"checksum":"fnv1a:';
/** `{"checksum":"crc32:<8 hex>",` */
const SUM_LEN = SUM_HEAD.length + 8 + 2;
const NL = 0x0a;
const NEWLINE = Buffer.from('\n');
/** chains with this many rules or more get a frames line (and are walked rule by rule) */
export const LAZY_MIN = 64;
/**
 * ... and at most this many: a chain of a million rules (issue 7's huge restore) is written as one
 * JSON text, as in version 2, without a text and a checksum per rule held at once
 */
export const LAZY_MAX = 200000;
/** the version a header says when a table's columns in it are a patch or have counts (see above) */
const V5 = 5;
/** numbers per chain in a table's `num` column */
const NUM = 5;
/** a checksum in line 1 that is not 8 hex digits: matches no line */
const NO_SUM = -1;
const BIG_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 0;

function fnv1aUpdate(h: number, bytes: Uint8Array, from: number, to: number): number {
  for (let i = from; i < to; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return h;
}

/** FNV-1a (32 bits) of bytes [from, to): the checksums of version 2 files */
function fnv(bytes: Uint8Array, from = 0, to = bytes.length): number {
  return fnv1aUpdate(0x811c9dc5, bytes, from, to) >>> 0;
}

export function fnv1a(bytes: Uint8Array): string {
  return hex(fnv(bytes));
}

/** the CRC-32 tables: [0] the byte-at-a-time one; [k] a byte's remainder k bytes further on (slicing by 4) */
let crcTables: [Int32Array, Int32Array, Int32Array, Int32Array] | undefined;

function makeCrcTables(): [Int32Array, Int32Array, Int32Array, Int32Array] {
  const t: [Int32Array, Int32Array, Int32Array, Int32Array] = [new Int32Array(256), new Int32Array(256), new Int32Array(256), new Int32Array(256)];
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[0][n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[0][n]!;
    for (let k = 1; k < 4; k++) t[k]![n] = c = t[0][c & 0xff]! ^ (c >>> 8);
  }
  return t;
}

/**
 * CRC-32 (IEEE 802.3, as zlib's crc32) in JavaScript: a small lab's checksums, and everything on a
 * Node without zlib.crc32 (before 20.15). They run in a process too young for V8 to have compiled
 * this, where the interpreter's cost is per operation: four bytes at a time (one 32-bit word and
 * four table lookups; little-endian machines) take 2-4 times less than one byte at a time (17 KB:
 * 0.5-1.0 against 1.6-5 ms on first use, 0.13-0.27 against 0.34-0.73 ms after).
 */
function crc32js(bytes: Uint8Array): number {
  // (not destructured: in a young process that allocates an iterator's results on every call)
  const t = (crcTables ??= makeCrcTables());
  const t0 = t[0];
  const t1 = t[1];
  const t2 = t[2];
  const t3 = t[3];
  const n = bytes.length;
  let c = -1;
  let i = 0;
  if (!BIG_ENDIAN) {
    // bytes one by one up to a 4-byte boundary of the buffer, where its words can be read
    for (; i < n && ((bytes.byteOffset + i) & 3) !== 0; i++) c = t0[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
    const words = (n - i) >> 2;
    if (words > 0) {
      const w = new Int32Array(bytes.buffer, bytes.byteOffset + i, words);
      let j = 0;
      for (const e = words - (words & 1); j < e; j += 2) {
        c ^= w[j]!;
        c = t3[c & 0xff]! ^ t2[(c >>> 8) & 0xff]! ^ t1[(c >>> 16) & 0xff]! ^ t0[c >>> 24]!;
        c ^= w[j + 1]!;
        c = t3[c & 0xff]! ^ t2[(c >>> 8) & 0xff]! ^ t1[(c >>> 16) & 0xff]! ^ t0[c >>> 24]!;
      }
      if (j < words) {
        c ^= w[j]!;
        c = t3[c & 0xff]! ^ t2[(c >>> 8) & 0xff]! ^ t1[(c >>> 16) & 0xff]! ^ t0[c >>> 24]!;
      }
      i += words * 4;
    }
  }
  for (; i < n; i++) c = t0[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** zlib's crc32 (Node 20.15 and later), loaded when first needed: commands on a small lab do without */
let zlibCrc32: ((data: Uint8Array) => number) | null | undefined;

function nativeCrc32(): ((data: Uint8Array) => number) | null {
  if (zlibCrc32 === undefined) {
    const load = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
    const zlib = load?.('node:zlib') as { crc32?: (data: Uint8Array) => number } | undefined;
    zlibCrc32 = typeof zlib?.crc32 === 'function' ? zlib.crc32 : null;
  }
  return zlibCrc32;
}

/** CRC-32 of bytes [from, to): the checksums of version 3 files (native: megabytes in a millisecond) */
function crc32(bytes: Uint8Array, from = 0, to = bytes.length): number {
  const b = from === 0 && to === bytes.length ? bytes : bytes.subarray(from, to);
  // a small lab (or a rule) is done in JavaScript sooner than zlib is loaded; once it is (a big
  // lab's line 1), the lines of the chains decoded later take it too (faster from about 100 bytes)
  const native = b.length > 65536 || (zlibCrc32 && b.length >= 128) ? nativeCrc32() : null;
  return native ? native(b) >>> 0 : crc32js(b);
}

export { crc32js as crc32ForTests };

const hex = (h: number): string => h.toString(16).padStart(8, '0');

/** 8 hex digits of `s` from `at` as a number, NO_SUM when they are not */
function sumAt(s: string, at: number): number {
  if (at + 8 > s.length) return NO_SUM;
  let v = 0;
  for (let i = at; i < at + 8; i++) {
    const c = s.charCodeAt(i);
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
    if (d < 0) return NO_SUM;
    v = v * 16 + d;
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// rules still in the file

/** what the reader of one file shares with its chains */
interface Source {
  file: Buffer;
  /** the file's checksum function */
  sum: (bytes: Uint8Array, from?: number, to?: number) => number;
  onEdited: () => void;
  edited: boolean;
  /**
   * undefined: the lines are where line 1 puts them; else where each line after line 1 was found
   * by scanning (line 2 first): a file edited by hand
   */
  scanned: { at: number[]; end: number[] } | undefined;
  /** what the reader says of the file on disk (given back to the writer's check before an append) */
  origin: unknown;
  /** the newest header: its length and line number, and the number of the file's last line */
  headLen: number;
  lastLine: number;
  /** a version 4 file whose lines are where its newest header says, which ends it: it may be appended to */
  appendable: boolean;
  /**
   * Loads bytes [at, end) of the file into `file` (a big file is read as its parts are needed; a
   * file read whole needs nothing). Everything that reads bytes of the file asks for them first.
   */
  need: (at: number, end: number) => void;
  /**
   * The lines were placed by the lengths the header gives, their newlines not looked at yet (a file
   * read in parts); settleLayout() looks at them all
   */
  lazyLayout: boolean;
  /** the tables read from the file, and the chains made from them (placed again if the lines must be found by scanning) */
  dirs: TableDir[];
  pendings: Pending[];
  /**
   * every line was checked by the iptables-sim that wrote the file, which is as it left it (its
   * stamp, see LabSource.checked): the lines need not be read to be believed
   */
  checked: boolean;
}

/** every live line of `src` is as its header says: checked here, or by its writer (src.checked) */
function srcChecked(src: Source): boolean {
  return src.sum === crc32 && !src.edited && !src.scanned && (src.checked || src.dirs.every((d) => d.checked));
}

/** while a lab is encoded: the files read whose lines it copies (or, appended to, leaves where they are) */
let copiedFrom: Set<Source> | undefined;

/** a long chain's rules being read one by one */
interface Lazy {
  api: LazyRules;
  /** byte offset of each rule in the file */
  offsets: Uint32Array;
  /** the frames line's numbers: LAZY_STRIDE per rule, the length and checksum of its text first */
  words: Uint32Array;
  /** the rules decoded so far, by position */
  decoded: Map<number, Rule>;
}

/** a chain's rules, still in the file: the line that holds them, and what line 1 says of it */
class Pending {
  /** the checksums were compared with line 1 */
  verified = false;
  /**
   * rules added to a long chain without decoding it (-A, -I), in the order they were: each at
   * its position in the rules as they were then; or the one rule deleted (-D with a rule: `del` 1)
   */
  inserts: { pos: number; rules: Rule[]; del?: number }[] | undefined = undefined;
  /** check() found every rule of a long chain as its frames line says (the file does not change) */
  rulesChecked = false;
  /** undefined: not tried; null: the frames do not fit the rules (the chain is decoded whole) */
  lazy: Lazy | null | undefined = undefined;
  /** where the rules line is ([at, end); at -1: the file has no such line) */
  at = -1;
  end = -1;
  /** a long chain's frames line (the line after its rules) */
  auxAt = -1;
  auxEnd = -1;
  /** a long chain's rules whose counters are not those in their text (the header's `counts`), by position */
  counts: ReadonlyMap<number, readonly [number, number]> | undefined = undefined;

  constructor(
    readonly src: Source,
    /** the line's number in the file (line 1 is the header) */
    readonly no: number,
    /** its length as line 1 gives it */
    readonly len: number,
    /** the checksum line 1 gives: of the rules line, or for a long chain of its frames line */
    readonly sum: number,
    /** the frames line's length, 0 when the chain has none */
    readonly auxLen: number,
  ) {}

  /** finds its lines among the lines of the file (by number, line 2 first) */
  place(at: readonly number[], end: readonly number[]): void {
    const i = this.no - 2;
    this.at = at[i] ?? -1;
    this.end = end[i] ?? -1;
    if (this.auxLen) {
      this.auxAt = at[i + 1] ?? -1;
      this.auxEnd = end[i + 1] ?? -1;
    }
  }
}

/**
 * A chain read from a file whose rules are not decoded yet (its `rules` is a getter until then).
 * A class, so that it can carry its file position where no copy, listing or JSON of it sees it.
 */
class StoredChain {
  #pending: Pending | undefined;
  constructor(p: Pending) {
    this.#pending = p;
  }
  static pending(c: object): Pending | undefined {
    return #pending in c ? c.#pending : undefined;
  }
  static settle(c: object, rules: Rule[]): void {
    if (#pending in c) c.#pending = undefined;
    // `rules` is the last key (TableDir.chain() defines it last) unless something added a field
    // since: then deleting it and assigning it again keeps the keys' order, and V8 does it by going
    // back to the object's shape before the getter, several times cheaper than redefining the
    // property (a batch settles 40,000 chains); else the property is redefined in place
    let last: string | undefined;
    for (const k in c) last = k;
    if (last === 'rules') {
      delete (c as { rules?: Rule[] }).rules;
      (c as { rules?: Rule[] }).rules = rules;
    } else Object.defineProperty(c, 'rules', { value: rules, writable: true, configurable: true, enumerable: true });
  }
}

const pendingOf = (c: Chain): Pending | undefined => StoredChain.pending(c);

export class LabFileError extends Error {}

/** one descriptor for every chain (no closures per chain: 40,000 chains are made in one read) */
const RULES: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: Chain): Rule[] {
    return decodeRules(this);
  },
  set(this: Chain, v: Rule[]) {
    StoredChain.settle(this, v);
  },
};

/** the frames line's numbers and each rule's offset, or undefined when they do not describe the rules line */
function auxWords(p: Pending): { offsets: Uint32Array; words: Uint32Array; matches: string[]; targets: string[] } | undefined {
  const f = p.src.file;
  let aux: unknown;
  try {
    aux = JSON.parse(f.toString('utf8', p.auxAt, p.auxEnd));
  } catch {
    return undefined;
  }
  const { frames, matches, targets } = (isObj(aux) ? aux : {}) as { frames?: unknown; matches?: unknown; targets?: unknown };
  const names = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
  if (typeof frames !== 'string' || !names(matches) || !names(targets)) return undefined;
  const raw = Buffer.from(frames, 'base64');
  if (raw.length === 0 || raw.length % (4 * LAZY_STRIDE) !== 0) return undefined;
  const words = new Uint32Array(raw.length / 4);
  new Uint8Array(words.buffer).set(raw);
  if (BIG_ENDIAN) Buffer.from(words.buffer).swap32();
  const n = words.length / LAZY_STRIDE;
  const offsets = new Uint32Array(n);
  // `[` rule `,` rule ... `]`, by the lengths (the brackets and commas are looked at when each rule
  // is read, see ruleIntact(): a 3 MB line is not read for the few rules a trace decodes)
  let at = p.at + 1;
  for (let i = 0; i < n; i++) {
    offsets[i] = at;
    at += words[i * LAZY_STRIDE]! + 1;
  }
  return at === p.end ? { offsets, words, matches, targets } : undefined;
}

/** rule `pos` of `p` decoded from its text, given the counters the header has for it */
function counted(p: Pending, pos: number, r: Rule): Rule {
  const c = p.counts?.get(pos);
  if (c && typeof r === 'object' && r !== null) {
    r.pkts = c[0];
    r.bytes = c[1];
  }
  return r;
}

/** the rules the header counts apart are among the chain's `n` */
function countsFit(c: Chain, p: Pending, n: number): void {
  for (const i of p.counts?.keys() ?? []) if (i >= n) throw new LabFileError(`chain ${c.name}: the header counts rule ${i + 1} of its ${n}`);
}

/** an edit was found: the lab is checked in full (once) */
function edited(p: Pending): void {
  srcEdited(p.src);
}

function srcEdited(src: Source): void {
  if (src.edited) return;
  src.edited = true;
  // the full check reads every line: where they are first (an edit may have moved them)
  settleLayout(src);
  src.onEdited();
}

/**
 * The newlines of every chain's lines of a file read in parts, looked at (all of it read): where
 * they are not where the header says, the lines are found by scanning and the lab is checked in
 * full, as for a file read whole.
 */
function settleLayout(src: Source): void {
  if (!src.lazyLayout) return;
  src.lazyLayout = false;
  if (src.dirs.every((d) => d.linesInPlace())) return;
  // (and everything else, to find the lines: lines no header points at any more too)
  src.need(0, src.file.length);
  const nl = src.file.indexOf(NL);
  src.scanned = scanLines(src.file, nl);
  for (const p of src.pendings) p.place(src.scanned.at, src.scanned.end);
  srcEdited(src);
}

/**
 * Compares the lines of a chain with what line 1 says of them, once. A long chain's rules have
 * their checksums in its frames line: those are compared when each rule is decoded.
 */
function verify(c: Chain, p: Pending): void {
  if (p.verified) return;
  p.verified = true;
  const src = p.src;
  if (!src.scanned && p.at >= 0) {
    const last = p.auxLen ? p.auxEnd : p.end;
    // (a long chain's rules line only where it ends: its rules are read one by one, see loadLine())
    if (p.auxLen) {
      src.need(p.end, p.end + 1);
      src.need(p.auxAt, last + 1);
    } else src.need(p.at, last + 1);
    // placed by the header's lengths alone: their newlines are looked at now
    if (src.lazyLayout && (src.file[p.end] !== NL || src.file[last] !== NL)) settleLayout(src);
  }
  if (p.at < 0) throw new LabFileError(`the rules of chain ${c.name} should be on line ${p.no}, which the file does not have`);
  if (p.auxLen && p.auxAt < 0) throw new LabFileError(`the rules of chain ${c.name} should be on line ${p.no + 1}, which the file does not have`);
  if (p.src.edited) return;
  const f = p.src.file;
  const ok = p.auxLen
    ? p.end - p.at === p.len && p.auxEnd - p.auxAt === p.auxLen && p.src.sum(f, p.auxAt, p.auxEnd) === p.sum
    : p.end - p.at === p.len && p.src.sum(f, p.at, p.end) === p.sum;
  if (!ok) edited(p);
}

/**
 * The text of rule `i` of a long chain matches its checksum, and lies between the `[`, commas and
 * `]` that the lengths in the frames line put around it (read now, with the text, if they were not)
 */
function ruleIntact(src: Source, lz: Lazy, i: number): boolean {
  const at = lz.offsets[i]!;
  const end = at + lz.words[i * LAZY_STRIDE]!;
  src.need(at - 1, end + 1);
  const f = src.file;
  return f[at - 1] === (i === 0 ? 0x5b : 0x2c) && f[end] === (i === lz.offsets.length - 1 ? 0x5d : 0x2c) && src.sum(f, at, end) === lz.words[i * LAZY_STRIDE + 1];
}

/** a long chain's rules line, read whole (verify() reads only where it ends) */
function loadLine(p: Pending): void {
  if (p.at >= 0) p.src.need(p.at, p.end + 1);
}

function decodeRules(c: Chain): Rule[] {
  const p = pendingOf(c);
  if (!p) throw new Error(`chain ${c.name}: its rules are neither decoded nor in the file`);
  const rules = parseRules(c, p);
  if (pendingOf(c) === p) StoredChain.settle(c, rules);
  return rules;
}

/**
 * The rules of a chain still in the file, decoded but not kept in the chain: a reader that passes
 * over every chain once (iptables-save of a kube-proxy-sized lab) holds one chain's rules at a time
 * instead of all of them, which the collector would otherwise copy into the old generation.
 */
function peekRules(c: Chain): Rule[] {
  const p = pendingOf(c);
  return p ? parseRules(c, p) : c.rules;
}

/** the JSON texts of the names a rules line is searched for (for the last list of names asked) */
let needles: { names: readonly string[]; texts: Buffer[] } | undefined;

/**
 * The chains the rules of `c` jump or go to, in rule order, for a reader that counts only those of
 * `names`: none when the chain's line, as written, holds none of the names' JSON texts (a jump to a
 * chain is written `"chain":"NAME"`); else read from the line's bytes (scanJumps()), or from its
 * rules decoded as rulesOnce() does. The line is checked first, so that an edited one is decoded
 * (and checked in full) as before. A long chain still in the file gives the jumps of only the rules
 * whose text names one of them (longNamingJumps()).
 */
function namingJumps(c: Chain, names: readonly string[]): string[] {
  return longNamingJumps(c, names) ?? (mayName(c, names) ? (peekJumps(c) ?? jumpsOf(peekRules(c))) : []);
}

/**
 * Whether a rule of `c` may jump or go to one of `names`: false only for a chain still in the file
 * as it is (untouchedLine()) whose line holds none of their JSON texts.
 */
function mayName(c: Chain, names: readonly string[]): boolean {
  const p = untouchedLine(c);
  return !p || namesIn(p.src.file.subarray(p.at, p.end), names);
}

/**
 * The rules of `c` still in the file exactly as they are, their line checked as a decode would check
 * it; undefined when the chain was decoded, has rules added or removed since it was read, has rules
 * decoded one by one (a long chain: those are the ones that count, they may have changed), or the
 * file was found edited. For questions answered from the line's bytes.
 */
function untouchedLine(c: Chain): Pending | undefined {
  const p = untouchedPending(c);
  if (!p) return undefined;
  check(c, p);
  return p.src.edited || pendingOf(c) !== p || p.at < 0 ? undefined : p;
}

/** the Pending of a chain whose rules are as its line has them: none added or removed, none of a long one decoded */
function untouchedPending(c: Chain): Pending | undefined {
  const p = pendingOf(c);
  return !p || p.inserts || p.lazy?.decoded.size ? undefined : p;
}

/** The chains the rules of `c` jump or go to, read from its line (scanJumps()); undefined: decode it */
function peekJumps(c: Chain): string[] | undefined {
  const p = untouchedLine(c);
  return p && scanJumps(p.src.file, p.at, p.end);
}

const PKTS = Buffer.from('"pkts":');
const BYTES = Buffer.from('"bytes":');

/**
 * The rules of `c`, still in the file as written, have counted nothing: every "pkts" and "bytes"
 * in its line is followed by a lone 0 (JSON writes no other zero; the same keys inside a match's
 * data only make the answer false). False when not known so (the caller decodes the chain).
 */
function countNothing(c: Chain): boolean {
  const p = untouchedLine(c);
  if (!p || p.counts?.size) return false;
  const f = p.src.file;
  // one pass over the line (a search per key and rule costs a call into the buffer each)
  for (let i = p.at; i < p.end; i++) {
    if (f[i] !== 0x22 /* " */) continue;
    const key = f[i + 1] === 0x70 /* p */ ? PKTS : f[i + 1] === 0x62 /* b */ ? BYTES : undefined;
    if (!key) continue;
    let k = 2;
    while (k < key.length && f[i + k] === key[k]) k++;
    if (k < key.length) continue;
    const v = i + key.length;
    if (f[v] !== 0x30 /* 0 */ || (f[v + 1] !== 0x2c && f[v + 1] !== 0x7d)) return false;
  }
  return true;
}

/** the JSON texts of `names` (kept for the last list asked for) */
function jsonTexts(names: readonly string[]): Buffer[] {
  if (needles?.names !== names) needles = { names, texts: names.map((n) => Buffer.from(JSON.stringify(n))) };
  return needles.texts;
}

/**
 * Where the JSON texts of `names` are in `file`, each searched for once over all of it: whether one
 * lies wholly in bytes [from, to) (a line: a text holds no newline, so it lies in one line or none)
 */
function textsIn(file: Buffer, names: readonly string[]): (from: number, to: number) => boolean {
  const found = jsonTexts(names).map((t) => {
    const at: number[] = [];
    for (let i = file.indexOf(t); i >= 0; i = file.indexOf(t, i + 1)) at.push(i);
    return { at, len: t.length };
  });
  return (from, to) =>
    found.some(({ at, len }) => {
      // the first text found at or after `from`: any later one ends later
      let lo = 0;
      let hi = at.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (at[mid]! < from) lo = mid + 1;
        else hi = mid;
      }
      return lo < at.length && at[lo]! + len <= to;
    });
}

/** whether a rules line, as written, may jump or go to one of `names` (holds the JSON text of one) */
function namesIn(line: Buffer, names: readonly string[]): boolean {
  return jsonTexts(names).some((t) => line.indexOf(t) >= 0);
}

/** compares `p`'s lines with what line 1 says of them (a long chain: each rule with its own checksum) */
function check(c: Chain, p: Pending): void {
  verify(c, p);
  // (once: a listing that counts references, then prints, or the jump graph's check of the whole
  // table, would otherwise go over a 10,000-rule chain's checksums again)
  if (p.auxLen && !p.src.edited && !p.rulesChecked) {
    loadLine(p);
    const lz = lazyState(c, p);
    if (!lz) edited(p);
    else for (let i = 0; i < lz.offsets.length && !p.src.edited; i++) if (!lz.decoded.has(i) && !ruleIntact(p.src, lz, i)) edited(p);
    p.rulesChecked = !p.src.edited;
  }
}

/** the rules in `p`'s line, checked against line 1 (and the rules already handed out, as they are) */
function parseRules(c: Chain, p: Pending): Rule[] {
  check(c, p);
  // the check of an edited lab decodes every chain, this one too
  if (pendingOf(c) !== p) return c.rules;
  let rules: Rule[];
  try {
    rules = JSON.parse(p.src.file.toString('utf8', p.at, p.end)) as Rule[];
  } catch (e) {
    throw new LabFileError(`line ${p.no} (the rules of chain ${c.name}) is not valid JSON: ${(e as Error).message}`);
  }
  if (p.counts && Array.isArray(rules)) {
    countsFit(c, p, rules.length);
    for (const i of p.counts.keys()) counted(p, i, rules[i]!);
  }
  // rules already decoded one by one stay the objects the walk counted on
  if (p.lazy && Array.isArray(rules)) for (const [i, r] of p.lazy.decoded) rules[i] = r;
  if (p.inserts && Array.isArray(rules)) for (const { pos, rules: added, del } of p.inserts) rules.splice(pos, del ?? 0, ...added);
  return rules;
}

/** the rule-by-rule state of a long chain (made once); undefined when its frames line does not fit */
function lazyState(c: Chain, p: Pending): Lazy | undefined {
  if (p.lazy !== undefined) return p.lazy ?? undefined;
  const aw = auxWords(p);
  if (!aw) {
    p.lazy = null;
    return undefined;
  }
  const { offsets, words, matches, targets } = aw;
  countsFit(c, p, offsets.length);
  const decoded = new Map<number, Rule>();
  const f = p.src.file;
  const lazy: Lazy = {
    offsets,
    words,
    decoded,
    api: {
      size: offsets.length,
      frames: words,
      matches,
      targets,
      rule(pos: number): Rule {
        // decoded in full since: that array's rule
        if (pendingOf(c) !== p) return c.rules[pos]!;
        let r = decoded.get(pos);
        if (r) return r;
        if (!ruleIntact(p.src, lazy, pos)) {
          edited(p);
          return c.rules[pos]!;
        }
        try {
          r = counted(p, pos, JSON.parse(f.toString('utf8', offsets[pos]!, offsets[pos]! + words[pos * LAZY_STRIDE]!)) as Rule);
        } catch {
          // the text matches its checksum but is no JSON: decoding the chain whole says what is wrong
          return c.rules[pos]!;
        }
        decoded.set(pos, r);
        return r;
      },
    },
  };
  p.lazy = lazy;
  return lazy;
}

function lazyOf(c: Chain): LazyRules | undefined {
  const p = pendingOf(c);
  // (rules added since are not in the frames: such a chain is decoded)
  if (!p || !p.auxLen || p.lazy === null || p.inserts) return undefined;
  if (p.lazy) return p.lazy.api;
  verify(c, p);
  if (pendingOf(c) !== p || p.src.edited) return undefined;
  const lz = lazyState(c, p);
  if (!lz) {
    // frames that do not fit the rules: not written by iptables-sim
    edited(p);
    return undefined;
  }
  return pendingOf(c) === p ? lz.api : undefined;
}

setLazyRulesSource(lazyOf);

/** the frames of a long chain still in the file that no rule was decoded from, checked; undefined: none such */
function untouchedLong(c: Chain): { p: Pending; lz: Lazy } | undefined {
  const p = pendingOf(c);
  if (!p || !p.auxLen || p.lazy === null || p.lazy?.decoded.size) return undefined;
  verify(c, p);
  if (pendingOf(c) !== p || p.src.edited) return undefined;
  const lz = lazyState(c, p);
  return lz && pendingOf(c) === p && !lz.decoded.size ? { p, lz } : undefined;
}

/** untouchedLong() of a chain with no rules added or removed either: its rules are its line's, by position */
function longAsRead(c: Chain): { p: Pending; lz: Lazy } | undefined {
  const u = untouchedLong(c);
  return u && !u.p.inserts ? u : undefined;
}

/** how many rules a chain has, without decoding a long one */
function countRules(c: Chain): number {
  const u = untouchedLong(c);
  if (!u) return c.rules.length;
  let n = u.lz.offsets.length;
  for (const { rules, del } of u.p.inserts ?? []) n += rules.length - (del ?? 0);
  return n;
}

/** adds rules to a long chain still in the file at `pos` without decoding it; false: not such a chain */
function insertRules(c: Chain, pos: number, rules: Rule[]): boolean {
  const u = untouchedLong(c);
  if (!u || pos < 0 || pos > countRules(c)) return false;
  (u.p.inserts ??= []).push({ pos, rules });
  return true;
}

/** the index of the rule of a long chain whose text holds file offset `at` */
function ruleAt(lz: Lazy, at: number): number {
  let lo = 0;
  let hi = lz.offsets.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lz.offsets[mid]! <= at) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** rule `pos` of a long chain, checked and decoded alone and not kept; undefined when its text is not as written */
function peekRule(p: Pending, lz: Lazy, pos: number): Rule | undefined {
  if (!ruleIntact(p.src, lz, pos)) {
    edited(p);
    return undefined;
  }
  try {
    return counted(p, pos, JSON.parse(p.src.file.toString('utf8', lz.offsets[pos]!, lz.offsets[pos]! + lz.words[pos * LAZY_STRIDE]!)) as Rule);
  } catch {
    return undefined;
  }
}

/**
 * Each rule of a long chain still in the file whose text holds the JSON texts of all of `names`
 * (the first one searched for), in order, to `each`, decoded alone, until it returns true; false
 * when a rule's text is not as written (the caller then goes through the chain's rules).
 */
function rulesHolding(p: Pending, lz: Lazy, names: readonly string[], each: (pos: number, rule: Rule) => boolean): boolean {
  loadLine(p);
  const line = p.src.file.subarray(p.at, p.end);
  const texts = jsonTexts(names);
  for (let from = 0; ; ) {
    const at = line.indexOf(texts[0]!, from);
    if (at < 0) return true;
    const pos = ruleAt(lz, p.at + at);
    const start = lz.offsets[pos]! - p.at;
    const end = start + lz.words[pos * LAZY_STRIDE]!;
    from = Math.max(end, at + 1);
    const text = line.subarray(start, end);
    if (at + texts[0]!.length > end || !texts.every((t) => text.indexOf(t) >= 0)) continue;
    const rule = peekRule(p, lz, pos);
    if (!rule) return false;
    if (each(pos, rule)) return true;
  }
}

/**
 * namingJumps() of a long chain still in the file no rule was decoded from: the jumps of the rules
 * whose text holds the JSON text of one of `names` (those of the others go to none of them), each
 * rule decoded alone, as findRule() does. Undefined: not such a chain (the caller goes through its
 * rules, which finds a rule not as written and says so).
 */
function longNamingJumps(c: Chain, names: readonly string[]): string[] | undefined {
  const u = longAsRead(c);
  if (!u) return undefined;
  // by position: a rule that holds two of the names is counted once
  const found = new Map<number, Rule>();
  for (const name of names) {
    const ok = rulesHolding(u.p, u.lz, [name], (pos, rule) => {
      found.set(pos, rule);
      return false;
    });
    if (!ok || pendingOf(c) !== u.p) return undefined;
  }
  return jumpsOf([...found].sort((a, b) => a[0] - b[0]).map(([, rule]) => rule));
}

/**
 * Rule `pos` of a long chain still in the file no rule was decoded from and none added to, checked
 * and decoded alone, not kept (-D and -R by number); undefined: not such a chain, or the rule's
 * text is not as written (the caller reads the chain's rules, which says what is wrong).
 */
function peekRuleAt(c: Chain, pos: number): Rule | undefined {
  const u = longAsRead(c);
  if (!u || pos < 0 || pos >= u.lz.offsets.length) return undefined;
  const rule = peekRule(u.p, u.lz, pos);
  return pendingOf(c) === u.p ? rule : undefined;
}

/**
 * -C and -D with a rule, on a long chain still in the file no rule was decoded from: the first
 * rule `same` accepts among those whose text holds the JSON texts of `names` (what any rule equal to
 * the one asked for holds: its target's name first, then its matches'), each decoded alone.
 * Undefined: none; null: not such a chain (the caller goes through its rules).
 */
function findRule(c: Chain, names: readonly string[], same: (r: Rule) => boolean): { pos: number; rule: Rule } | undefined | null {
  const u = longAsRead(c);
  if (!u || !names.length) return null;
  let found: { pos: number; rule: Rule } | undefined;
  const ok = rulesHolding(u.p, u.lz, names, (pos, rule) => {
    if (same(rule)) found = { pos, rule };
    return found !== undefined;
  });
  return ok && pendingOf(c) === u.p ? found : null;
}

/**
 * Deletes rule `pos` (`rule`, found by findRule()) of a long chain still in the file without
 * decoding it: written as -A and -I are (writeInserted()). False when that cannot be, among others
 * when the chain's list of extensions would change: each of the rule's must be another rule's too.
 */
function removeRule(c: Chain, pos: number, rule: Rule): boolean {
  const u = longAsRead(c);
  if (!u || pos < 0 || pos >= u.lz.offsets.length) return false;
  const { matches, targets } = extensionNames([rule]);
  const used = (name: string, isTarget: boolean): boolean => {
    let seen = false;
    let tries = 0;
    const ok = rulesHolding(u.p, u.lz, [name], (k, r) => {
      seen = k !== pos && (isTarget ? r.target?.kind === 'ext' && r.target.name === name : r.matches.some((m) => m.name === name));
      // (a name found only in comments, rule after rule: the chain is decoded instead)
      return seen || ++tries >= 64;
    });
    return ok && seen;
  };
  if (!matches.every((m) => used(m, false)) || !targets.every((t) => used(t, true))) return false;
  if (pendingOf(c) !== u.p) return false;
  u.p.inserts = [{ pos, rules: [], del: 1 }];
  return true;
}

// ---------------------------------------------------------------------------------------------
// writing

/**
 * One chain's lines as written (its rules line and, for a long chain, its frames line, each with
 * its newline), in pieces, or those of chains that follow each other in a file read; and, when they
 * are bytes of a file read as they lie in it, where (an append to that file leaves them there).
 */
interface Block {
  /** the bytes made now (undefined: the file's bytes [at, at + len)) */
  pieces: Buffer[] | undefined;
  len: number;
  /** how many lines (a chain's: 1, or 2 with a frames line) */
  lines: number;
  /** the file read whose bytes these are, as they lie in it from offset `at`, line `no` on */
  src: Source | undefined;
  at: number;
  no: number;
}

function madeBlock(pieces: Buffer[], lines: number): Block {
  let len = 0;
  for (const b of pieces) len += b.length;
  return { pieces, len, lines, src: undefined, at: -1, no: -1 };
}

/** bytes [at, end) of a file read, lines as line 1 (or the newest header) placed them */
const readBlock = (src: Source, at: number, end: number, no: number, lines: number): Block => ({ pieces: undefined, len: end - at, lines, src, at, no });

/** a block's bytes */
const piecesOf = (b: Block): Buffer[] => b.pieces ?? [b.src!.file.subarray(b.at, b.at + b.len)];

/** a chain's lines as read */
function pendingBlock(p: Pending): Block {
  const f = p.src.file;
  const lines = p.auxLen ? 2 : 1;
  const last = p.auxLen ? p.auxEnd : p.end;
  // where the header put them (the frames line right after the rules line), newlines and all
  if (!p.src.scanned && (p.src.lazyLayout || f[last] === NL)) return readBlock(p.src, p.at, last + 1, p.no, lines);
  return madeBlock(p.auxLen ? [f.subarray(p.at, p.end), NEWLINE, f.subarray(p.auxAt, p.auxEnd), NEWLINE] : [f.subarray(p.at, p.end), NEWLINE], lines);
}

const HEX = Buffer.from('0123456789abcdef', 'latin1');

/** a checksum as line 1 has it: 8 hex digits, or 8 z for one that matches nothing */
const hexSum = (s: number): string => (s < 0 ? 'zzzzzzzz' : hex(s));

/** a table's columns as they are being built */
class Columns {
  /** each chain's checksum (of its rules line, or a long chain's frames line), -1 without lines */
  readonly sums: Float64Array;
  /** what writing a chain's rules gave: the lengths of its lines (rules: 0 none, -1 in line 1) */
  rulesLen = 0;
  auxLen = 0;
  private sum = -1;
  /** ... and the counters of its rules that are not in their text ([position, pkts, bytes]...) */
  private counted: number[] | undefined;
  /** the `counts` column: each chain's `counted`, by index */
  readonly counts: Record<number, number[]> = {};

  constructor(
    readonly names: unknown[],
    readonly kinds: string[],
    readonly num: unknown[],
    readonly heads: Record<string, unknown>,
    sums?: Float64Array,
  ) {
    this.sums = sums ?? new Float64Array(names.length).fill(-1);
  }
  static empty(n: number): Columns {
    return new Columns(new Array<string>(n), new Array<string>(n), new Array<number>(n * NUM), {});
  }
  lines(rulesLen: number, auxLen: number, sum: number, counted?: number[]): void {
    this.rulesLen = rulesLen;
    this.auxLen = auxLen;
    this.sum = rulesLen > 0 ? sum : -1;
    this.counted = counted?.length ? counted : undefined;
  }
  /** chain `i`'s entries */
  set(i: number, c: Chain): void {
    const inline = this.rulesLen < 0;
    let kind = inline ? undefined : kindOf(c, Object.keys(c));
    if (kind === undefined) {
      // any other chain: its fields as JSON has them (rules too, when they are no list)
      kind = 'g';
      const o: Record<string, unknown> = {};
      for (const k of Object.keys(c)) if (k !== 'rules' || inline) o[k] = (c as unknown as Record<string, unknown>)[k];
      this.heads[i] = o;
    } else delete this.heads[i];
    const g = kind === 'g';
    this.names[i] = g ? '' : c.name;
    this.kinds[i] = kind;
    this.num[i * NUM] = g ? 0 : c.pkts;
    this.num[i * NUM + 1] = g ? 0 : c.bytes;
    this.num[i * NUM + 2] = g || c.handle === undefined ? -1 : c.handle;
    this.num[i * NUM + 3] = this.rulesLen;
    this.num[i * NUM + 4] = this.auxLen;
    this.sums[i] = this.sum;
    if (this.counted) this.counts[i] = this.counted;
    else delete this.counts[i];
  }
  json(): Record<string, unknown> {
    let lines = 0;
    for (let i = 0; i < this.sums.length; i++) if ((this.num[i * NUM + 3] as number) > 0) lines++;
    const b = Buffer.allocUnsafe(lines * 8);
    let at = 0;
    for (let i = 0; i < this.sums.length; i++) {
      if ((this.num[i * NUM + 3] as number) <= 0) continue;
      const s = this.sums[i]!;
      for (let k = 0; k < 8; k++) b[at++] = s < 0 ? 0x7a /* z */ : HEX[(s >>> (28 - 4 * k)) & 15]!;
    }
    return withCounts({ names: namesColumn(this.names), kinds: this.kinds.join(''), num: this.num, sums: b.toString('latin1', 0, at), heads: this.heads }, this.counts);
  }
}

/** a table's columns with its `counts` column, when a rule is counted apart from its text */
function withCounts(cols: Record<string, unknown>, counts: Record<number, number[]>): Record<string, unknown> {
  for (const _ in counts) return { ...cols, counts };
  return cols;
}

/** a long chain's counters kept apart from its rules' text, as the `counts` column has them */
function countsList(counts: ReadonlyMap<number, readonly [number, number]> | undefined): number[] | undefined {
  if (!counts?.size) return undefined;
  const out: number[] = [];
  for (const pos of [...counts.keys()].sort((a, b) => a - b)) out.push(pos, ...counts.get(pos)!);
  return out;
}

/**
 * The names column: one string, the names joined by newlines (which parses many times faster than
 * a list of 40,000 strings), or the list when a name holds a newline (iptables takes none).
 */
function namesColumn(names: unknown[]): string | unknown[] {
  for (const n of names) if (typeof n !== 'string' || n.includes('\n')) return names;
  return names.join('\n');
}

/** the names column read: a list of as many names as there are chains, or undefined */
function namesOf(v: unknown, n: number): unknown[] | undefined {
  if (Array.isArray(v)) return v.length === n ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const names = n === 0 && v === '' ? [] : v.split('\n');
  return names.length === n ? names : undefined;
}

/** a long chain's frames line: its rules' lengths, checksums and frames, and the extensions they use */
function framesLine(words: Uint32Array, names: { matches: readonly string[]; targets: readonly string[] }): Buffer {
  let raw = Buffer.from(words.buffer, words.byteOffset, words.byteLength);
  if (BIG_ENDIAN) raw = Buffer.from(raw).swap32();
  return Buffer.from(JSON.stringify({ frames: raw.toString('base64'), matches: names.matches, targets: names.targets }));
}

/** the lines of rules decoded in full (or set) */
function writeRules(rules: Rule[], cols: Columns): Block {
  if (rules.length >= LAZY_MIN && rules.length <= LAZY_MAX) {
    const texts = new Array<string>(rules.length);
    let ok = true;
    for (let i = 0; i < rules.length && ok; i++) {
      const r = rules[i];
      const s = JSON.stringify(r);
      // not a rule at all (a hole, a function): JSON.stringify of the array says what it says
      if (typeof s !== 'string' || typeof r !== 'object' || r === null) ok = false;
      else texts[i] = s;
    }
    if (ok) {
      const line = Buffer.from(`[${texts.join(',')}]`);
      const words = new Uint32Array(rules.length * LAZY_STRIDE);
      let at = 1;
      for (let i = 0; i < rules.length; i++) {
        const len = Buffer.byteLength(texts[i]!);
        words[i * LAZY_STRIDE] = len;
        words[i * LAZY_STRIDE + 1] = crc32(line, at, at + len);
        encodeFrame(rules[i]!, words, i * LAZY_STRIDE + 2);
        at += len + 1;
      }
      const aux = framesLine(words, extensionNames(rules));
      cols.lines(line.length, aux.length, crc32(aux));
      return madeBlock([line, NEWLINE, aux, NEWLINE], 2);
    }
  }
  const line = Buffer.from(JSON.stringify(rules));
  cols.lines(line.length, 0, crc32(line));
  return madeBlock([line, NEWLINE], 1);
}

/**
 * How many of a long chain's rules may have their counters kept in the header (`counts`) instead
 * of in their text; past that the chain is written whole again, the counters in its rules.
 */
const countsMax = (rules: number): number => Math.max(16, rules >> 4);

/**
 * The lines of a long chain read one rule at a time: the rules decoded are encoded again where they
 * changed, the rest copied. A rule whose counters alone changed (a trace, a batch) keeps its text:
 * its counters go in the header's `counts`, so that the chain's lines, a 3 MB line for a kube-proxy
 * lab's KUBE-SERVICES, stay where they are. Undefined when a decoded rule is no longer a rule, or
 * too many rules are counted apart (the chain is then written from its rules).
 */
function writeLazy(p: Pending, lz: Lazy, cols: Columns): Block | undefined {
  const f = p.src.file;
  const changed: [number, Buffer][] = [];
  const counts = new Map(p.counts);
  for (const [i, r] of [...lz.decoded].sort((a, b) => a[0] - b[0])) {
    const s = JSON.stringify(r);
    if (typeof s !== 'string' || typeof r !== 'object' || r === null) return undefined;
    const b = Buffer.from(s);
    const at = lz.offsets[i]!;
    const len = lz.words[i * LAZY_STRIDE]!;
    const text = f.subarray(at, at + len);
    counts.delete(i);
    if (b.length === len && b.equals(text)) continue;
    const was = JSON.parse(f.toString('utf8', at, at + len)) as Rule;
    if (typeof r.pkts === 'number' && typeof r.bytes === 'number' && Buffer.from(JSON.stringify({ ...r, pkts: was.pkts, bytes: was.bytes })).equals(text)) {
      counts.set(i, [r.pkts, r.bytes]);
      continue;
    }
    // a rule that now uses other extensions: the chain's list of them is made again, from all rules
    if (JSON.stringify(extensionNames([was])) !== JSON.stringify(extensionNames([r as Rule]))) return undefined;
    changed.push([i, b]);
  }
  if (counts.size > countsMax(lz.offsets.length)) return undefined;
  const counted = countsList(counts);
  if (!changed.length) {
    // as read (and checked when first read)
    cols.lines(p.len, p.auxLen, p.sum, counted);
    return pendingBlock(p);
  }
  loadLine(p);
  const words = lz.words.slice();
  const pieces: Buffer[] = [];
  let from = p.at;
  let len = 0;
  for (const [i, b] of changed) {
    const at = lz.offsets[i]!;
    pieces.push(f.subarray(from, at), b);
    len += at - from + b.length;
    from = at + lz.words[i * LAZY_STRIDE]!;
    words[i * LAZY_STRIDE] = b.length;
    words[i * LAZY_STRIDE + 1] = crc32(b);
    encodeFrame(lz.decoded.get(i)!, words, i * LAZY_STRIDE + 2);
  }
  pieces.push(f.subarray(from, p.end));
  len += p.end - from;
  const aux = framesLine(words, lz.api);
  pieces.push(NEWLINE, aux, NEWLINE);
  cols.lines(len, aux.length, crc32(aux), counted);
  return madeBlock(pieces, 2);
}

/**
 * The version 3 checksum of a version 2 file's line copied unread: its CRC-32 when the line is as
 * line 1 said (FNV-1a), else one that matches nothing (it stays an edit, found when read).
 */
function v2LineSum(p: Pending): number {
  const f = p.src.file;
  return p.end - p.at === p.len && fnv(f, p.at, p.end) === p.sum ? crc32(f, p.at, p.end) : NO_SUM;
}

/**
 * The lines of a long chain still in the file with rules added (insertRules()) or one deleted
 * (removeRule()): the rules read copied as they are (checked first), the added ones encoded, the
 * frames made from both.
 * Undefined when that cannot be (the chain is then decoded and written whole).
 */
function writeInserted(c: Chain, p: Pending, cols: Columns): Block | undefined {
  const u = untouchedLong(c);
  if (!u) return undefined;
  check(c, p);
  if (p.src.edited || pendingOf(c) !== p) return undefined;
  const { offsets, words } = u.lz;
  // the rules in order: a number for a rule read (its position), the added rules themselves
  const order: (number | Rule)[] = Array.from(offsets, (_, i) => i);
  for (const { pos, rules, del } of p.inserts!) order.splice(pos, del ?? 0, ...rules);
  if (order.length > LAZY_MAX) return undefined;
  const f = p.src.file;
  const frames = new Uint32Array(order.length * LAZY_STRIDE);
  const added: Rule[] = [];
  const pieces: Buffer[] = [Buffer.from('[')];
  let len = 1;
  for (let k = 0; k < order.length; k++) {
    const e = order[k]!;
    let text: Buffer;
    if (typeof e === 'number') {
      // a stretch of rules read that still follow each other: one piece, commas and all
      let last = e;
      while (k + 1 < order.length && order[k + 1] === last + 1) {
        frames.set(words.subarray(last * LAZY_STRIDE, (last + 1) * LAZY_STRIDE), k * LAZY_STRIDE);
        last++;
        k++;
      }
      frames.set(words.subarray(last * LAZY_STRIDE, (last + 1) * LAZY_STRIDE), k * LAZY_STRIDE);
      text = f.subarray(offsets[e]!, offsets[last]! + words[last * LAZY_STRIDE]!);
    } else {
      const json = JSON.stringify(e);
      if (typeof json !== 'string' || typeof e !== 'object' || e === null) return undefined;
      text = Buffer.from(json);
      frames[k * LAZY_STRIDE] = text.length;
      frames[k * LAZY_STRIDE + 1] = crc32(text);
      encodeFrame(e, frames, k * LAZY_STRIDE + 2);
      added.push(e);
    }
    pieces.push(text, k + 1 < order.length ? COMMA : CLOSE);
    len += text.length + 1;
  }
  // the extensions of the rules read, then those the added rules bring
  const more = extensionNames(added);
  const names = { matches: [...new Set([...u.lz.api.matches, ...more.matches])], targets: [...new Set([...u.lz.api.targets, ...more.targets])] };
  const aux = framesLine(frames, names);
  pieces.push(NEWLINE, aux, NEWLINE);
  // the counters kept apart, at the rules' new positions
  const counted: number[] = [];
  order.forEach((e, k) => {
    const n = typeof e === 'number' ? p.counts?.get(e) : undefined;
    if (n) counted.push(k, ...n);
  });
  cols.lines(len, aux.length, crc32(aux), counted);
  return madeBlock(pieces, 2);
}

const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']');

/** the lines of a chain's rules (undefined: it has none), and tells `cols` their lengths */
function writeChain(c: Chain, cols: Columns): Block | undefined {
  const p = pendingOf(c);
  if (p) copiedFrom?.add(p.src);
  if (p?.inserts) {
    const b = writeInserted(c, p, cols);
    if (b) return b;
  } else if (p) {
    if (p.lazy) {
      const b = writeLazy(p, p.lazy, cols);
      if (b) return b;
    } else if (p.at >= 0 && p.len > 0 && (!p.auxLen || p.auxAt >= 0)) {
      // copied with what line 1 said of them: a line edited by hand stays recognisable as such
      cols.lines(p.len, p.auxLen, p.src.sum === crc32 ? p.sum : v2LineSum(p), countsList(p.counts));
      return pendingBlock(p);
    }
  }
  const rules = c.rules;
  if (!Array.isArray(rules)) cols.lines(-1, 0, 0);
  else if (!rules.length) cols.lines(0, 0, 0);
  else return writeRules(rules, cols);
  return undefined;
}

const fin = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * The kind letter of a chain whose fields fit the columns (its own keys but rules, in this
 * order: name, policy and created for a built-in chain, pkts, bytes, and a handle), else undefined.
 */
function kindOf(c: Chain, keys: string[]): string | undefined {
  let n = keys.length;
  let r = keys.indexOf('rules');
  if (r >= 0) n--;
  else r = n;
  const key = (i: number): string | undefined => keys[i < r ? i : i + 1];
  if (typeof c.name !== 'string' || !fin(c.pkts) || !fin(c.bytes)) return undefined;
  if (key(n - 1) === 'handle') {
    if (!fin(c.handle) || c.handle < 0) return undefined;
    n--;
  }
  if (key(0) !== 'name' || key(n - 2) !== 'pkts' || key(n - 1) !== 'bytes') return undefined;
  if (n === 3) return 'u';
  if (n !== 5 || key(1) !== 'policy' || key(2) !== 'created' || typeof c.created !== 'boolean') return undefined;
  if (c.policy === 'ACCEPT') return c.created ? 'A' : 'a';
  if (c.policy === 'DROP') return c.created ? 'D' : 'd';
  return undefined;
}

/** a table's chain lines as written: the blocks, each with the index of its (first) chain, and the columns */
class TableLines {
  readonly blocks: Block[] = [];
  readonly chains: number[] = [];
  cols: Record<string, unknown> = {};
  /** the chains read from a file (dirColumns()): the columns kept as read, but for those made */
  dir: TableDir | undefined = undefined;
  /** dirColumns() gave a chain read another name */
  renamed = false;
  add(i: number, b: Block | undefined): void {
    if (!b) return;
    // lines as read that follow the last block's in the file: one block (40,000 chains made from a
    // file, a few of them written anew, are a few blocks)
    const last = this.blocks[this.blocks.length - 1];
    if (b.src && !b.pieces && last?.src === b.src && !last.pieces && last.at + last.len === b.at && last.no + last.lines === b.no) {
      last.len += b.len;
      last.lines += b.lines;
      return;
    }
    this.blocks.push(b);
    this.chains.push(i);
  }
}

type ReachColumn = (n: number, nameAt: (i: number) => unknown, asRead?: boolean) => string | undefined;

function columns(chains: Chain[], out: TableLines, reach: ReachColumn): Record<string, unknown> {
  const cols = Columns.empty(chains.length);
  for (let i = 0; i < chains.length; i++) {
    out.add(i, writeChain(chains[i]!, cols));
    cols.set(i, chains[i]!);
  }
  return withReach(cols.json(), reach(chains.length, (i) => chains[i]!.name));
}

/** a table's columns with the jump graph's column (../ruleset/jump-graph.ts), when one is known */
const withReach = (cols: Record<string, unknown>, reach: string | undefined): Record<string, unknown> => (reach === undefined ? cols : { ...cols, reach });

/**
 * The columns of a table whose chains were not all made: those of the others, and their lines,
 * are kept as they were read. (Only for files laid out as their header says: any other is checked
 * in full when read, which makes every chain.)
 */
function dirColumns(d: TableDir, out: TableLines, reach: ReachColumn): Record<string, unknown> {
  const made = [...d.madeList].sort((a, b) => a - b);
  const cols = Columns.empty(made.length + d.added.length);
  const num = d.added.length ? d.num.concat(new Array<number>(d.added.length * NUM)) : d.num;
  let names: unknown[] | undefined;
  const kinds: string[] = [];
  const sums: string[] = [];
  let from = 0;
  /** chains [from, to) as read */
  const keepRun = (to: number): void => {
    if (to <= from) return;
    d.blocks(from, to, out);
    kinds.push(d.kinds.slice(from, to));
    sums.push(d.sums.slice(d.sumOff[from], d.sumOff[to]));
  };
  made.forEach((i, k) => {
    keepRun(i);
    const c = d.madeAt(i)!;
    out.add(i, writeChain(c, cols));
    cols.set(k, c);
    // the columns of a chain made are its own again (those read are not looked at any more)
    const o = k * NUM;
    for (let j = 0; j < NUM; j++) num[i * NUM + j] = cols.num[o + j];
    if (cols.heads[k] !== undefined) d.heads[i] = cols.heads[k];
    else delete d.heads[i];
    if (cols.names[k] !== d.names[i]) (names ??= d.names.slice())[i] = cols.names[k];
    kinds.push(cols.kinds[k]!);
    if ((cols.num[o + 3] as number) > 0) sums.push(hexSum(cols.sums[k]!));
    from = i + 1;
  });
  keepRun(d.size);
  // (no name written differs from those read: the chains read are in their places)
  const asRead = !names;
  out.renamed = !asRead;
  // the chains made since, after the others
  d.added.forEach((c, j) => {
    const i = d.size + j;
    const k = made.length + j;
    out.add(i, writeChain(c, cols));
    cols.set(k, c);
    for (let x = 0; x < NUM; x++) num[i * NUM + x] = cols.num[k * NUM + x];
    if (cols.heads[k] !== undefined) d.heads[i] = cols.heads[k];
    (names ??= d.names.slice())[i] = cols.names[k];
    kinds.push(cols.kinds[k]!);
    if ((cols.num[k * NUM + 3] as number) > 0) sums.push(hexSum(cols.sums[k]!));
  });
  // the counters kept apart: those read, but of the chains made, whose are theirs now
  const counts: Record<number, number[]> = {};
  for (const [k, v] of Object.entries(d.counts)) if (!d.madeAt(Number(k))) counts[Number(k)] = v as number[];
  made.forEach((i, k) => {
    if (cols.counts[k]) counts[i] = cols.counts[k];
  });
  d.added.forEach((_, j) => {
    if (cols.counts[made.length + j]) counts[d.size + j] = cols.counts[made.length + j]!;
  });
  const columns = withCounts({ names: names ? namesColumn(names) : d.namesColumn, kinds: kinds.join(''), num, sums: sums.join(''), heads: d.heads }, counts);
  const n = d.size + d.added.length;
  const nameAt = (i: number): unknown => (i < d.size ? (d.madeAt(i)?.name ?? d.nameAt(i)) : d.added[i - d.size]!.name);
  return withReach(columns, reach(n, nameAt, asRead));
}

/** a header line (without its newline): the lab as JSON, its checksum first */
function headerLine(head: object): Buffer[] {
  const body = Buffer.from(JSON.stringify(head).slice(1));
  return [Buffer.from(`${SUM_HEAD}${hex(crc32(body))}",`), body];
}

/** adds `b` to `out`, as one piece with the last when they lie next to each other in memory */
function pushMerged(out: Buffer[], b: Buffer): void {
  if (!b.length) return;
  const last = out[out.length - 1];
  if (last !== undefined && last.buffer === b.buffer && last.byteOffset + last.length === b.byteOffset) {
    out[out.length - 1] = Buffer.from(last.buffer, last.byteOffset, last.length + b.length);
  } else out.push(b);
}

/**
 * When a change is appended to the file read instead of the file being written whole: the file is
 * at least `min` bytes, and after the append at most `ratio` times what a whole file would be.
 */
const appendPolicy = { min: 1 << 20, ratio: 2 };

/** for tests: appends to small files, or never */
export function setAppendPolicy(min: number, ratio: number): void {
  appendPolicy.min = min;
  appendPolicy.ratio = ratio;
}

/** What to write: the whole file, or a record to append to the file read. */
export interface LabBytes {
  parts: Buffer[];
  /** undefined: the whole file; else the offset in the file read where `parts` go (its length) */
  appendAt: number | undefined;
  /** every line of the file written was encoded now or is one of a file read whose lines were all checked */
  checked: boolean;
}

/** the file a lab was read from (not enumerable: no copy or JSON of the lab sees it) */
const SOURCE = Symbol('the lab file read');

/** the file read that this lab may be appended to, if any (`appendTo`: the writer's check of it on disk) */
function appendTarget(lab: Lab, appendTo: (origin: unknown) => boolean): Source | undefined {
  const src = (lab as { [SOURCE]?: Source })[SOURCE];
  return src && src.appendable && !src.edited && src.origin !== undefined && appendTo(src.origin) ? src : undefined;
}

/**
 * A table's columns as a patch against the header its TableDir names (PatchBase): the entries of
 * the chains made since it was read and of those the patch it was read from gave, by index, and
 * those of every chain added after the base's. Only when the base's other chains are as in that
 * header: none renamed, no chain made of kind `g` (its fields in heads) or with lines where it had
 * none or the other way round (the checksums' places stay), none added of kind `g`, and a jump
 * graph column if the base had one. Undefined: the columns are written.
 */
function patchOf(t: TableLines): Record<string, unknown> | undefined {
  const d = t.dir!;
  const b = d.base;
  const { kinds, num, sums, reach } = t.cols as { kinds: string; num: number[]; sums: string; reach?: string };
  if (t.renamed || (reach === undefined && b.reach !== undefined) || b.size > d.size) return undefined;
  const chains = [...new Set([...b.changed, ...d.madeList.filter((i) => i < b.size)])].sort((x, y) => x - y);
  const pk: string[] = [];
  const pn: number[] = [];
  const ps: string[] = [];
  for (const i of chains) {
    const lined = num[i * NUM + 3]! > 0;
    if (kinds.charCodeAt(i) === 0x67 /* g */ || d.kinds.charCodeAt(i) === 0x67 || lined !== d.hadLines(i)) return undefined;
    pk.push(kinds[i]!);
    for (let j = 0; j < NUM; j++) pn.push(num[i * NUM + j]!);
    if (lined) ps.push(sums.slice(d.sumOff[i]!, d.sumOff[i]! + 8));
  }
  const patch: Record<string, unknown> = { base: [b.at, b.end], chains, kinds: pk.join(''), num: pn, sums: ps.join('') };
  if (kinds.length > b.size) {
    // the chains after the base's, whole (their checksums follow the base's chains')
    const names: unknown[] = [];
    for (let i = b.size; i < kinds.length; i++) names.push(i < d.size ? d.names[i] : d.added[i - d.size]!.name);
    const added = kinds.slice(b.size);
    if (added.includes('g')) return undefined;
    patch.added = { names, kinds: added, num: num.slice(b.size * NUM), sums: sums.slice(d.sumOff[b.size]) };
  }
  if (reach !== b.reach) patch.reach = reach;
  const all = t.cols.counts as Record<number, number[]> | undefined;
  const counts: Record<number, number[]> = {};
  for (const [i, v] of Object.entries(all ?? {})) if (Number(i) >= b.size || chains.includes(Number(i))) counts[Number(i)] = v;
  return withCounts(patch, counts);
}

/**
 * The lines of the chains not in `to` where they were read, then a header whose tables say, in
 * `runs`, where each run of chain lines is; undefined when the file would grow too much.
 */
function appendRecord(tables: TableLines[], head: Record<string, unknown>, to: Source): LabBytes | undefined {
  let live = to.headLen + 1;
  let made = 0;
  for (const t of tables) {
    for (const b of t.blocks) {
      live += b.len;
      if (b.src === to) continue;
      // lines of another file read in parts, not all looked at: the whole file is written (which does)
      if (b.src?.lazyLayout) return undefined;
      made += b.len;
    }
  }
  // the tables whose columns can be a patch against the header they were read from (or its base)
  const patches = tables.map((t) => (t.dir?.src === to ? patchOf(t) : undefined));
  const bases = new Set<number>();
  patches.forEach((p, k) => {
    if (!p) return;
    const b = tables[k]!.dir!.base;
    // (the header a patch is against stays live)
    if (!bases.has(b.at)) live += b.end - b.at + 1;
    bases.add(b.at);
  });
  const size = to.file.length;
  if (size < appendPolicy.min || size + made + to.headLen + 1 > appendPolicy.ratio * live) return undefined;
  const parts: Buffer[] = [];
  let at = size;
  let no = to.lastLine + 1;
  for (const t of tables) {
    // [chain index, offset, line number] where the lines stop following each other
    const runs: number[] = [];
    let next = -1;
    let nextNo = -1;
    t.blocks.forEach((b, k) => {
      let bAt = b.at;
      let bNo = b.no;
      if (b.src !== to) {
        bAt = at;
        bNo = no;
        at += b.len;
        no += b.lines;
        for (const piece of piecesOf(b)) pushMerged(parts, piece);
      }
      if (bAt !== next || bNo !== nextNo) runs.push(t.chains[k]!, bAt, bNo);
      next = bAt + b.len;
      nextNo = bNo + b.lines;
    });
    const patch = patches[tables.indexOf(t)];
    if (patch) {
      // (the object the header holds: its columns give way to the patch)
      for (const k of Object.keys(t.cols)) delete t.cols[k];
      t.cols.patch = patch;
    }
    t.cols.runs = runs;
  }
  // the header's own line number, last: the reader finds the newest header by it
  parts.push(...headerLine({ ...head, ...(bases.size ? { version: V5 } : {}), line: no }), NEWLINE);
  return { parts, appendAt: size, checked: false };
}

/**
 * The file's bytes for a lab, in pieces (most of them pieces of the file it was read from): the
 * whole file, or, when `appendTo` says the version 4 file the lab was read from is still as read
 * and the lines that changed are few enough, a record to append to it.
 */
export function encodeLabFile(lab: Lab, appendTo?: (origin: unknown) => boolean): LabBytes {
  const copied = (copiedFrom = new Set());
  try {
    const out = encodeLines(lab, appendTo);
    // (the lines of the file appended to are live in the new file: its chains' blocks name it)
    out.checked = [...copied].every(srcChecked);
    return out;
  } finally {
    copiedFrom = undefined;
  }
}

function encodeLines(lab: Lab, appendTo?: (origin: unknown) => boolean): LabBytes {
  const tables: TableLines[] = [];
  const hosts: Record<string, unknown> = {};
  for (const [name, h] of Object.entries(lab.hosts)) {
    const tableCols: Record<string, unknown> = {};
    for (const [tn, t] of Object.entries(h.tables ?? {}) as [string, Table | undefined][]) {
      if (!t) {
        tableCols[tn] = t;
        continue;
      }
      // the table's fields, its chains in columns (read without making the chains not made yet)
      const d = dirOf(t);
      const o: Record<string, unknown> = {};
      for (const k of Object.keys(t)) o[k] = k === 'chains' ? undefined : (t as unknown as Record<string, unknown>)[k];
      const reach: ReachColumn = (n, nameAt, asRead) => reachColumn(t, n, nameAt, asRead);
      const out = new TableLines();
      if (d && !d.src.scanned) {
        out.dir = d;
        out.cols = dirColumns(d, out, reach);
      } else out.cols = columns(t.chains, out, reach);
      o.chains = out.cols;
      tables.push(out);
      tableCols[tn] = o;
    }
    hosts[name] = { ...h, tables: tableCols };
  }
  const { checksum: _, ...rest } = lab as Lab & { checksum?: unknown };
  const head = { ...rest, version: tables.some((t) => t.cols.counts !== undefined) ? V5 : LAB_VERSION, hosts };
  const to = appendTo && appendTarget(lab, appendTo);
  const record = to && appendRecord(tables, head, to);
  if (record) return record;
  // the lines kept as read, all of them now: read (a file read in parts), their newlines where the
  // header said, or else the lab is checked in full and written from its rules
  const read = new Set<Source>();
  for (const t of tables) for (const b of t.blocks) if (b.src) read.add(b.src);
  for (const src of read) {
    settleLayout(src);
    if (src.scanned) return encodeLines(lab);
  }
  const parts = [...headerLine(head), NEWLINE];
  for (const t of tables) for (const b of t.blocks) for (const piece of piecesOf(b)) pushMerged(parts, piece);
  return { parts, appendAt: undefined, checked: false };
}

/** The whole file's bytes for a lab. Chains whose rules were never read keep their stored line. */
export function encodeLab(lab: Lab): Buffer {
  return Buffer.concat(encodeLabFile(lab).parts);
}

// ---------------------------------------------------------------------------------------------
// reading

export interface DecodedLab {
  /** the lab; rules of version 2 and 3 files are decoded when first read */
  data: unknown;
  /** line 1's checksum matches: iptables-sim wrote it */
  trusted: boolean;
  /** decodes every chain's rules now (for a full check) */
  decodeAll(): void;
}

/** where each line after line 1 begins and ends, found by scanning */
function scanLines(buf: Buffer, nl: number): { at: number[]; end: number[] } {
  const at: number[] = [];
  const end: number[] = [];
  for (let start = nl + 1; start > 0 && start < buf.length; ) {
    const e = buf.indexOf(NL, start);
    at.push(start);
    end.push(e < 0 ? buf.length : e);
    start = e < 0 ? -1 : e + 1;
  }
  return { at, end };
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** the TableDir of a table (not enumerable: no copy or JSON of the table sees it) */
const DIR = Symbol('chains still in the lab file');

/**
 * The header line whose columns a table's are (the header it was read from), or whose columns an
 * appended header's patch changes (see V5): what the next record's patch is against.
 */
interface PatchBase {
  /** the header line [at, end) */
  at: number;
  end: number;
  /** its jump-graph column (undefined: none) */
  reach: unknown;
  /** the chains the patch read gave entries (in order; none when read from the base itself) */
  changed: readonly number[];
  /** how many chains the table has in that header (those after them were added since) */
  size: number;
}

/**
 * A table read from a version 3 file: its chains are made from the columns when something asks
 * for one by name (findChain) or for all of them (`chains`, a getter until then). A trace through
 * a kube-proxy lab makes a dozen of its 40,000 chains; writing it back copies the lines and
 * columns of the others as they were read.
 */
class TableDir {
  /** the chains made so far, by index, and their indexes in the order they were made */
  private readonly made: (Chain | undefined)[];
  readonly madeList: number[] = [];
  /** chains made since the table was read (-N), after its others: chain size + k */
  added: Chain[] = [];
  /**
   * chain names to indexes: a few looked up one by one (each a search of 40,000 names on a kube
   * lab, where indexing them costs a few searches: a trace asks for about ten), then all at once;
   * shared with the copies of the table, which have the same names
   */
  private lookup: { found: Map<string, number>; index?: Map<string, number> } = { found: new Map() };
  /** the names to look up ('g' chains have theirs in heads; a chain renamed since, its new name): shared with copies until one renames */
  private lookupNames: unknown[];
  /** where chain i's lines begin in the file (or the next chain's, when it has none); [size]: the end */
  readonly pos: Float64Array;
  /** the file line number of chain i's first line (or of the next chain's); [size]: the line after the table's */
  readonly no: Int32Array;
  /** where chain i's checksum is in `sums` (8 hex digits for each chain with lines) */
  readonly sumOff: Int32Array;
  /** some chain's lines are not where the header says */
  broken = false;
  /** intact() found every chain's lines as the header says */
  checked = false;
  /** the lengths of chain i's lines as read ([2i] rules, [2i + 1] frames): `num` changes as chains are written */
  private readonly readLens: Float64Array;

  constructor(
    readonly table: Record<string, unknown>,
    readonly src: Source,
    readonly names: unknown[],
    /** the names column as read (written back as it was while no name changes) */
    readonly namesColumn: unknown,
    readonly kinds: string,
    readonly num: unknown[],
    readonly heads: Record<string, unknown>,
    readonly sums: string,
    /** where its lines begin in the file, and the line number there, when they follow the previous table's */
    readonly start: number,
    readonly firstLine: number,
    /**
     * an appended header's `runs`: for each run of chains whose lines follow each other, the index of
     * its first chain with lines, where they begin and that line's number (start and firstLine unused)
     */
    readonly runs: readonly number[] | undefined,
    readonly where: string,
    /** the header whose columns the table's are, or are a patch against */
    readonly base: PatchBase,
    /** the `counts` column: by chain index, [position, pkts, bytes] of each rule counted apart from its text */
    readonly counts: Record<string, unknown>,
  ) {
    const n = names.length;
    this.made = new Array<Chain | undefined>(n);
    this.pos = new Float64Array(n + 1);
    this.no = new Int32Array(n + 1);
    this.sumOff = new Int32Array(n + 1);
    this.readLens = new Float64Array(2 * n);
    const bad = (what: string): LabFileError => new LabFileError(`${where}: the list of chains is damaged (${what})`);
    const buf = src.file;
    let pos = runs ? -1 : start;
    let line = runs ? -1 : firstLine;
    let r = 0;
    let sumAt = 0;
    let lookup = names;
    for (let i = 0; i < n; i++) {
      this.sumOff[i] = sumAt;
      const rulesLen = num[i * NUM + 3] as number;
      const auxLen = num[i * NUM + 4] as number;
      if (rulesLen > 0) {
        if (!Number.isInteger(rulesLen) || !Number.isInteger(auxLen) || auxLen < 0) throw bad(`chain ${i + 1}: line lengths ${rulesLen}, ${auxLen}`);
        if (runs && runs[r] === i) {
          pos = runs[r + 1]!;
          line = runs[r + 2]!;
          r += 3;
        } else if (line < 0) throw bad(`chain ${i + 1}: no run says where its lines are`);
        this.pos[i] = pos;
        this.no[i] = line;
        this.readLens[2 * i] = rulesLen;
        this.readLens[2 * i + 1] = auxLen;
        sumAt += 8;
        line += auxLen ? 2 : 1;
        // a file read in parts: by the lengths alone (their newlines are looked at when read)
        const lazy = src.lazyLayout;
        if (pos >= 0) pos = (lazy ? pos + rulesLen < buf.length : buf[pos + rulesLen] === NL) ? pos + rulesLen + 1 : -1;
        if (auxLen && pos >= 0) pos = (lazy ? pos + auxLen < buf.length : buf[pos + auxLen] === NL) ? pos + auxLen + 1 : -1;
        if (pos < 0) this.broken = true;
      } else {
        if ((rulesLen !== 0 && rulesLen !== -1) || auxLen !== 0) throw bad(`chain ${i + 1}: line lengths ${rulesLen}, ${auxLen}`);
        this.pos[i] = pos;
        this.no[i] = line;
      }
      if (kinds.charCodeAt(i) === 0x67 /* g */) {
        const head = heads[i];
        if (!isObj(head)) throw bad(`chain ${i + 1} has no fields`);
        if (lookup === names) lookup = names.slice();
        lookup[i] = head.name;
      }
    }
    if (runs && r !== runs.length) throw bad('runs that start at no chain with lines');
    this.pos[n] = pos;
    this.no[n] = line;
    this.sumOff[n] = sumAt;
    if (sumAt !== sums.length) throw bad('sums do not match the lines');
    this.lookupNames = lookup;
  }

  get size(): number {
    return this.names.length;
  }
  /** chain `i` had lines when read */
  hadLines(i: number): boolean {
    return this.readLens[2 * i]! > 0;
  }
  /** chain `i`'s name as the columns give it */
  nameAt(i: number): unknown {
    return this.lookupNames[i];
  }
  /**
   * Every chain's lines are as line 1 says, the checks decoding them would make, without decoding
   * them (one pass of the checksum over the table's lines). False when the file is not as written.
   */
  intact(): boolean {
    const src = this.src;
    if (src.checked) return (this.checked = !src.edited);
    settleLayout(src);
    for (let i = 0; i < this.size && !src.edited; i++) {
      if (this.readLens[2 * i]! <= 0 || this.shortLine(i)) continue;
      // made, a long chain, or one that differs (the check of a decode finds it and says so)
      const c = this.chain(i);
      const p = pendingOf(c);
      if (p) check(c, p);
    }
    return (this.checked = !src.edited);
  }
  /**
   * The rules line of chain `i` when the chain is not made, has no frames line, and the line is as
   * the header says: its checksum holds (or held when intact() compared them all), or the file's
   * stamp is believed. Undefined otherwise.
   */
  private shortLine(i: number): Buffer | undefined {
    const len = this.readLens[2 * i]!;
    if (this.made[i] || len <= 0 || this.readLens[2 * i + 1]) return undefined;
    const src = this.src;
    const line = src.file.subarray(this.pos[i]!, this.pos[i]! + len);
    return src.checked || (this.checked && !src.edited) || src.sum(line) === sumAt(this.sums, this.sumOff[i]!) ? line : undefined;
  }
  /**
   * The jumps of each chain that may jump or go to one of `names`, as namingJumps() gives them, to
   * `each` (referenceCounts() of a few chains): intact()'s pass, which compares the line of a short
   * chain not made yet with its checksum and here also searches it, so that a chain whose line
   * names none of them is not made (`iptables -L CHAIN` in a table of 40,000 chains). The names are
   * searched for in the whole file, once: a search of each line costs a call into the buffer.
   */
  naming(names: readonly string[], each: (jumps: string[]) => void): void {
    this.eachNaming(names, (c) => each(namingJumps(c, names)));
  }
  /** the chains whose rules may jump or go to one of `names` (-E: the jumps to rename), made; the others are not */
  chainsNaming(names: readonly string[]): Chain[] {
    const out: Chain[] = [];
    this.eachNaming(names, (c) => {
      if (mayName(c, names)) out.push(c);
    });
    return out;
  }
  /** each chain but those whose line, still in the file as read, names none of `names`, made, to `each` */
  private eachNaming(names: readonly string[], each: (c: Chain) => void): void {
    const src = this.src;
    settleLayout(src);
    let found: ((from: number, to: number) => boolean) | undefined;
    for (let i = 0; i < this.size; i++) {
      if (!this.made[i] && !src.edited && !src.scanned) {
        if (this.readLens[2 * i] === 0) continue;
        const line = this.shortLine(i);
        if (line) {
          found ??= textsIn(src.file, names);
          if (!found(this.pos[i]!, this.pos[i]! + line.length)) continue;
          // compared as verify() would: not again (a stamped file's: when decoded)
          if (!src.checked) pendingOf(this.chain(i))!.verified = true;
        }
      }
      each(this.chain(i));
    }
    this.added.forEach(each);
  }
  /**
   * Every chain's lines end with a newline where the header says. Reads them (a file read in
   * parts), a stretch of lines that follow each other at a time: not the lines of older records.
   */
  linesInPlace(): boolean {
    const src = this.src;
    const buf = src.file;
    let from = -1;
    let to = -1;
    for (let i = 0; i <= this.size; i++) {
      const rulesLen = i < this.size ? this.readLens[2 * i]! : 0;
      const at = this.pos[i]!;
      if (i === this.size || (rulesLen > 0 && at !== to)) {
        if (from >= 0) src.need(from, to);
        if (i === this.size) break;
        from = at;
      }
      if (rulesLen > 0) to = at + rulesLen + 1 + (this.readLens[2 * i + 1]! ? this.readLens[2 * i + 1]! + 1 : 0);
    }
    for (let i = 0; i < this.size; i++) {
      const rulesLen = this.readLens[2 * i]!;
      if (rulesLen <= 0) continue;
      const auxLen = this.readLens[2 * i + 1]!;
      const end = this.pos[i]! + rulesLen;
      if (buf[end] !== NL || (auxLen && buf[end + 1 + auxLen] !== NL)) return false;
    }
    return true;
  }
  /** where the table's lines end in the file (-1: not where line 1 puts them) */
  get end(): number {
    return this.pos[this.size]!;
  }
  /**
   * The lines of chains [from, to) as read, newlines and all, one block for each stretch of them
   * that follow each other in the file (a file laid out as its header says).
   */
  blocks(from: number, to: number, out: TableLines): void {
    copiedFrom?.add(this.src);
    let first = -1;
    let at = 0;
    let end = 0;
    let no = 0;
    let lines = 0;
    const flush = (): void => {
      if (first >= 0) out.add(first, readBlock(this.src, at, end, no, lines));
    };
    for (let i = from; i < to; i++) {
      const rulesLen = this.num[i * NUM + 3] as number;
      if (rulesLen <= 0) continue;
      const auxLen = this.num[i * NUM + 4] as number;
      const pos = this.pos[i]!;
      if (first < 0 || pos !== end || this.no[i] !== no + lines) {
        flush();
        first = i;
        at = pos;
        no = this.no[i]!;
        lines = 0;
      }
      end = pos + rulesLen + 1 + (auxLen ? auxLen + 1 : 0);
      lines += auxLen ? 2 : 1;
    }
    flush();
  }
  /** chain `i`, made now if it was not */
  chain(i: number): Chain {
    const had = this.made[i];
    if (had) return had;
    const num = this.num;
    const kind = this.kinds.charCodeAt(i);
    const rulesLen = num[i * NUM + 3] as number;
    const auxLen = num[i * NUM + 4] as number;
    const where = (what: string): LabFileError => new LabFileError(`chain ${i + 1} of a table: the list of chains is damaged (${what})`);
    let p: Pending | undefined;
    if (rulesLen > 0) {
      p = new Pending(this.src, this.no[i]!, rulesLen, sumAt(this.sums, this.sumOff[i]!), auxLen);
      const counted = this.counts[i];
      if (counted !== undefined) {
        if (!auxLen) throw where('counters for the rules of a chain without a frames line');
        p.counts = countsOf(counted, where);
      }
      const scanned = this.src.scanned;
      if (this.src.lazyLayout) this.src.pendings.push(p);
      if (scanned) p.place(scanned.at, scanned.end);
      else {
        p.at = this.pos[i]!;
        p.end = p.at + rulesLen;
        if (auxLen) {
          p.auxAt = p.end + 1;
          p.auxEnd = p.auxAt + auxLen;
        }
      }
    }
    // made without rules: they come last (as in version 2 files), as a list or a getter
    let c: Record<string, unknown>;
    if (kind === 0x67 /* g */) {
      c = Object.assign(p ? new StoredChain(p) : {}, this.heads[i] as object) as Record<string, unknown>;
    } else {
      if (rulesLen === -1) throw where('its rules are in line 1 but its fields are not');
      const name = this.names[i];
      const [pkts, bytes, handle] = [num[i * NUM], num[i * NUM + 1], num[i * NUM + 2]];
      if (typeof name !== 'string' || !fin(pkts) || !fin(bytes) || !fin(handle)) throw where('name or counters');
      c = (p ? new StoredChain(p) : {}) as Record<string, unknown>;
      c.name = name;
      if (kind === 0x41 /* A */ || kind === 0x61 /* a */ || kind === 0x44 /* D */ || kind === 0x64 /* d */) {
        c.policy = kind === 0x41 || kind === 0x61 ? 'ACCEPT' : 'DROP';
        c.created = kind === 0x41 || kind === 0x44;
      } else if (kind !== 0x75 /* u */) throw where(`kind ${JSON.stringify(this.kinds[i])}`);
      c.pkts = pkts;
      c.bytes = bytes;
      if (handle >= 0) c.handle = handle;
    }
    if (p) Object.defineProperty(c, 'rules', RULES);
    else if (rulesLen === 0) c.rules = [];
    this.made[i] = c as unknown as Chain;
    this.madeList.push(i);
    return c as unknown as Chain;
  }
  /** the chain made for `i`, if it was */
  madeAt(i: number): Chain | undefined {
    return this.made[i];
  }
  /**
   * The same chains for another table object (a copy of the table, `table`): those not made yet
   * stay in the file for both (decoding them makes new objects each time), those made are copied.
   */
  copy(table: Record<string, unknown>): TableDir {
    const d = new TableDir(table, this.src, this.names, this.namesColumn, this.kinds, this.num.slice(), cloneData(this.heads), this.sums, this.start, this.firstLine, this.runs, this.where, this.base, this.counts);
    for (const i of this.madeList) {
      const c = this.made[i]!;
      // decoded (and checked) first: the copy is plain data
      void c.rules;
      d.made[i] = cloneData({ ...c });
      d.madeList.push(i);
    }
    d.added = this.added.map((c) => cloneData(c));
    d.lookupNames = this.lookupNames;
    d.lookup = this.lookup;
    return d;
  }
  /**
   * `c`, one of this table's chains, is called c.name now (-E): found by that name from now on, and
   * no longer by the old one (a chain added since the table was read is found by its own name)
   */
  renamed(c: Chain): void {
    const i = this.madeList.find((k) => this.made[k] === c);
    if (i === undefined) return;
    // (the names and their lookup are shared with the copies of the table: this one gets its own)
    this.lookupNames = this.lookupNames.slice();
    this.lookupNames[i] = c.name;
    this.lookup = { found: new Map() };
  }
  /** findChain() without making the other chains (the last of that name, as findChain's index has it) */
  find(name: string): Chain | undefined {
    for (let k = this.added.length - 1; k >= 0; k--) if (this.added[k]!.name === name) return this.added[k];
    const i = this.indexOf(name);
    return i < 0 ? undefined : this.chain(i);
  }
  /** the index of the last chain read named `name` (-1: none), without making it */
  indexOf(name: string): number {
    const l = this.lookup;
    let i = l.index ? l.index.get(name) : l.found.get(name);
    if (i === undefined) {
      if (l.index || l.found.size < 16) {
        i = l.index ? -1 : this.lookupNames.lastIndexOf(name);
        if (!l.index) l.found.set(name, i);
      } else {
        // asked for many: index them all
        const index = (l.index = new Map<string, number>());
        this.lookupNames.forEach((n, k) => index.set(n as string, k));
        i = index.get(name) ?? -1;
      }
    }
    return i;
  }
  /** whether any chain is created (a base chain the kernel has), without making them */
  anyCreated(): boolean {
    for (let i = 0; i < this.size; i++) {
      const c = this.made[i];
      if (c ? c.created : this.kinds.charCodeAt(i) === 0x67 ? (this.heads[i] as { created?: unknown }).created : this.kinds[i] === 'A' || this.kinds[i] === 'D') return true;
    }
    return this.added.some((c) => c.created);
  }
  /** every chain: the table's `chains` from now on */
  all(): Chain[] {
    const out = new Array<Chain>(this.size);
    for (let i = 0; i < out.length; i++) out[i] = this.chain(i);
    out.push(...this.added);
    return out;
  }
}

/** a chain's entry in the `counts` column read: [position, pkts, bytes] for each rule, by position */
function countsOf(v: unknown, where: (what: string) => LabFileError): Map<number, readonly [number, number]> {
  const bad = (): LabFileError => where(`its rules' counters ${JSON.stringify(v)?.slice(0, 60)}`);
  if (!Array.isArray(v) || !v.length || v.length % 3) throw bad();
  const out = new Map<number, readonly [number, number]>();
  let last = -1;
  for (let k = 0; k < v.length; k += 3) {
    const [pos, pkts, bytes] = [v[k], v[k + 1], v[k + 2]] as number[];
    if (!Number.isSafeInteger(pos) || pos! <= last || !Number.isSafeInteger(pkts) || pkts! < 0 || !Number.isSafeInteger(bytes) || bytes! < 0) throw bad();
    out.set(pos!, [pkts!, bytes!]);
    last = pos!;
  }
  return out;
}

/** the TableDir of a table whose chains were not all made yet */
function dirOf(t: object): TableDir | undefined {
  return (t as { [DIR]?: TableDir })[DIR];
}

/** a table's `chains`: made from its TableDir on first use, a plain list from then on */
function settleChains(t: object, chains: Chain[]): void {
  (t as { [DIR]?: TableDir })[DIR] = undefined;
  Object.defineProperty(t, 'chains', { value: chains, writable: true, configurable: true, enumerable: true });
}

const CHAINS: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: object): Chain[] {
    const d = dirOf(this);
    const chains = d ? d.all() : [];
    settleChains(this, chains);
    return chains;
  },
  set(this: object, v: Chain[]) {
    settleChains(this, v);
  },
};

setStoredChains({
  find(t, name) {
    const d = dirOf(t);
    if (!d) return null;
    const c = d.find(name);
    // a chain renamed since it was made: the names in the columns no longer tell
    return c === undefined || c.name === name ? c : null;
  },
  anyCreated(t) {
    return dirOf(t)?.anyCreated() ?? null;
  },
  add(t, c) {
    const d = dirOf(t);
    if (!d) return false;
    d.added.push(c);
    return true;
  },
  count: countRules,
  insert: insertRules,
  peek: peekRules,
  namingJumps,
  mayName,
  jumps: peekJumps,
  countNothing,
  inFile: (c) => pendingOf(c) !== undefined,
  findRule,
  ruleAt: peekRuleAt,
  remove: removeRule,
  naming(t, names, each) {
    const d = dirOf(t);
    if (!d) return false;
    d.naming(names, each);
    return true;
  },
  chainsNaming(t, names) {
    return dirOf(t)?.chainsNaming(names) ?? null;
  },
  renamed(t, c) {
    const d = dirOf(t);
    d?.renamed(c);
    return d !== undefined;
  },
  copy(t) {
    const d = dirOf(t);
    // a table whose chains were all made (a listing, -X, `run`'s snapshot): copied chain by chain
    if (!d) return t.chains.some((c) => pendingOf(c)) ? copyMadeTable(t) : null;
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(t)) if (k !== 'chains') o[k] = cloneData((t as unknown as Record<string, unknown>)[k]);
    Object.defineProperty(o, DIR, { value: d.copy(o), writable: true, configurable: true, enumerable: false });
    Object.defineProperty(o, 'chains', CHAINS);
    return o as unknown as Table;
  },
});

/**
 * A copy of a table whose chains are a plain list: a chain whose rules are still in the lab file
 * (not decoded, nothing added to it) stays in the file for the copy too, with a Pending of its own
 * (decoding makes new objects each time); the others are copied as data. `iptables-restore
 * --noflush` inside `run` (whose snapshot lists the chains) copied a kube-proxy table with
 * structuredClone(), decoding its 40,000 chains.
 */
function copyMadeTable(t: Table): Table {
  const o: Record<string, unknown> = {};
  for (const k of Object.keys(t)) o[k] = k === 'chains' ? t.chains.map((c) => copyStoredChain(c) ?? cloneData(c)) : cloneData((t as unknown as Record<string, unknown>)[k]);
  return o as unknown as Table;
}

/** a copy of a chain whose rules are still in the lab file, still there; undefined when it is not such a chain */
function copyStoredChain(c: Chain): Chain | undefined {
  const p = untouchedPending(c);
  // the lines' places looked at first (once for the file): a copy's place is not found again later
  if (p) settleLayout(p.src);
  const keys = Object.keys(c);
  // (the getter last, where TableDir.chain() defines it: a chain given a field since is copied as data)
  if (!p || p.src.edited || keys[keys.length - 1] !== 'rules') return undefined;
  const q = new Pending(p.src, p.no, p.len, p.sum, p.auxLen);
  q.verified = p.verified;
  q.rulesChecked = p.rulesChecked;
  // frames that did not fit stay so; a long chain's frames are read again for the copy
  if (p.lazy === null) q.lazy = null;
  q.counts = p.counts;
  [q.at, q.end, q.auxAt, q.auxEnd] = [p.at, p.end, p.auxAt, p.auxEnd];
  const copy = new StoredChain(q) as unknown as Record<string, unknown>;
  for (const k of keys) if (k !== 'rules') copy[k] = cloneData((c as unknown as Record<string, unknown>)[k]);
  Object.defineProperty(copy, 'rules', RULES);
  return copy as unknown as Chain;
}

/** how an appended record's header line ends: its own line number, last */
const LINE_KEY = Buffer.from(',"line":');

/** [at, end) ends as an appended record's header does: `,"line":` digits `}` */
function endsAsHeader(buf: Buffer, at: number, end: number): boolean {
  if (end - at < LINE_KEY.length + 2 || buf[end - 1] !== 0x7d /* } */) return false;
  let i = end - 2;
  while (i > at && buf[i]! >= 0x30 && buf[i]! <= 0x39) i--;
  const k = i + 1 - LINE_KEY.length;
  return i < end - 2 && k >= at && buf.subarray(k, i + 1).equals(LINE_KEY);
}

/** the file's last line, when it is an appended record's header (not line 1) */
function tailHeader(buf: Buffer, need: Need): { at: number; end: number } | undefined {
  let end = buf.length;
  need(end - 41, end);
  if (end > 0 && buf[end - 1] === NL) end--;
  // the end first: a whole file's last line may be a chain's 16 MB line
  if (!endsAsHeader(buf, Math.max(0, end - 40), end)) return undefined;
  const at = lineStart(buf, end, need);
  return at > 0 ? { at, end } : undefined;
}

/** reads bytes [at, end) of a file read in parts (see Source.need) */
type Need = (at: number, end: number) => void;
const HAVE_ALL: Need = () => {};
/** how much of a file read in parts is looked at at a time for the end or start of a line */
const STEP = 1 << 16;

/** where the line holding the byte before `end` starts (its bytes are read) */
function lineStart(buf: Buffer, end: number, need: Need): number {
  for (let to = end; to > 0; ) {
    const from = Math.max(0, to - STEP);
    need(from, to);
    const i = buf.subarray(from, to).lastIndexOf(NL);
    if (i >= 0) return from + i + 1;
    to = from;
  }
  return 0;
}

/** where the first newline from `from` on is, -1 when none (the bytes before it are read) */
function lineEnd(buf: Buffer, from: number, need: Need): number {
  for (let at = from; at < buf.length; ) {
    const to = Math.min(buf.length, at + STEP);
    need(at, to);
    const i = buf.subarray(at, to).indexOf(NL);
    if (i >= 0) return at + i;
    at = to;
  }
  return -1;
}

/** the header line [at, end) starts with its checksum, and the checksum holds */
function sealed(buf: Buffer, at: number, end: number, head: string, sum: (bytes: Uint8Array, from?: number, to?: number) => number): boolean {
  const text = buf.toString('latin1', at, Math.min(end, at + SUM_LEN));
  return text.length === SUM_LEN && text.startsWith(head) && text.endsWith('",') && text.slice(head.length, SUM_LEN - 2) === hex(sum(buf, at + SUM_LEN, end));
}

/**
 * The newest appended header whose checksum holds, looking back from the end of the file: after a
 * writer stopped in the middle of an append (a crash), the file ends with part of a record.
 */
function lastSealedHeader(buf: Buffer, nl: number): { at: number; end: number } | undefined {
  let end = buf.length;
  if (end > 0 && buf[end - 1] === NL) end--;
  while (end > nl + 1) {
    const at = buf.lastIndexOf(NL, end - 1) + 1;
    if (at <= nl) break;
    if (endsAsHeader(buf, at, end) && sealed(buf, at, end, SUM_HEAD, crc32)) return { at, end };
    end = at - 1;
  }
  return undefined;
}

/**
 * Makes the tables of a version 3 or 4 header read their chains from the file: from `start` (line
 * `line`) on in the order of the columns, or, in an appended header, where its runs say. Returns
 * where the lines end and the next line's number (implicit layout), or -1 when some are not where
 * the header says.
 */
function readTables(data: unknown, src: Source, trusted: boolean, start: number, line: number, header: { at: number; end: number }, appended: boolean, dirs: TableDir[]): { pos: number; line: number } {
  const hosts = (data as { hosts?: unknown }).hosts;
  const bases = new Map<number, unknown>();
  let pos = start;
  for (const [hn, h] of Object.entries(isObj(hosts) ? hosts : {})) {
    if (!isObj(h) || !isObj(h.tables)) continue; // the structure check reports it
    for (const [tn, t] of Object.entries(h.tables)) {
      // chains as a list: a lab written by hand as one document (checked in full)
      if (!isObj(t) || t.chains === undefined || Array.isArray(t.chains)) continue;
      const where = `hosts.${hn}.tables.${tn}`;
      const bad = (what: string): LabFileError => new LabFileError(`${where}: the list of chains is damaged (${what})`);
      if (!isObj(t.chains)) throw bad('not a set of columns');
      let cols: Record<string, unknown> = t.chains;
      let base: PatchBase = { at: header.at, end: header.end, reach: cols.reach, changed: [], size: typeof cols.kinds === 'string' ? cols.kinds.length : 0 };
      if (cols.patch !== undefined) {
        if (!appended) throw bad('a patch in line 1');
        ({ cols, base } = unpatch(cols, src, hn, tn, bases, header, bad));
        t.chains = cols;
      }
      const { kinds, num, sums, heads, runs, counts } = cols;
      if (typeof kinds !== 'string') throw bad('no kinds');
      const names = namesOf(cols.names, kinds.length);
      if (!names) throw bad('names and kinds differ in number');
      if (!Array.isArray(num) || num.length !== names.length * NUM) throw bad('num does not have five numbers a chain');
      if (typeof sums !== 'string' || (heads !== undefined && !isObj(heads))) throw bad('sums or heads');
      if (counts !== undefined && !isObj(counts)) throw bad('counts');
      if (appended !== (runs !== undefined)) throw bad(appended ? 'no runs in an appended header' : 'runs in line 1');
      if (runs !== undefined && !(Array.isArray(runs) && runs.length % 3 === 0 && runs.every((v, k) => Number.isSafeInteger(v) && v >= (k % 3 === 2 ? 2 : 0)))) throw bad('runs');
      const d = new TableDir(t, src, names, cols.names, kinds, num, heads ?? {}, sums, pos, line, runs as number[] | undefined, where, base, counts ?? {});
      if (!appended) {
        line = d.no[d.size]!;
        pos = d.end;
      } else if (d.broken) pos = -1;
      dirs.push(d);
      Object.defineProperty(t, DIR, { value: d, writable: true, configurable: true, enumerable: false });
      Object.defineProperty(t, 'chains', CHAINS);
      const reach = cols.reach;
      if (trusted && typeof reach === 'string' && reachFits(reach, d.size)) {
        storeReach(t as unknown as Table, {
          column: reach,
          nameAt: (i) => d.nameAt(i),
          indexOf: (name) => d.indexOf(name),
          // lines found where the header puts them (not scanned), none edited
          // (all the file's tables: a writer that checked them all stamps the file as checked)
          verify: () => !src.scanned && src.dirs.every((x) => x.intact()),
          intact: () => !src.edited,
        });
      }
    }
  }
  return { pos, line };
}

/**
 * The full columns of a table whose appended header gives a patch: the columns of the earlier header
 * it names, with the entries of the chains it lists replaced, and the patch's runs. Each base header
 * is parsed once (`bases`, by offset).
 */
function unpatch(cols: Record<string, unknown>, src: Source, hn: string, tn: string, bases: Map<number, unknown>, header: { at: number; end: number }, bad: (what: string) => LabFileError): { cols: Record<string, unknown>; base: PatchBase } {
  const patch = cols.patch;
  if (!isObj(patch)) throw bad('a patch that is no object');
  const at = (patch.base as unknown[] | undefined)?.[0];
  const end = (patch.base as unknown[] | undefined)?.[1];
  const f = src.file;
  if (!Number.isSafeInteger(at) || !Number.isSafeInteger(end) || (at as number) < 0 || (end as number) <= (at as number) || (end as number) >= header.at) throw bad('a patch against no earlier header');
  const [from, to] = [at as number, end as number];
  let data = bases.get(from);
  if (data === undefined) {
    src.need(Math.max(0, from - 1), to + 1);
    if ((from > 0 && f[from - 1] !== NL) || f[to] !== NL || !sealed(f, from, to, SUM_HEAD, crc32)) throw bad(`the header its patch is against (bytes ${from} to ${to}) is not one`);
    data = JSON.parse(f.toString('utf8', from, to)) as unknown;
    bases.set(from, data);
  }
  const bt = ((data as { hosts?: Record<string, { tables?: Record<string, unknown> }> }).hosts?.[hn]?.tables?.[tn] as { chains?: unknown } | undefined)?.chains;
  if (!isObj(bt) || bt.patch !== undefined || typeof bt.kinds !== 'string' || !Array.isArray(bt.num) || typeof bt.sums !== 'string' || bt.num.length !== bt.kinds.length * NUM) throw bad('the header its patch is against has no such table');
  const baseKinds = bt.kinds;
  const num = bt.num as unknown[];
  const { chains, kinds, num: pnum, sums: psums } = patch;
  const n = baseKinds.length;
  if (!Array.isArray(chains) || typeof kinds !== 'string' || !Array.isArray(pnum) || typeof psums !== 'string' || kinds.length !== chains.length || pnum.length !== chains.length * NUM) throw bad('a patch whose entries do not match');
  const lined = (v: unknown): boolean => typeof v === 'number' && v > 0;
  // the new kinds and checksums, in stretches between the chains patched
  const kindParts: string[] = [];
  const sumParts: string[] = [];
  let prev = 0;
  let sumPrev = 0;
  let sumAt = 0;
  let walked = 0;
  let psum = 0;
  for (let k = 0; k < chains.length; k++) {
    const i = chains[k] as number;
    if (!Number.isSafeInteger(i) || i < prev || i >= n) throw bad('a patch whose chains are not in order');
    const was = baseKinds.charCodeAt(i);
    if (was === 0x67 /* g */ || kinds.charCodeAt(k) === 0x67 || lined(num[i * NUM + 3]) !== lined(pnum[k * NUM + 3])) throw bad(`a patch that changes what chain ${i + 1} is`);
    for (; walked < i; walked++) if (lined(num[walked * NUM + 3])) sumAt += 8;
    kindParts.push(baseKinds.slice(prev, i), kinds[k]!);
    for (let j = 0; j < NUM; j++) num[i * NUM + j] = pnum[k * NUM + j];
    if (lined(pnum[k * NUM + 3])) {
      sumParts.push(bt.sums.slice(sumPrev, sumAt), psums.slice(psum, psum + 8));
      psum += 8;
      sumPrev = sumAt + 8;
    }
    prev = i + 1;
  }
  if (psum !== psums.length) throw bad('a patch whose sums do not match');
  kindParts.push(baseKinds.slice(prev));
  sumParts.push(bt.sums.slice(sumPrev));
  // the counters of the chains patched are the patch's (none when it has none for one)
  if ((bt.counts !== undefined && !isObj(bt.counts)) || (patch.counts !== undefined && !isObj(patch.counts))) throw bad('counts');
  const counts: Record<string, unknown> = { ...(bt.counts as Record<string, unknown> | undefined) };
  for (const i of chains) delete counts[i as number];
  const listed = new Set(chains);
  for (const k of Object.keys(patch.counts ?? {})) if (!listed.has(Number(k)) && Number(k) < n) throw bad(`a patch with counters for chain ${Number(k) + 1}, which it does not list`);
  Object.assign(counts, patch.counts);
  const full: Record<string, unknown> = { names: bt.names, kinds: kindParts.join(''), num, sums: sumParts.join(''), heads: bt.heads, runs: cols.runs, counts };
  // the chains added after the base's
  const added = patch.added;
  if (added !== undefined) {
    const { names, kinds: ak, num: an, sums: as } = (isObj(added) ? added : {}) as Record<string, unknown>;
    if (!Array.isArray(names) || typeof ak !== 'string' || ak.length !== names.length || ak.includes('g') || !Array.isArray(an) || an.length !== names.length * NUM || typeof as !== 'string') throw bad('a patch whose added chains do not match');
    // (the names column joined on, when it is one string and stays one)
    const joined = typeof bt.names === 'string' && names.every((x) => typeof x === 'string' && !x.includes('\n'));
    const baseNames = joined ? [] : namesOf(bt.names, n);
    if (!baseNames) throw bad('the header its patch is against has names and kinds that differ in number');
    full.names = joined ? [...(n ? [bt.names] : []), ...names].join('\n') : namesColumn([...baseNames, ...names]);
    full.kinds = (full.kinds as string) + ak;
    full.num = num.concat(an);
    full.sums = (full.sums as string) + as;
  }
  const reach = 'reach' in patch ? patch.reach : bt.reach;
  if (reach !== undefined) full.reach = reach;
  return { cols: full, base: { at: from, end: to, reach: bt.reach, changed: chains as number[], size: n } };
}

/**
 * The layout version of a lab read: its `version`, but 4 for a version 5 header (whose tables'
 * columns may be patches or have counts), which is then a version 4 lab to everything else.
 */
function layoutVersion(data: unknown, header: boolean): unknown {
  if (typeof data !== 'object' || data === null) return undefined;
  const lab = data as { version?: unknown };
  if (header && lab.version === V5) lab.version = LAB_VERSION;
  return lab.version;
}

/** where a lab file's bytes come from */
export interface LabSource {
  /** what the reader says of the file on disk, given back to the writer's check before an append */
  origin?: unknown;
  /**
   * For a file read in parts: reads bytes [at, end) into the buffer (which is as long as the file,
   * its other bytes not read yet). Only what a command uses is read: line 1 or the newest header,
   * and the lines of the chains something reads.
   */
  need?: Need;
  /**
   * The file is as an iptables-sim that had checked all its lines left it (store.ts keeps a stamp
   * of it next to the file): its lines are believed without being read, until one read says
   * otherwise.
   */
  checked?: boolean;
}

/**
 * Reads a lab file's bytes. `onEdited` is called (and may throw) when a chain's rules turn out to
 * have been changed outside iptables-sim, the first time such a chain is read.
 */
export function decodeLab(buf: Buffer, onEdited: () => void, from: LabSource = {}): DecodedLab {
  const { origin } = from;
  const need = from.need ?? HAVE_ALL;
  // the whole file, and decoded as a file read whole is (which finds what is wrong with it)
  const eager = (): DecodedLab => {
    need(0, buf.length);
    return decodeLab(buf, onEdited, { origin });
  };
  // a version 4 file may end with appended records: the last one's header is the lab
  let head = tailHeader(buf, need);
  let nl = head ? -1 : lineEnd(buf, 0, need);
  let data: unknown;
  if (head) data = JSON.parse(buf.toString('utf8', head.at, head.end));
  else {
    try {
      data = JSON.parse(buf.toString('utf8', 0, nl < 0 ? buf.length : nl));
    } catch {
      data = undefined;
    }
  }
  let version = layoutVersion(data, head !== undefined || buf.toString('latin1', 0, SUM_HEAD.length) === SUM_HEAD);
  // a newer layout is not ours to take apart: the version check names it
  if (typeof version === 'number' && version > LAB_VERSION) return { data, trusted: false, decodeAll() {} };
  const lazy = need !== HAVE_ALL && (version === 3 || version === 4);
  if (need !== HAVE_ALL && !lazy) return eager();
  if (head && !lazy) nl = buf.indexOf(NL);
  if (version !== 2 && version !== 3 && version !== 4) {
    // version 1, or something else: one JSON document (JSON.parse's message says where it breaks)
    return { data: JSON.parse(buf.toString('utf8')), trusted: false, decodeAll() {} };
  }
  const sum = version === 2 ? fnv : crc32;
  const dirs: TableDir[] = [];
  const src: Source = { file: buf, sum, onEdited, edited: false, scanned: undefined, origin, headLen: 0, lastLine: 1, appendable: false, need, lazyLayout: lazy, dirs, pendings: [], checked: false };
  const pendings: Pending[] = [];
  const chains: Chain[] = [];
  let trusted: boolean;
  let exact: boolean;
  if (version !== 2) {
    trusted = sealed(buf, head?.at ?? 0, head?.end ?? (nl < 0 ? buf.length : nl), SUM_HEAD, crc32);
    let end = readTables(data, src, trusted, nl + 1, 2, head ?? { at: 0, end: nl < 0 ? buf.length : nl }, head !== undefined, dirs);
    exact = end.pos >= 0 && (head !== undefined || end.pos >= buf.length);
    // read in parts only what iptables-sim wrote as it wrote it
    if (lazy && !(trusted && exact)) return eager();
    if (!exact && !head && version === 4) {
      // the end of an append that did not finish: the last record that did is the lab
      const h = lastSealedHeader(buf, nl);
      if (h) {
        head = h;
        data = JSON.parse(buf.toString('utf8', h.at, h.end));
        version = layoutVersion(data, true);
        if (version !== 4) throw new LabFileError(`the header on the line that ends at byte ${h.end} is not of version 4`);
        dirs.length = 0;
        trusted = true;
        end = readTables(data, src, trusted, nl + 1, 2, h, true, dirs);
        exact = end.pos >= 0;
      }
    }
    if (head) {
      const no = (data as { line?: unknown }).line;
      delete (data as { line?: unknown }).line;
      src.lastLine = Number.isSafeInteger(no) ? (no as number) : -1;
      src.headLen = head.end - head.at;
    } else {
      src.lastLine = end.line - 1;
      src.headLen = nl;
    }
    if (!exact) src.scanned = scanLines(buf, nl);
    // the newest header ends the file: a record can follow it
    src.appendable = version === 4 && trusted && exact && src.lastLine > 0 && (!head || (buf[head.end] === NL && head.end + 1 === buf.length));
  } else {
    trusted = sealed(buf, 0, nl < 0 ? buf.length : nl, V2_SUM_HEAD, fnv);
    for (const h of Object.values((data as Lab).hosts)) {
      for (const t of Object.values(h.tables ?? {}) as (Table | undefined)[]) {
        if (!t || !Array.isArray(t.chains)) continue;
        t.chains = t.chains.map((c) => {
          const ref = (c as unknown as { rules: unknown }).rules;
          if (!isObj(ref)) return c; // a list, or what the structure check reports
          const r = ref as { line: number; bytes: number; sum: string };
          if (!Number.isInteger(r.line) || r.line < 1 || !Number.isInteger(r.bytes) || typeof r.sum !== 'string') {
            throw new LabFileError(`chain ${c.name}: its rules reference ${JSON.stringify(ref)} is not {line, bytes, sum}`);
          }
          const p = new Pending(src, r.line + 1, r.bytes, r.sum.length === 8 ? sumAt(r.sum, 0) : NO_SUM, 0);
          pendings.push(p);
          const sc = Object.assign(new StoredChain(p), c) as unknown as Chain;
          Object.defineProperty(sc, 'rules', RULES);
          chains.push(sc);
          return sc;
        });
      }
    }
    // our own files have the lines in order, each as long as line 1 says (checked at each end)
    let pos = nl + 1;
    exact = true;
    for (let k = 0; k < pendings.length && exact; k++) {
      const p = pendings[k]!;
      if (p.no !== k + 2 || buf[pos + p.len] !== NL) exact = false;
      else {
        p.at = pos;
        p.end = pos + p.len;
        pos = p.end + 1;
      }
    }
    exact &&= pos >= buf.length;
    if (!exact) {
      src.scanned = scanLines(buf, nl);
      for (const p of pendings) p.place(src.scanned.at, src.scanned.end);
    }
  }
  // (a stamp vouches for the file as its writer left it: laid out as its newest header says)
  src.checked = from.checked === true && version !== 2 && trusted && exact;
  if (isObj(data)) Object.defineProperty(data, SOURCE, { value: src, writable: true, configurable: true, enumerable: false });
  return {
    data,
    // lines not where line 1 puts them: truncated, or edited by hand
    trusted: trusted && exact,
    decodeAll() {
      for (const c of chains) void c.rules;
      for (const d of dirs) for (const c of d.table.chains as Chain[]) void c.rules;
    },
  };
}
