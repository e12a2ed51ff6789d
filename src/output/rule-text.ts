/**
 * One rule as text: the `-S` / iptables-save form (nft_ipv4_save_rule + save_matches_and_target)
 * and the `-L` row (nft_ipv4_print_rule). The core writes the rule frame, each extension its part.
 */
import { findMatch, findTarget } from '../extensions/registry.js';
import { protoToName } from '../extensions/xtoptions.js';
import type { PrintContext, RuleFrame } from '../extensions/types.js';
import { addrToListString, ipToString, maskToSaveString } from '../net/ipv4.js';
import { addr6ToListString, ANY6 } from '../net/ipv6.js';
import type { Family } from '../extensions/registry.js';
import type { Rule } from '../ruleset/rule.js';
import { targetName } from '../ruleset/rule.js';

/** `family`: 6 for an ip6tables rule (without it, a rule with IPv6 addresses is taken for one) */
export function ruleFrame(rule: Rule, table: string, chain: string, family?: Family): RuleFrame {
  return {
    proto: rule.proto ?? 0,
    invProto: !!rule.protoInv,
    table,
    chain,
    family: family === 6 || rule.src6 || rule.dst6 ? 6 : undefined,
    src: rule.src,
    dst: rule.dst,
    inIface: rule.in,
    outIface: rule.out,
  };
}

export interface SaveOptions {
  /** iptables -S -v: " -c PKTS BYTES" before the target */
  inlineCounters?: boolean;
  /** iptables-save -c: "[PKTS:BYTES] " before "-A" */
  prefixCounters?: boolean;
}

/** "-A CHAIN ..." as iptables-save / iptables -S print it (without the newline). */
export function saveRule(rule: Rule, table: string, chain: string, opts: SaveOptions = {}): string {
  let s = opts.prefixCounters ? `[${rule.pkts}:${rule.bytes}] -A ${chain}` : `-A ${chain}`;
  return s + saveRuleSpec(rule, table, chain, opts);
}

/** The rule specification after the chain name (leading space included). */
export function saveRuleSpec(rule: Rule, table: string, chain: string, opts: SaveOptions = {}): string {
  let s = '';
  if (rule.src6) s += `${rule.srcInv ? ' !' : ''} -s ${rule.src6.addr}/${rule.src6.mask}`;
  else if (rule.src || rule.srcInv) {
    const a = rule.src ?? { addr: 0, mask: 0 };
    s += `${rule.srcInv ? ' !' : ''} -s ${ipToString(a.addr)}/${maskToSaveString(a.mask)}`;
  }
  if (rule.dst6) s += `${rule.dstInv ? ' !' : ''} -d ${rule.dst6.addr}/${rule.dst6.mask}`;
  else if (rule.dst || rule.dstInv) {
    const a = rule.dst ?? { addr: 0, mask: 0 };
    s += `${rule.dstInv ? ' !' : ''} -d ${ipToString(a.addr)}/${maskToSaveString(a.mask)}`;
  }
  if (rule.in) s += `${rule.inInv ? ' !' : ''} -i ${rule.in}`;
  if (rule.out) s += `${rule.outInv ? ' !' : ''} -o ${rule.out}`;
  if (rule.proto) {
    s += `${rule.protoInv ? ' !' : ''} -p ${protoToName(rule.proto, false) ?? rule.proto}`;
  }
  if (rule.frag) s += `${rule.fragInv ? ' !' : ''} -f`;
  const ctx: PrintContext = { numeric: true, frame: ruleFrame(rule, table, chain) };
  for (const m of rule.matches) {
    const ext = findMatch(m.name)!;
    s += ` -m ${ext.saveName ? ext.saveName(m.data) : m.name}${ext.save(m.data, ctx)}`;
  }
  if (opts.inlineCounters) s += ` -c ${rule.pkts} ${rule.bytes}`;
  const t = rule.target;
  if (t) {
    if (t.kind === 'verdict') s += ` -j ${t.verdict}`;
    else if (t.kind === 'jump') s += ` -j ${t.chain}`;
    else if (t.kind === 'goto') s += ` -g ${t.chain}`;
    else {
      const ext = findTarget(t.name)!;
      s += ` -j ${ext.saveName ? ext.saveName(t.data) : t.name}${ext.save(t.data, ctx)}`;
    }
  }
  return s;
}

export interface ListFormat {
  numeric: boolean;
  verbose: boolean;
  /** -x: exact numbers (otherwise K/M/G/T) */
  expanded: boolean;
  lineNumbers: boolean;
  /** 6: an ip6tables listing (addresses of rules without -s / -d are ::/0) */
  family?: Family;
}

