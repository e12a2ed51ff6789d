/**
 * The chains the rules of a rules line jump or go to, read from the line's bytes without decoding
 * it: what `JSON.parse(line).map(jumpTarget)` gives (../ruleset/rule.ts), for the lines as
 * iptables-sim writes them (JSON.stringify of the rules: no white space, keys once each). Counting
 * the references of every chain of a kube-proxy-sized table (`iptables -L`) decoded its 27 MB of
 * rules lines once for the counts and again to print them.
 *
 * Only for lines whose checksum holds (written by iptables-sim, so valid JSON): the values it
 * passes over are skipped, not checked. What it does not read exactly as JSON.parse would (white
 * space between tokens, a key twice, a rule that is not an object, a jump whose chain is not a
 * string, ...) gives undefined, and the caller decodes the line (test/jump-scan.test.ts holds it to
 * JSON.parse on random lines).
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

const TARGET = Buffer.from('"target"');
const KIND = Buffer.from('"kind"');
const JUMP = Buffer.from('"jump"');
const GOTO = Buffer.from('"goto"');

/** the end (after its closing quote) of the string that starts at `at`; -1 when it does not close */
function stringEnd(f: Buffer, at: number, end: number): number {
  let i = at + 1;
  for (;;) {
    const q = f.indexOf(QUOTE, i);
    if (q < 0 || q >= end) return -1;
    // escaped when an odd number of backslashes comes before it
    let k = q - 1;
    while (k > at && f[k] === BACKSLASH) k--;
    if ((q - 1 - k) % 2 === 0) return q + 1;
    i = q + 1;
  }
}

/**
 * The end of the JSON value that starts at `at` (a string, object, array, number or literal),
 * without looking inside it beyond what finding its end needs; -1 when it does not end before `end`.
 */
function valueEnd(f: Buffer, at: number, end: number): number {
  const c = f[at];
  if (c === QUOTE) return stringEnd(f, at, end);
  if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
    let depth = 0;
    for (let i = at; i < end; ) {
      const b = f[i]!;
      if (b === QUOTE) {
        i = stringEnd(f, i, end);
        if (i < 0) return -1;
        continue;
      }
      if (b === OPEN_OBJECT || b === OPEN_ARRAY) depth++;
      else if (b === CLOSE_OBJECT || b === CLOSE_ARRAY) {
        if (--depth === 0) return i + 1;
      }
      i++;
    }
    return -1;
  }
  // a number, true, false or null: up to the next comma or closing bracket (no white space)
  let i = at;
  while (i < end && f[i] !== COMMA && f[i] !== CLOSE_OBJECT && f[i] !== CLOSE_ARRAY) {
    if (!LITERAL[f[i]!]) return -1;
    i++;
  }
  return i > at ? i : -1;
}

/** the bytes of numbers and of true, false and null */
const LITERAL = new Uint8Array(256);
for (const c of Buffer.from('0123456789+-.eEtruefalsn')) LITERAL[c] = 1;

const startsWith = (f: Buffer, at: number, text: Buffer): boolean => {
  for (let i = 0; i < text.length; i++) if (f[at + i] !== text[i]) return false;
  return true;
};

/** whether the string token [at, to) is exactly `text` (a key or value without escapes) */
const isText = (f: Buffer, at: number, to: number, text: Buffer): boolean => to - at === text.length && startsWith(f, at, text);

/** a string token's value; undefined when it is not a string */
function stringValue(f: Buffer, at: number, to: number): string | undefined {
  if (f[at] !== QUOTE) return undefined;
  // with an escape in it, JSON says what it means
  for (let i = at + 1; i < to - 1; i++) if (f[i] === BACKSLASH) return JSON.parse(f.toString('utf8', at, to)) as string;
  return f.toString('utf8', at + 1, to - 1);
}

/**
 * The target of one rule object's "target" value [at, to): the chain of a jump or goto, null for
 * any other target, undefined when the value is not as JSON.stringify writes a target.
 */
function targetChain(f: Buffer, at: number, to: number): string | null | undefined {
  // (null, a string, a number, a list: no target that jumps)
  if (f[at] !== OPEN_OBJECT) return null;
  let kind: 'jump' | 'other' | undefined;
  let chain: [number, number] | undefined;
  let i = at + 1;
  if (f[i] === CLOSE_OBJECT) return i + 1 === to ? null : undefined;
  for (;;) {
    const k = stringEnd(f, i, to);
    if (f[i] !== QUOTE || k < 0 || f[k] !== COLON) return undefined;
    const v = k + 1;
    const e = valueEnd(f, v, to);
    if (e < 0) return undefined;
    const key = stringValue(f, i, k);
    if (key === 'kind') {
      if (kind !== undefined) return undefined;
      // (a kind that is no string is no jump)
      const value = stringValue(f, v, e);
      kind = value === 'jump' || value === 'goto' ? 'jump' : 'other';
    } else if (key === 'chain') {
      if (chain) return undefined;
      chain = [v, e];
    }
    if (f[e] === CLOSE_OBJECT) {
      if (e + 1 !== to) return undefined;
      break;
    }
    if (f[e] !== COMMA) return undefined;
    i = e + 1;
  }
  if (kind !== 'jump' || !chain) return null;
  // jumpTarget() hands on whatever `chain` is; only a string is answered for here
  return stringValue(f, chain[0], chain[1]);
}

