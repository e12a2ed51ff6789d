/**
 * Whole-table output: `iptables -L`, `iptables -S` and iptables-save, framed exactly as
 * iptables 1.8.9 (nf_tables) frames them.
 */
import { PROGRAM_VERSION } from '../errors.js';
import type { Chain, Table, TableName } from '../ruleset/tables.js';
import { builtinChains, isBuiltin, referenceCounts, rulesOnce, userChainsSorted, SAVE_ORDER, type Tables } from '../ruleset/tables.js';
import { listRule, printNumNoTable, saveRule, type ListFormat } from './rule-text.js';

/** chains in listing order: built-in (hook order) then user chains by name */
export function chainsInOrder(table: TableName, t: Table): Chain[] {
  return [...builtinChains(table, t), ...userChainsSorted(table, t)];
}

function header(table: TableName, refs: () => Map<string, number>, c: Chain, f: ListFormat): string {
  let s = `Chain ${c.name}`;
  if (isBuiltin(table, c.name)) {
    s += ` (policy ${c.policy}`;
    if (f.verbose) s += ` ${printNumNoTable(c.pkts, f)}packets, ${printNumNoTable(c.bytes, f)}bytes`;
    s += ')\n';
  } else {
    s += ` (${refs().get(c.name) ?? 0} references)\n`;
  }
  if (f.lineNumbers) s += 'num  ';
  if (f.verbose) s += f.expanded ? `${'pkts'.padStart(8)} ${'bytes'.padStart(10)} ` : ' pkts bytes ';
  s += 'target    ';
  s += ' prot ';
  s += 'opt';
  if (f.verbose) s += ' in     out    ';
  s += ` ${'source'.padEnd(19)} `;
  s += ` ${'destination'.padEnd(19)} `;
  return s + '\n';
}

/** iptables -L [chain] */
export function listChains(table: TableName, t: Table, chains: Chain[], f: ListFormat): string {
  let counted: Map<string, number> | undefined;
  // a few chains listed: only the lines that name them are decoded to count
  const few = chains.length <= 16 ? chains.map((c) => c.name) : undefined;
  const refs = (): Map<string, number> => (counted ??= referenceCounts(t, few));
  const out = new TextOut();
  chains.forEach((c, i) => {
    if (i > 0) out.add('\n');
    out.add(header(table, refs, c, f));
    rulesOnce(c).forEach((r, k) => {
      out.add(listRule(r, k + 1, table, c.name, f) + '\n');
    });
  });
  return out.text();
}

/** iptables -L CHAIN RULENUM: the row alone, no header */
export function listOneRule(table: TableName, c: Chain, rulenum: number, f: ListFormat): string {
  const r = c.rules[rulenum - 1];
  return r ? listRule(r, rulenum, table, c.name, f) + '\n' : '';
}

function policyLine(table: TableName, c: Chain, counters: boolean): string {
  if (!isBuiltin(table, c.name)) return `-N ${c.name}\n`;
  return `-P ${c.name} ${c.policy}${counters ? ` -c ${c.pkts} ${c.bytes}` : ''}\n`;
}

/** iptables -S [chain [rulenum]] */
export function listRulesText(table: TableName, t: Table, chain: Chain | undefined, rulenum: number, counters: boolean): string {
  const opts = { inlineCounters: counters };
  if (chain) {
    if (rulenum) {
      const r = chain.rules[rulenum - 1];
      return r ? saveRule(r, table, chain.name, opts) + '\n' : '';
    }
    return policyLine(table, chain, counters) + chain.rules.map((r) => saveRule(r, table, chain.name, opts) + '\n').join('');
  }
  const chains = chainsInOrder(table, t);
  const out = new TextOut();
  for (const c of chains) out.add(policyLine(table, c, counters));
  for (const c of chains) for (const r of rulesOnce(c)) out.add(saveRule(r, table, c.name, opts) + '\n');
  return out.text();
}

/** ctime(3) of the current time, as iptables-save stamps its output */
export function ctime(d: Date = new Date()): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getDay()]} ${months[d.getMonth()]} ${String(d.getDate()).padStart(2)} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${d.getFullYear()}`;
}

/**
 * Text made in many small pieces and kept as UTF-8 bytes, 64 KB at a time: the iptables-save of a
 * kube-proxy-sized lab is 16 MB in 110,000 pieces, which as one string would stay on the
 * JavaScript heap (where the collector copies it from generation to generation) until written.
 * So is `iptables -L` of that lab (20 MB) and `iptables -S`.
 */
export class TextOut {
  private s = '';
  private readonly parts: Buffer[] = [];
  add(text: string): void {
    this.s += text;
    if (this.s.length >= 65536) this.flush();
  }
  private flush(): void {
    if (this.s) this.parts.push(Buffer.from(this.s));
    this.s = '';
  }
  bytes(): Buffer {
    this.flush();
    return this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
  }
  /** the text as one string (made from the bytes only when it grew past one piece) */
  text(): string {
    return this.parts.length ? this.bytes().toString('utf8') : this.s;
  }
}

/** One table block of iptables-save (`prog`: ip6tables-save for ip6tables' tables) */
export function saveTable(out: TextOut, table: TableName, t: Table, counters: boolean, now: Date = new Date(), prog = 'iptables-save'): void {
  out.add(`# Generated by ${prog} v${PROGRAM_VERSION} on ${ctime(now)}\n*${table}\n`);
  const chains = chainsInOrder(table, t);
  for (const c of chains) {
    out.add(isBuiltin(table, c.name) ? `:${c.name} ${c.policy} [${c.pkts}:${c.bytes}]\n` : `:${c.name} - [0:0]\n`);
  }
  const opts = { prefixCounters: counters };
  for (const c of chains) for (const r of rulesOnce(c)) out.add(saveRule(r, table, c.name, opts) + '\n');
  out.add(`COMMIT\n# Completed on ${ctime(now)}\n`);
}

/** iptables-save: every existing table, in the order iptables-nft lists them */
export function saveAll(out: TextOut, tables: Tables, counters: boolean, now?: Date, prog?: string): void {
  for (const name of SAVE_ORDER) {
    const t = tables[name];
    if (t) saveTable(out, name, t, counters, now, prog);
  }
}