/** a rule's source or destination column: IPv6 when the rule has IPv6 addresses or the listing is ip6tables' */
function addrColumn(rule: Rule, which: 'src' | 'dst', numeric: boolean, family: Family | undefined): string {
  const a6 = which === 'src' ? rule.src6 : rule.dst6;
  if (a6 || family === 6) return addr6ToListString(a6 ?? ANY6, numeric);
  return addrToListString((which === 'src' ? rule.src : rule.dst) ?? { addr: 0, mask: 0 }, numeric);
}

/** xtables_print_num() in table format */
export function printNum(n: number, f: ListFormat): string {
  if (f.expanded) return `${String(n).padStart(8)} `;
  return kmg(n, 5, 4);
}

/** xtables_print_num() in FMT_NOTABLE format (chain headers) */
export function printNumNoTable(n: number, f: ListFormat): string {
  if (f.expanded) return `${n} `;
  return kmg(n, 0, 0);
}

function kmg(n: number, w: number, wu: number): string {
  if (n <= 99999) return `${String(n).padStart(w)} `;
  let v = BigInt(Math.round(n));
  for (const unit of ['K', 'M', 'G']) {
    v = (v + 500n) / 1000n;
    if (v <= 9999n) return `${String(v).padStart(wu)}${unit} `;
  }
  v = (v + 500n) / 1000n;
  return `${String(v).padStart(wu)}T `;
}

/**
 * FMT_PRINT_RULE: how `iptables -v` echoes a rule it adds, inserts, checks or deletes
 * ("ACCEPT  all opt -- in * out *  0.0.0.0/0  -> 0.0.0.0/0  ").
 */
export function printRuleVerbose(rule: Rule, table: string, chain: string, family?: Family): string {
  let s = `${targetName(rule.target)} `;
  s += rule.protoInv ? '!' : ' ';
  s += `${protoToName(rule.proto ?? 0, true) ?? String(rule.proto ?? 0)} `;
  s += `opt ${rule.fragInv ? '!' : '-'}${rule.frag ? 'f' : '-'} `;
  s += `in ${(rule.inInv ? '!' : '') + (rule.in || '*')} `;
  s += `out ${(rule.outInv ? '!' : '') + (rule.out || '*')} `;
  s += `${rule.srcInv ? '!' : ' '}${addrColumn(rule, 'src', true, family)} `;
  s += `${rule.dstInv ? '!' : ' '}-> ${addrColumn(rule, 'dst', true, family)}`;
  s += '  ';
  if (rule.target?.kind === 'goto') s += '[goto] ';
  const ctx: PrintContext = { numeric: true, frame: ruleFrame(rule, table, chain) };
  for (const m of rule.matches) s += findMatch(m.name)!.print(m.data, ctx);
  const t = rule.target;
  if (t?.kind === 'ext') s += findTarget(t.name)!.print(t.data, ctx);
  return s + '\n';
}

/** One `-L` row (print_rule_details, print_fragment, print_ifaces, addresses, matches, target). */
export function listRule(rule: Rule, num: number, table: string, chain: string, f: ListFormat): string {
  let s = '';
  if (f.lineNumbers) s += `${String(num).padEnd(4)} `;
  if (f.verbose) s += printNum(rule.pkts, f) + printNum(rule.bytes, f);
  s += `${targetName(rule.target).padEnd(9)} `;
  const proto = rule.proto ?? 0;
  const pname = protoToName(proto, f.numeric);
  s += rule.protoInv ? '!' : ' ';
  s += `${(f.numeric || !pname ? String(proto) : pname).padEnd(4)} `;
  s += `${rule.fragInv ? '!' : '-'}${rule.frag ? 'f' : '-'} `;
  if (f.verbose) {
    const any = f.numeric ? '*' : 'any';
    s += ` ${((rule.inInv ? '!' : '') + (rule.in || any)).padEnd(6)} `;
    s += `${((rule.outInv ? '!' : '') + (rule.out || any)).padEnd(6)} `;
  }
  s += rule.srcInv ? '!' : ' ';
  s += `${addrColumn(rule, 'src', f.numeric, f.family).padEnd(19)} `;
  s += rule.dstInv ? '!' : ' ';
  s += `${addrColumn(rule, 'dst', f.numeric, f.family).padEnd(19)} `;
  if (rule.target?.kind === 'goto') s += '[goto] ';
  const ctx: PrintContext = { numeric: f.numeric, frame: ruleFrame(rule, table, chain) };
  for (const m of rule.matches) s += findMatch(m.name)!.print(m.data, ctx);
  const t = rule.target;
  if (t?.kind === 'ext') s += findTarget(t.name)!.print(t.data, ctx);
  return s;
}