/** `{"kind":"jump","chain":"` and `{"kind":"goto","chain":"`: a target as JSON.stringify writes one */
const JUMP_HEAD = Buffer.from('{"kind":"jump","chain":"');
const GOTO_HEAD = Buffer.from('{"kind":"goto","chain":"');

/** `{"kind":"`: a target as JSON.stringify writes one, its kind first */
const KIND_HEAD = Buffer.from('{"kind":"');

/** the end of the kind string at `at` when it is neither "jump" nor "goto" and holds no escape (so means itself); else -1 (the target is read key by key) */
function plainKind(f: Buffer, at: number, end: number): number {
  const e = stringEnd(f, at, end);
  return e > 0 && !isText(f, at, e, JUMP) && !isText(f, at, e, GOTO) && f.subarray(at, e).indexOf(BACKSLASH) < 0 ? e : -1;
}

/**
 * The jump and goto targets of the rules in the line f[at, end), in rule order (a rule without one
 * gives nothing); undefined when the line is not a list of rule objects written as iptables-sim
 * writes them. One pass over the bytes, keeping the depth: the keys of a rule are the strings at
 * depth 2 followed by a colon.
 */
export function scanJumps(f: Buffer, at: number, end: number): string[] | undefined {
  if (f[at] !== OPEN_ARRAY || f[end - 1] !== CLOSE_ARRAY) return undefined;
  const out: string[] = [];
  let depth = 0;
  /** the rule being read has a "target" key */
  let targeted = false;
  /** in a target read on after its kind (which must then be its only one) */
  let inTarget = false;
  /** at depth 1: a rule must come next (after "[" or ","), or a comma or the end (after a rule) */
  let ruleNext = true;
  for (let i = at; i < end; i++) {
    const b = f[i]!;
    if (b === QUOTE) {
      // (stringEnd(), inline, noting escapes: most of the line is strings)
      const s = i;
      let escaped = false;
      for (i++; i < end; i++) {
        const c = f[i]!;
        if (c === QUOTE) break;
        if (c === BACKSLASH) {
          escaped = true;
          i++;
        }
      }
      if (i >= end || depth === 1) return undefined;
      if (f[i + 1] !== COLON || depth > 3) continue;
      // a key: of a target read on (no second kind), or of a rule
      if (depth === 3) {
        if (inTarget && (escaped ? stringValue(f, s, i + 1) === 'kind' : isText(f, s, i + 1, KIND))) return undefined;
        continue;
      }
      if (escaped ? stringValue(f, s, i + 1) !== 'target' : !isText(f, s, i + 1, TARGET)) continue;
      if (targeted) return undefined;
      targeted = true;
      const v = i + 2;
      let kindEnd: number;
      if (startsWith(f, v, JUMP_HEAD) || startsWith(f, v, GOTO_HEAD)) {
        // the usual jump: the chain's name, then the end of the target
        const q = stringEnd(f, v + JUMP_HEAD.length - 1, end);
        if (q < 0 || f[q] !== CLOSE_OBJECT) return undefined;
        out.push(stringValue(f, v + JUMP_HEAD.length - 1, q)!);
        i = q;
      } else if (startsWith(f, v, KIND_HEAD) && (kindEnd = plainKind(f, v + KIND_HEAD.length - 1, end)) > 0) {
        // the usual other target (a verdict, an extension): its kind first, no jump; read on
        // after the kind, inside the target
        depth++;
        inTarget = true;
        i = kindEnd - 1;
      } else if (f[v] === OPEN_OBJECT) {
        // any other object: looked at key by key
        const e = valueEnd(f, v, end);
        if (e < 0) return undefined;
        const chain = targetChain(f, v, e);
        if (chain === undefined) return undefined;
        if (chain !== null) out.push(chain);
        i = e - 1;
      }
      // (else a value that is no object: no target that jumps; read on as any value)
      continue;
    }
    if (b === OPEN_OBJECT || b === OPEN_ARRAY) {
      // each element of the list is a rule object
      if (depth === 1) {
        if (b !== OPEN_OBJECT || !ruleNext) return undefined;
        targeted = false;
        ruleNext = false;
      }
      depth++;
    } else if (b === CLOSE_OBJECT || b === CLOSE_ARRAY) {
      if (depth === 3) inTarget = false;
      if (--depth === 0 && (i !== end - 1 || (ruleNext && i !== at + 1))) return undefined;
    } else if (depth === 1) {
      if (b !== COMMA || ruleNext) return undefined;
      ruleNext = true;
    }
  }
  return depth === 0 ? out : undefined;
}
