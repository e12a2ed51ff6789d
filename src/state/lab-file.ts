/**
 * The lab file's layout (format version 2): JSON Lines. Line 1 is the lab as JSON with every
 * non-empty chain's rules left out: in their place the chain names the line that holds them, that
 * line's length in bytes and its checksum. Each later line is one chain's rules as a JSON array.
 * Line 1 starts with the checksum of the rest of itself.
 *
 *   {"checksum":"fnv1a:0c3d...","format":"iptables-sim-lab","version":2,...
 *     "chains":[{"name":"PREROUTING",...,"rules":{"line":1,"bytes":219,"sum":"5f0e..."}},...]...}
 *   [{"matches":[{"name":"comment","data":...}],...,"target":{"kind":"jump","chain":"KUBE-SERVICES"}}]
 *
 * Why lines: a kube-proxy-sized lab holds 110,000 rules in 40,000 chains (34 MB), and a command or
 * a trace uses a few of those chains. Reading parses line 1 only; a chain's rules are decoded (and
 * their checksum verified) when something first reads them; writing copies the lines of chains
 * nobody read byte for byte. Checksums are FNV-1a (32 bits): they tell our own writes from edits
 * made by hand, they are not a seal.
 *
 * Version 1 files (one JSON document, written by iptables-sim 0.1 development builds or by hand)
 * are read whole.
 */
import type { Chain, Table } from '../ruleset/tables.js';
import type { Rule } from '../ruleset/rule.js';
import { LAB_VERSION, type Lab } from '../net/lab.js';

const SUM_HEAD = '{"checksum":"fnv1a:';
/** `{"checksum":"fnv1a:<8 hex>",` */
const SUM_LEN = SUM_HEAD.length + 8 + 2;
const NL = 0x0a;

interface RulesRef {
  line: number;
  bytes: number;
  sum: string;
}

/** rules of a chain still in the file: the line that holds them, and what line 1 says of it */
interface Pending {
  line: Buffer;
  ref: RulesRef;
}

const pending = new WeakMap<Chain, Pending>();

export function fnv1a(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

function chainsOf(lab: Lab): Chain[] {
  const out: Chain[] = [];
  for (const h of Object.values(lab.hosts)) {
    for (const t of Object.values(h.tables ?? {}) as (Table | undefined)[]) if (t) out.push(...t.chains);
  }
  return out;
}

/** The file's bytes for a lab. Chains whose rules were never read keep their stored line. */
export function encodeLab(lab: Lab): Buffer {
  const lines: Buffer[] = [];
  const refs = new Map<Chain, RulesRef | []>();
  for (const c of chainsOf(lab)) {
    const p = pending.get(c);
    let bytes: Buffer;
    let sum: string;
    if (p) {
      // copied with what line 1 said of it: a line edited by hand stays recognisable as such
      bytes = p.line;
      sum = p.ref.sum;
    } else {
      if (!c.rules.length) {
        refs.set(c, []);
        continue;
      }
      bytes = Buffer.from(JSON.stringify(c.rules));
      sum = fnv1a(bytes);
    }
    lines.push(bytes);
    refs.set(c, { line: lines.length, bytes: p ? p.ref.bytes : bytes.length, sum });
  }
  // the header: the lab with each chain's rules replaced by its reference (getters not run)
  const chainHead = (c: Chain): Record<string, unknown> => {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(c)) if (k !== 'rules') o[k] = (c as unknown as Record<string, unknown>)[k];
    o.rules = refs.get(c) ?? [];
    return o;
  };
  const hosts: Record<string, unknown> = {};
  for (const [name, h] of Object.entries(lab.hosts)) {
    const tables: Record<string, unknown> = {};
    for (const [tn, t] of Object.entries(h.tables ?? {}) as [string, Table | undefined][]) tables[tn] = t && { ...t, chains: t.chains.map(chainHead) };
    hosts[name] = { ...h, tables };
  }
  const { checksum: _, ...rest } = lab as Lab & { checksum?: unknown };
  const header = JSON.stringify({ ...rest, version: LAB_VERSION, hosts });
  const body = Buffer.from(header.slice(1));
  const parts: Buffer[] = [Buffer.from(`${SUM_HEAD}${fnv1a(body)}",`), body];
  for (const l of lines) parts.push(Buffer.from('\n'), l);
  parts.push(Buffer.from('\n'));
  return Buffer.concat(parts);
}

export interface DecodedLab {
  /** the lab; rules of version 2 files are decoded when first read */
  data: unknown;
  /** line 1's checksum matches: iptables-sim wrote it */
  trusted: boolean;
  /** decodes every chain's rules now (for a full check) */
  decodeAll(): void;
}

export class LabFileError extends Error {}

/**
 * The rule lines by number. Our own files have them in order, each as long as line 1 says: their
 * places follow from the lengths (checked at each end); anything else is found by scanning.
 */
function lineTable(buf: Buffer, nl: number, refs: [Chain, RulesRef][]): { lines: Map<number, Buffer>; exact: boolean } {
  const out = new Map<number, Buffer>();
  let at = nl + 1;
  let line = 1;
  for (const [, r] of refs) {
    const end = at + r.bytes;
    if (r.line !== line || buf[end] !== NL) break;
    out.set(line, buf.subarray(at, end));
    at = end + 1;
    line++;
  }
  if (out.size === refs.length && at >= buf.length) return { lines: out, exact: true };
  out.clear();
  for (let start = nl + 1, n = 1; start > 0 && start < buf.length; n++) {
    const end = buf.indexOf(NL, start);
    out.set(n, buf.subarray(start, end < 0 ? buf.length : end));
    start = end < 0 ? -1 : end + 1;
  }
  return { lines: out, exact: false };
}

/**
 * Reads a lab file's bytes. `onEdited` is called (and may throw) when a chain's rules turn out to
 * have been changed outside iptables-sim, the first time such a chain is read.
 */
export function decodeLab(buf: Buffer, onEdited: () => void): DecodedLab {
  const nl = buf.indexOf(NL);
  const first = buf.subarray(0, nl < 0 ? buf.length : nl);
  let data: unknown;
  try {
    data = JSON.parse(first.toString('utf8'));
  } catch {
    data = undefined;
  }
  const version = typeof data === 'object' && data !== null ? (data as { version?: unknown }).version : undefined;
  // a newer layout is not ours to take apart: the version check names it
  if (typeof version === 'number' && version > LAB_VERSION) return { data, trusted: false, decodeAll() {} };
  if (version !== 2) {
    // version 1, or something else: one JSON document (JSON.parse's message says where it breaks)
    return { data: JSON.parse(buf.toString('utf8')), trusted: false, decodeAll() {} };
  }
  const text = first.toString('latin1', 0, SUM_LEN);
  const trusted = text.startsWith(SUM_HEAD) && text.endsWith('",') && text.slice(SUM_HEAD.length, SUM_LEN - 2) === fnv1a(first.subarray(SUM_LEN));
  const refs: [Chain, RulesRef][] = [];
  for (const c of chainsOf(data as Lab)) {
    const ref = (c as unknown as { rules: unknown }).rules;
    if (Array.isArray(ref)) continue;
    if (typeof ref !== 'object' || ref === null) continue; // the structure check reports it
    const r = ref as RulesRef;
    if (!Number.isInteger(r.line) || r.line < 1 || !Number.isInteger(r.bytes) || typeof r.sum !== 'string') {
      throw new LabFileError(`chain ${c.name}: its rules reference ${JSON.stringify(ref)} is not {line, bytes, sum}`);
    }
    refs.push([c, r]);
  }
  const { lines, exact } = lineTable(buf, nl, refs);
  const lineOf = (ref: RulesRef): Buffer | undefined => lines.get(ref.line);
  const lazy: Chain[] = [];
  let edited = false;
  const decode = (c: Chain, ref: RulesRef): Rule[] => {
    const bytes = lineOf(ref);
    if (!bytes) throw new LabFileError(`the rules of chain ${c.name} should be on line ${ref.line + 1}, which the file does not have`);
    if ((bytes.length !== ref.bytes || fnv1a(bytes) !== ref.sum) && !edited) {
      edited = true;
      onEdited();
    }
    try {
      return JSON.parse(bytes.toString('utf8')) as Rule[];
    } catch (e) {
      throw new LabFileError(`line ${ref.line + 1} (the rules of chain ${c.name}) is not valid JSON: ${(e as Error).message}`);
    }
  };
  const settle = (c: Chain, rules: Rule[]): void => {
    pending.delete(c);
    Object.defineProperty(c, 'rules', { value: rules, writable: true, configurable: true, enumerable: true });
  };
  for (const [c, r] of refs) {
    const line = lineOf(r);
    if (line) pending.set(c, { line, ref: r });
    lazy.push(c);
    Object.defineProperty(c, 'rules', {
      configurable: true,
      enumerable: true,
      get() {
        const rules = decode(c, r);
        settle(c, rules);
        return rules;
      },
      set(v: Rule[]) {
        settle(c, v);
      },
    });
  }
  return {
    data,
    // lines not where line 1 puts them: truncated, or edited by hand
    trusted: trusted && exact,
    decodeAll() {
      for (const c of lazy) void c.rules;
    },
  };
}
