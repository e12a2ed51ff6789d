/**
 * What a lab file must hold before any command may use it. Every field the code reads is checked
 * for its type and range, down to each rule's frame, so a hand-edited or damaged file is refused
 * with the place of each problem instead of crashing a command later. Fields this version does
 * not know are left alone (a newer iptables-sim of the same format version may add some).
 *
 * Extension data (a rule's matches and target) is opaque here: `renderProblems` runs each
 * extension's own code on it (save, list, compare) and reports the rule where that code fails.
 */
import { IPSET_TYPES, isBitmapType } from '../net/ipset.js';
import { findMatch, findTarget } from '../extensions/registry.js';
import { listRule, ruleFrame, saveRule } from '../output/rule-text.js';
import { ruleKey } from '../ruleset/execute.js';
import { jumpTarget, type Rule } from '../ruleset/rule.js';
import { formatIp6, parseIp6 } from '../net/ipv6.js';
import type { Family } from '../extensions/registry.js';
import { BUILTIN_CHAINS, isBuiltin, isTableName, type Chain, type Table, type TableName } from '../ruleset/tables.js';
import { parseDotted } from '../net/ipv4.js';
import { MAX_ROUTE_ADVMSS, MAX_ROUTE_MTU } from '../net/mtu.js';
import type { Lab } from '../net/lab.js';

/** NFT_NAME_MAXLEN: the kernel's limit on chain names */
const NFT_NAME_MAXLEN = 256;
const IFNAMSIZ = 16;
/** enough to tell what is wrong; a file damaged all over is not listed in full */
const MAX_PROBLEMS = 5;

class Problems {
  readonly list: string[] = [];
  add(where: string, what: string): void {
    if (this.list.length < MAX_PROBLEMS) this.list.push(`${where}: ${what}`);
    else this.more++;
  }
  more = 0;
  get full(): boolean {
    return this.list.length >= MAX_PROBLEMS;
  }
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const show = (v: unknown): string => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
};

/** own enumerable keys only: a key named __proto__ in JSON is data, not a prototype */
const own = (o: Obj, k: string): unknown => (Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined);

class Checker {
  constructor(readonly p: Problems) {}

  obj(where: string, v: unknown): v is Obj {
    if (isObj(v)) return true;
    this.p.add(where, `expected an object, got ${show(v)}`);
    return false;
  }
  arr(where: string, v: unknown): v is unknown[] {
    if (Array.isArray(v)) return true;
    this.p.add(where, `expected a list, got ${show(v)}`);
    return false;
  }
  /** a list of objects (`optional`: or nothing), each handed to `check` with its place */
  objects(where: string, v: unknown, check: (w: string, o: Obj) => void, optional = false): void {
    if ((optional && v === undefined) || !this.arr(where, v)) return;
    v.forEach((o, k) => {
      const w = `${where}[${k}]`;
      if (this.obj(w, o)) check(w, o);
    });
  }
  str(where: string, v: unknown, opt = false): boolean {
    if (typeof v === 'string' || (opt && v === undefined)) return true;
    this.p.add(where, `expected a string, got ${show(v)}`);
    return false;
  }
  bool(where: string, v: unknown, opt = false): boolean {
    if (typeof v === 'boolean' || (opt && v === undefined)) return true;
    this.p.add(where, `expected true or false, got ${show(v)}`);
    return false;
  }
  int(where: string, v: unknown, lo: number, hi: number, opt = false): boolean {
    if (opt && v === undefined) return true;
    if (typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi) return true;
    this.p.add(where, `expected a whole number from ${lo} to ${hi}, got ${show(v)}`);
    return false;
  }
  /** counters: iptables keeps 64-bit ones; JSON numbers stay exact up to 2^53 */
  counter(where: string, v: unknown): boolean {
    return this.int(where, v, 0, Number.MAX_SAFE_INTEGER);
  }
  oneOf(where: string, v: unknown, values: readonly string[], opt = false): boolean {
    if (opt && v === undefined) return true;
    if (typeof v === 'string' && values.includes(v)) return true;
    this.p.add(where, `expected one of ${values.join(', ')}, got ${show(v)}`);
    return false;
  }
  address(where: string, v: unknown, prefix: boolean, opt = false): boolean {
    if (opt && v === undefined) return true;
    const m = typeof v === 'string' ? /^([0-9.]+)(?:\/(\d{1,2}))?$/.exec(v) : null;
    if (m && parseDotted(m[1]!) !== undefined && (m[2] === undefined || (prefix && Number(m[2]) <= 32))) return true;
    this.p.add(where, `expected an IPv4 address${prefix ? ' (a.b.c.d/len)' : ''}, got ${show(v)}`);
    return false;
  }
}

const U32 = 0xffffffff;

function checkRule(c: Checker, where: string, r: unknown, chainNames: Set<unknown>, tableName: TableName): void {
  if (!c.obj(where, r)) return;
  for (const k of ['src', 'dst'] as const) {
    const a = own(r, k);
    if (a === undefined) continue;
    if (c.obj(`${where}.${k}`, a)) {
      c.int(`${where}.${k}.addr`, own(a, 'addr'), 0, U32);
      c.int(`${where}.${k}.mask`, own(a, 'mask'), 0, U32);
    }
  }
  for (const k of ['src6', 'dst6'] as const) {
    const a = own(r, k);
    if (a === undefined) continue;
    if (c.obj(`${where}.${k}`, a)) {
      // the text inet_ntop() gives, so that equal addresses compare equal
      const addr = own(a, 'addr');
      const w = typeof addr === 'string' ? parseIp6(addr) : undefined;
      if (!w || formatIp6(w) !== addr) c.p.add(`${where}.${k}.addr`, `expected an IPv6 address as inet_ntop() writes it, got ${show(addr)}`);
      const mask = own(a, 'mask');
      if (typeof mask === 'string') {
        const m = parseIp6(mask);
        if (!m || formatIp6(m) !== mask) c.p.add(`${where}.${k}.mask`, `expected a prefix length or an IPv6 mask, got ${show(mask)}`);
      } else c.int(`${where}.${k}.mask`, mask, 0, 128);
    }
  }
  for (const k of ['in', 'out'] as const) {
    const v = own(r, k);
    if (v !== undefined && (typeof v !== 'string' || v.length >= IFNAMSIZ)) c.p.add(`${where}.${k}`, `expected an interface name (under ${IFNAMSIZ} characters), got ${show(v)}`);
  }
  for (const k of ['srcInv', 'dstInv', 'inInv', 'outInv', 'protoInv', 'frag', 'fragInv']) c.bool(`${where}.${k}`, own(r, k), true);
  c.int(`${where}.proto`, own(r, 'proto'), 0, 255, true);
  c.counter(`${where}.pkts`, own(r, 'pkts'));
  c.counter(`${where}.bytes`, own(r, 'bytes'));
  c.int(`${where}.handle`, own(r, 'handle'), 0, Number.MAX_SAFE_INTEGER, true);
  const matches = own(r, 'matches');
  if (c.arr(`${where}.matches`, matches)) {
    matches.forEach((m, i) => {
      const w = `${where}.matches[${i}]`;
      if (!c.obj(w, m)) return;
      const name = own(m, 'name');
      if (typeof name !== 'string' || !findMatch(name)) c.p.add(`${w}.name`, `no match extension called ${show(name)}`);
      if (!('data' in m)) c.p.add(`${w}.data`, 'missing');
    });
  }
  const t = own(r, 'target');
  if (t === undefined) return;
  const w = `${where}.target`;
  if (!c.obj(w, t)) return;
  switch (own(t, 'kind')) {
    case 'verdict':
      c.oneOf(`${w}.verdict`, own(t, 'verdict'), ['ACCEPT', 'DROP', 'RETURN', 'QUEUE']);
      break;
    case 'jump':
    case 'goto': {
      const to = own(t, 'chain');
      if (typeof to !== 'string' || isBuiltin(tableName, to) || !chainNames.has(to)) {
        c.p.add(`${w}.chain`, `jumps to ${show(to)}, which is not a user-defined chain of this table`);
      }
      break;
    }
    case 'ext': {
      const name = own(t, 'name');
      if (typeof name !== 'string' || !findTarget(name)) c.p.add(`${w}.name`, `no target extension called ${show(name)}`);
      if (!('data' in t)) c.p.add(`${w}.data`, 'missing');
      break;
    }
    default:
      c.p.add(`${w}.kind`, `expected verdict, jump, goto or ext, got ${show(own(t, 'kind'))}`);
  }
}

function checkTable(c: Checker, where: string, name: TableName, t: unknown): void {
  if (!c.obj(where, t)) return;
  c.int(`${where}.nextHandle`, own(t, 'nextHandle'), 0, Number.MAX_SAFE_INTEGER, true);
  const chains = own(t, 'chains');
  if (!c.arr(`${where}.chains`, chains)) return;
  const seen = new Set<string>();
  const names = new Set(chains.map((ch) => (isObj(ch) ? ch.name : undefined)));
  chains.forEach((ch, i) => {
    const w = `${where}.chains[${i}]`;
    if (!c.obj(w, ch)) return;
    const n = own(ch, 'name');
    // -E renames without iptables' length check (measured): nf_tables' own limit applies
    if (typeof n !== 'string' || n.length === 0 || n.length >= NFT_NAME_MAXLEN) {
      c.p.add(`${w}.name`, `expected a chain name (under ${NFT_NAME_MAXLEN} characters), got ${show(n)}`);
      return;
    }
    if (seen.has(n)) c.p.add(`${w}.name`, `chain ${n} appears twice`);
    seen.add(n);
    const cw = `${where}.${n}`;
    if (isBuiltin(name, n)) {
      c.oneOf(`${cw}.policy`, own(ch, 'policy'), ['ACCEPT', 'DROP']);
      c.bool(`${cw}.created`, own(ch, 'created'), true);
    } else if (own(ch, 'policy') !== undefined) {
      c.p.add(`${cw}.policy`, 'a user-defined chain has no policy');
    }
    c.counter(`${cw}.pkts`, own(ch, 'pkts'));
    c.counter(`${cw}.bytes`, own(ch, 'bytes'));
    c.int(`${cw}.handle`, own(ch, 'handle'), 0, Number.MAX_SAFE_INTEGER, true);
    const rules = own(ch, 'rules');
    if (c.arr(`${cw}.rules`, rules)) rules.forEach((r, k) => !c.p.full && checkRule(c, `${cw}.rules[${k}]`, r, names, name));
  });
  // the code finds a table's built-in chains by name and never creates them again
  for (const b of BUILTIN_CHAINS[name]) if (!seen.has(b)) c.p.add(`${where}.chains`, `built-in chain ${b} is missing`);
}

function checkHost(c: Checker, where: string, h: unknown): void {
  if (!c.obj(where, h)) return;
  const ifaces = own(h, 'interfaces');
  c.objects(`${where}.interfaces`, ifaces, (w, i) => {
    const n = own(i, 'name');
    if (typeof n !== 'string' || n.length === 0 || n.length >= IFNAMSIZ) c.p.add(`${w}.name`, `expected an interface name, got ${show(n)}`);
    const addrs = own(i, 'addrs');
    if (c.arr(`${w}.addrs`, addrs)) addrs.forEach((a, j) => c.address(`${w}.addrs[${j}]`, a, true));
    // the broadcasts given with addresses: address as listed -> broadcast address
    // what `ip addr` kept of some of the addresses, by address as listed: broadcasts and labels
    const perAddress = (key: string, check: (where: string, v: unknown) => void): void => {
      const m = own(i, key);
      if (m === undefined || !c.obj(`${w}.${key}`, m)) return;
      for (const [a, v] of Object.entries(m)) {
        if (!Array.isArray(addrs) || !addrs.includes(a)) c.p.add(`${w}.${key}`, `${show(a)} is none of the interface's addresses`);
        check(`${w}.${key}[${show(a)}]`, v);
      }
    };
    perAddress('brd', (where, b) => c.address(where, b, false));
    perAddress('labels', (where, l) => {
      if (typeof l !== 'string' || l.length === 0 || l.length >= IFNAMSIZ) c.p.add(where, `expected a label shorter than ${IFNAMSIZ} characters, got ${show(l)}`);
    });
    c.str(`${w}.mac`, own(i, 'mac'));
    c.bool(`${w}.up`, own(i, 'up'));
    c.int(`${w}.mtu`, own(i, 'mtu'), 68, 0x7fffffff, true);
  });
  // "dev a.b.c.d/len" of addresses the interfaces have, in the order their routes were added
  const addrRoutes = own(h, 'addrRoutes');
  if (addrRoutes !== undefined && c.arr(`${where}.addrRoutes`, addrRoutes)) {
    addrRoutes.forEach((k, j) => {
      const [dev, addr] = typeof k === 'string' ? k.split(' ') : [];
      const i = Array.isArray(ifaces) ? ifaces.find((x) => isObj(x) && x.name === dev) : undefined;
      if (!isObj(i) || !Array.isArray(i.addrs) || !i.addrs.includes(addr)) c.p.add(`${where}.addrRoutes[${j}]`, `expected "DEVICE ADDRESS" of one of the interfaces' addresses, got ${show(k)}`);
    });
  }
  // the kernel's routes of addresses deleted by hand: "TABLE TYPE a.b.c.d/len DEVICE"
  const removed = own(h, 'removedRoutes');
  if (removed !== undefined && c.arr(`${where}.removedRoutes`, removed)) {
    removed.forEach((k, j) => {
      if (typeof k !== 'string' || !/^(?:main|local) (?:unicast|local|broadcast) [0-9.]+\/\d{1,2} \S+$/.test(k)) c.p.add(`${where}.removedRoutes[${j}]`, `expected "TABLE TYPE ADDRESS/LEN DEVICE" of a route of the kernel's, got ${show(k)}`);
    });
  }
  const routes = own(h, 'routes');
  c.objects(`${where}.routes`, routes, (w, r) => {
    if (own(r, 'dst') !== 'default') c.address(`${w}.dst`, own(r, 'dst'), true);
    c.address(`${w}.via`, own(r, 'via'), true, true);
    c.address(`${w}.src`, own(r, 'src'), true, true);
    c.str(`${w}.dev`, own(r, 'dev'));
    c.str(`${w}.type`, own(r, 'type'), true);
    const table = own(r, 'table');
    if (typeof table === 'number') c.int(`${w}.table`, table, 1, U32);
    else c.oneOf(`${w}.table`, table, ['main', 'local'], true);
    c.int(`${w}.metric`, own(r, 'metric'), 0, U32, true);
    c.str(`${w}.proto`, own(r, 'proto'), true);
    c.bool(`${w}.onlink`, own(r, 'onlink'), true);
    c.int(`${w}.mtu`, own(r, 'mtu'), 1, MAX_ROUTE_MTU, true);
    c.bool(`${w}.mtuLock`, own(r, 'mtuLock'), true);
    c.int(`${w}.advmss`, own(r, 'advmss'), 1, MAX_ROUTE_ADVMSS, true);
    c.bool(`${w}.advmssLock`, own(r, 'advmssLock'), true);
  });
  // rules and fibTables: `ip rule` and the tables `ip route ... table N` made, absent on older labs
  const rules = own(h, 'rules');
  c.objects(`${where}.rules`, rules, (w, r) => {
    c.int(`${w}.pref`, own(r, 'pref'), 0, U32);
    c.int(`${w}.table`, own(r, 'table'), 0, U32);
    c.bool(`${w}.not`, own(r, 'not'), true);
    c.address(`${w}.from`, own(r, 'from'), true, true);
    c.address(`${w}.to`, own(r, 'to'), true, true);
    c.int(`${w}.tos`, own(r, 'tos'), 0, 255, true);
    c.int(`${w}.fwmark`, own(r, 'fwmark'), 0, U32, true);
    c.int(`${w}.fwmask`, own(r, 'fwmask'), 0, U32, own(r, 'fwmark') === undefined);
    c.bool(`${w}.kernel`, own(r, 'kernel'), true);
    c.str(`${w}.iif`, own(r, 'iif'), true);
    c.str(`${w}.oif`, own(r, 'oif'), true);
    c.oneOf(`${w}.action`, own(r, 'action'), ['blackhole', 'unreachable', 'prohibit', 'goto', 'nop'], true);
    c.int(`${w}.goto`, own(r, 'goto'), 0, U32, own(r, 'action') !== 'goto');
    c.int(`${w}.ipproto`, own(r, 'ipproto'), 0, 255, true);
    for (const k of ['sport', 'dport', 'uid'] as const) {
      const range = own(r, k);
      if (range === undefined) continue;
      const max = k === 'uid' ? U32 : 0xffff;
      if (!Array.isArray(range) || range.length !== 2 || !range.every((x) => Number.isInteger(x) && x >= 0 && x <= max) || range[0] > range[1]) c.p.add(`${w}.${k}`, `should be [first, last], whole numbers from 0 to ${max}, first <= last`);
    }
    c.int(`${w}.suppress`, own(r, 'suppress'), 0, 0x7fffffff, true);
    if (own(r, 'table') === 0 && own(r, 'action') === undefined) c.p.add(`${w}.table`, 'a rule that looks up a table needs its number');
  }, true);
  const fibTables = own(h, 'fibTables');
  if (fibTables !== undefined && c.arr(`${where}.fibTables`, fibTables)) {
    fibTables.forEach((t, k) => {
      if (c.int(`${where}.fibTables[${k}]`, t, 1, U32) && (t === 254 || t === 255 || fibTables.indexOf(t) !== k)) c.p.add(`${where}.fibTables[${k}]`, `table ${show(t)} is main, local or listed twice`);
    });
  }
  if (Array.isArray(routes)) {
    routes.forEach((r, k) => {
      const t = isObj(r) ? own(r, 'table') : undefined;
      if (typeof t === 'number' && !(Array.isArray(fibTables) && fibTables.includes(t))) c.p.add(`${where}.routes[${k}].table`, `table ${t} is not in fibTables`);
    });
  }
  const sysctls = own(h, 'sysctls');
  if (c.obj(`${where}.sysctls`, sysctls)) {
    for (const [k, v] of Object.entries(sysctls)) c.str(`${where}.sysctls.${k}`, v);
  }
  const sysctlsSet = own(h, 'sysctlsSet');
  if (sysctlsSet !== undefined && c.arr(`${where}.sysctlsSet`, sysctlsSet)) {
    sysctlsSet.forEach((k, i) => c.str(`${where}.sysctlsSet[${i}]`, k));
  }
  const services = own(h, 'services');
  c.objects(`${where}.services`, services, (w, s) => {
    c.oneOf(`${w}.proto`, own(s, 'proto'), ['tcp', 'udp']);
    c.int(`${w}.port`, own(s, 'port'), 0, 65535);
    c.address(`${w}.addr`, own(s, 'addr'), false);
  });
  // tables6: ip6tables' tables, absent until an ip6tables command made one
  for (const key of ['tables', 'tables6']) {
    const tables = own(h, key);
    if (key === 'tables6' && tables === undefined) continue;
    if (c.obj(`${where}.${key}`, tables)) {
      for (const [name, t] of Object.entries(tables)) {
        if (!isTableName(name)) c.p.add(`${where}.${key}`, `no table called ${show(name)}`);
        else if (t !== undefined) checkTable(c, `${where}.${key}.${name}`, name, t);
      }
    }
  }
  const neighbours = own(h, 'neighbours');
  c.objects(`${where}.neighbours`, neighbours, (w, n) => {
    c.str(`${w}.dev`, own(n, 'dev'));
    c.address(`${w}.addr`, own(n, 'addr'), false);
    // (an entry that got no answer has no host)
    const failed = own(n, 'failed');
    if (failed !== undefined && failed !== true) c.p.add(`${w}.failed`, `expected true when present, got ${show(failed)}`);
    c.str(`${w}.host`, own(n, 'host'), failed === true);
    c.str(`${w}.iface`, own(n, 'iface'), failed === true);
  }, true);
  const ct = own(h, 'conntrack');
  c.objects(`${where}.conntrack`, ct, (w, e) => {
    c.int(`${w}.proto`, own(e, 'proto'), 0, 255);
    for (const dir of ['orig', 'reply']) {
      const tu = own(e, dir);
      if (!Array.isArray(tu) || tu.length !== 4) {
        c.p.add(`${w}.${dir}`, `expected [src, dst, sport, dport], got ${show(tu)}`);
        continue;
      }
      c.address(`${w}.${dir}[0]`, tu[0], false);
      c.address(`${w}.${dir}[1]`, tu[1], false);
      c.int(`${w}.${dir}[2]`, tu[2], 0, 65535);
      c.int(`${w}.${dir}[3]`, tu[3], 0, 65535);
    }
    c.str(`${w}.state`, own(e, 'state'), true);
    const status = own(e, 'status');
    if (c.arr(`${w}.status`, status)) status.forEach((s, j) => c.str(`${w}.status[${j}]`, s));
    c.int(`${w}.mark`, own(e, 'mark'), 0, U32);
    c.int(`${w}.zone`, own(e, 'zone'), 0, 0xffff);
    c.int(`${w}.expires`, own(e, 'expires'), 0, Number.MAX_SAFE_INTEGER);
    c.str(`${w}.helper`, own(e, 'helper'), true);
    const natUnset = own(e, 'natUnset');
    if (natUnset !== undefined && natUnset !== true) c.p.add(`${w}.natUnset`, `expected true or nothing, got ${show(natUnset)}`);
  });
  const acct = own(h, 'nfacct');
  c.objects(`${where}.nfacct`, acct, (w, o) => {
    c.str(`${w}.name`, own(o, 'name'));
    c.int(`${w}.pkts`, own(o, 'pkts'), 0, Number.MAX_SAFE_INTEGER);
    c.int(`${w}.bytes`, own(o, 'bytes'), 0, Number.MAX_SAFE_INTEGER);
    const q = own(o, 'quota');
    if (q === undefined || !c.obj(`${w}.quota`, q)) return;
    const mode = own(q, 'mode');
    if (mode !== 'byte' && mode !== 'packet') c.p.add(`${w}.quota.mode`, `expected "byte" or "packet", got ${show(mode)}`);
    c.int(`${w}.quota.value`, own(q, 'value'), 0, Number.MAX_SAFE_INTEGER);
    c.bool(`${w}.quota.over`, own(q, 'over'));
  }, true);
  c.obj(`${where}.extState`, own(h, 'extState'));
  const ipsets = own(h, 'ipsets');
  if (ipsets !== undefined && c.arr(`${where}.ipsets`, ipsets)) ipsets.forEach((s, k) => s !== null && ipsetProblems(c, `${where}.ipsets[${k}]`, s));
}

/** a set's extensions (src/net/ipset.ts) */
function setExtProblems(c: Checker, w: string, s: Obj): void {
  c.int(`${w}.timeout`, own(s, 'timeout'), 0, U32, true);
  c.bool(`${w}.counters`, own(s, 'counters'), true);
  c.bool(`${w}.comment`, own(s, 'comment'), true);
}

/** what a set's extensions keep of a member (ElemExt) */
function elemExtProblems(c: Checker, w: string, e: Obj): void {
  for (const k of ['expires', 'packets', 'bytes']) c.int(`${w}.${k}`, own(e, k), 0, Number.MAX_SAFE_INTEGER, true);
  c.str(`${w}.comment`, own(e, 'comment'), true);
}

/** the counters freed slots still hold: [packets, bytes] by slot */
function staleProblems(c: Checker, w: string, stale: unknown, key: string): void {
  if (!c.obj(w, stale)) return;
  for (const [k, v] of Object.entries(stale)) {
    if (!/^\d+$/.test(k) || !Array.isArray(v) || v.length !== 2 || !v.every((n) => Number.isSafeInteger(n) && (n as number) >= 0)) c.p.add(`${w}.${k}`, `expected ${key} and [packets, bytes], got ${show(v)}`);
  }
}

/** one IP set (src/net/ipset.ts): its parameters and the buckets of its table (or a list:set's members) */
function ipsetProblems(c: Checker, w: string, s: unknown): void {
  if (!c.obj(w, s)) return;
  c.str(`${w}.name`, own(s, 'name'));
  const type = own(s, 'type');
  if (type === 'list:set') return listSetProblems(c, w, s);
  if (typeof type === 'string' && isBitmapType(type)) return bitmapProblems(c, w, s, type);
  if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(IPSET_TYPES, type)) c.p.add(`${w}.type`, `expected one of ${Object.keys(IPSET_TYPES).join(', ')}, list:set, bitmap:port, bitmap:ip, got ${show(type)}`);
  const family = own(s, 'family');
  if (family !== undefined && family !== 'inet6') c.p.add(`${w}.family`, `expected "inet6" or no family (inet), got ${show(family)}`);
  const v6 = family === 'inet6';
  const hostMask = v6 ? 128 : 32;
  c.int(`${w}.bits`, own(s, 'bits'), 6, 27);
  c.int(`${w}.maxelem`, own(s, 'maxelem'), 0, U32);
  c.int(`${w}.bucketsize`, own(s, 'bucketsize'), 2, 64);
  c.int(`${w}.initval`, own(s, 'initval'), 0, U32);
  c.int(`${w}.netmask`, own(s, 'netmask'), 1, hostMask, true);
  setExtProblems(c, w, s);
  c.int(`${w}.extSize`, own(s, 'extSize'), 0, Number.MAX_SAFE_INTEGER, true);
  const buckets = own(s, 'buckets');
  if (!c.arr(`${w}.buckets`, buckets)) return;
  buckets.forEach((b, k) => {
    const bw = `${w}.buckets[${k}]`;
    if (!Array.isArray(b) || (b.length !== 3 && b.length !== 4) || !Array.isArray(b[2])) {
      c.p.add(bw, `expected [index, size, slots] or [index, size, slots, stale counters], got ${show(b)}`);
      return;
    }
    c.int(`${bw}[0]`, b[0], 0, U32);
    c.int(`${bw}[1]`, b[1], 2, 64);
    if (b.length === 4) staleProblems(c, `${bw}[3]`, b[3], 'a slot number');
    (b[2] as unknown[]).forEach((e, j) => {
      const ew = `${bw}[2][${j}]`;
      if (e === null || !c.obj(ew, e)) return;
      for (const k of ['ip', 'ip2'] as const) {
        const ip = own(e, k);
        if (k === 'ip2' && ip === undefined) continue;
        if (!v6) c.int(`${ew}.${k}`, ip, 0, U32);
        else if (typeof ip !== 'string' || parseIp6(ip) === undefined || formatIp6(parseIp6(ip)!) !== ip) c.p.add(`${ew}.${k}`, `expected an IPv6 address as inet_ntop() writes it, got ${show(ip)}`);
      }
      c.int(`${ew}.cidr`, own(e, 'cidr'), 1, hostMask, true);
      c.int(`${ew}.proto`, own(e, 'proto'), 0, 255, true);
      c.int(`${ew}.port`, own(e, 'port'), 0, 65535, true);
      c.bool(`${ew}.nomatch`, own(e, 'nomatch'), true);
      elemExtProblems(c, ew, e);
    });
  });
}

/** a bitmap:port or bitmap:ip (src/net/ipset-bitmap.ts): its range and extensions, its members in order */
function bitmapProblems(c: Checker, w: string, s: Obj, type: 'bitmap:port' | 'bitmap:ip'): void {
  const first = own(s, 'first');
  const last = own(s, 'last');
  const max = type === 'bitmap:port' ? 65535 : U32;
  c.int(`${w}.first`, first, 0, max);
  c.int(`${w}.last`, last, typeof first === 'number' ? first : 0, max);
  if (type === 'bitmap:ip') c.int(`${w}.netmask`, own(s, 'netmask'), 1, 31, true);
  setExtProblems(c, w, s);
  const members = own(s, 'members');
  if (c.arr(`${w}.members`, members)) {
    let prev = -1;
    members.forEach((m, k) => {
      const mw = `${w}.members[${k}]`;
      if (!c.obj(mw, m)) return;
      const id = own(m, 'id');
      // (in order, each once, inside the range)
      c.int(`${mw}.id`, id, Math.max(prev + 1, typeof first === 'number' ? first : 0), typeof last === 'number' ? last : max);
      if (typeof id === 'number') prev = id;
      elemExtProblems(c, mw, m);
    });
  }
  const stale = own(s, 'stale');
  if (stale !== undefined) staleProblems(c, `${w}.stale`, stale, "a member's id");
}

/** a list:set (src/net/ipset-list.ts): its size and extensions, its members by name */
function listSetProblems(c: Checker, w: string, s: Obj): void {
  c.int(`${w}.size`, own(s, 'size'), 4, U32);
  setExtProblems(c, w, s);
  const members = own(s, 'members');
  if (!c.arr(`${w}.members`, members)) return;
  members.forEach((m, k) => {
    const mw = `${w}.members[${k}]`;
    if (!c.obj(mw, m)) return;
    c.str(`${mw}.name`, own(m, 'name'));
    elemExtProblems(c, mw, m);
  });
}

/**
 * Problems in the shape of a lab whose format and version were already accepted, each with the
 * place it is at ("hosts.router.tables.filter.INPUT.rules[2].src.addr: ...").
 */
export function structureProblems(data: Obj): Problems {
  const c = new Checker(new Problems());
  c.str('name', own(data, 'name'));
  const rng = own(data, 'rng');
  if (c.obj('rng', rng)) {
    c.int('rng.seed', own(rng, 'seed'), 0, U32);
    c.int('rng.state', own(rng, 'state'), 0, U32);
  }
  if (own(data, 'clock') !== undefined && (typeof data.clock !== 'number' || !Number.isFinite(data.clock) || data.clock < 0)) {
    c.p.add('clock', `expected a number of seconds, got ${show(data.clock)}`);
  }
  const hosts = own(data, 'hosts');
  if (c.obj('hosts', hosts)) {
    const names = Object.keys(hosts);
    if (!names.length) c.p.add('hosts', 'the lab has no hosts');
    const def = own(data, 'defaultHost');
    if (typeof def !== 'string' || !names.includes(def)) c.p.add('defaultHost', `expected one of the hosts (${names.join(', ')}), got ${show(def)}`);
    for (const n of names) {
      if (c.p.full) break;
      checkHost(c, `hosts.${n}`, hosts[n]);
    }
    const segs = own(data, 'segments');
    if (c.arr('segments', segs)) {
      segs.forEach((s, k) => {
        const w = `segments[${k}]`;
        if (!c.obj(w, s)) return;
        c.str(`${w}.name`, own(s, 'name'));
        const members = own(s, 'members');
        if (!c.arr(`${w}.members`, members)) return;
        members.forEach((m, j) => {
          const [h, i] = typeof m === 'string' ? m.split(':') : [];
          const host = h !== undefined ? own(hosts, h) : undefined;
          const ok = isObj(host) && Array.isArray(host.interfaces) && host.interfaces.some((x) => isObj(x) && x.name === i);
          if (!ok) c.p.add(`${w}.members[${j}]`, `expected "host:interface" of the lab, got ${show(m)}`);
        });
      });
    }
  }
  return c.p;
}

/** chains reached from `from` that lead back to it: the loop nf_tables refuses */
function loopThrough(t: Table, from: Chain): string[] | undefined {
  const byName = new Map(t.chains.map((ch) => [ch.name, ch] as const));
  const path: string[] = [];
  const onPath = new Set<string>();
  const done = new Set<string>();
  const visit = (ch: Chain): string[] | undefined => {
    if (onPath.has(ch.name)) return [...path, ch.name];
    if (done.has(ch.name)) return undefined;
    onPath.add(ch.name);
    path.push(ch.name);
    for (const r of ch.rules) {
      const j = jumpTarget(r);
      const next = j === undefined ? undefined : byName.get(j);
      const loop = next && visit(next);
      if (loop) return loop;
    }
    path.pop();
    onPath.delete(ch.name);
    done.add(ch.name);
    return undefined;
  };
  return visit(from);
}

/**
 * Where stored extension data differs in kind from what the extension itself starts from
 * (init()): a number where it keeps a number, a list where it keeps a list, recursively. Fields
 * init() does not set are optional and left to the extension's own code.
 */
function shapeProblem(stored: unknown, template: unknown, where: string): string | undefined {
  if (template === undefined || template === null) return undefined;
  const kind = (v: unknown) => (Array.isArray(v) ? 'list' : v === null ? 'null' : typeof v);
  if (kind(stored) !== kind(template)) return `${where || 'data'} is ${show(stored)}, expected a ${kind(template) === 'object' ? 'set of fields' : kind(template)}`;
  if (typeof template === 'number' && !Number.isFinite(stored)) return `${where || 'data'} is not a finite number`;
  if (Array.isArray(template)) {
    if (!template.length) return undefined;
    for (let i = 0; i < (stored as unknown[]).length; i++) {
      const p = shapeProblem((stored as unknown[])[i], template[Math.min(i, template.length - 1)], `${where}[${i}]`);
      if (p) return p;
    }
    return undefined;
  }
  if (typeof template === 'object') {
    for (const [k, v] of Object.entries(template as Obj)) {
      const got = own(stored as Obj, k);
      if (got === undefined) continue;
      const p = shapeProblem(got, v, where ? `${where}.${k}` : k);
      if (p) return p;
    }
  }
  return undefined;
}

function dataProblem(r: Rule, table: TableName, chain: string, family: Family): string | undefined {
  const frame = ruleFrame(r, table, chain, family);
  for (const m of r.matches) {
    const p = shapeProblem(m.data, findMatch(m.name)!.init(frame), '');
    if (p) return `the ${m.name} match's ${p}`;
  }
  const t = r.target;
  if (t?.kind === 'ext') {
    const p = shapeProblem(t.data, findTarget(t.name)!.init(frame), '');
    if (p) return `the ${t.name} target's ${p}`;
  }
  return undefined;
}

/**
 * Runs every rule's extension code that a command may run on stored data (save, list, compare)
 * and reports the rules where it fails; and the jump loops the kernel would never have accepted.
 * Only for files that were changed outside iptables-sim (see the store's checksum).
 */
export function renderProblems(lab: Lab): Problems {
  const p = new Problems();
  for (const [hn, h] of Object.entries(lab.hosts)) {
    for (const [key, family] of [['tables', 4], ['tables6', 6]] as const) {
      for (const [tn, t] of Object.entries(h[key] ?? {}) as [TableName, Table | undefined][]) {
        if (!t) continue;
        for (const ch of t.chains) {
          ch.rules.forEach((r: Rule, k) => {
            if (p.full) return;
            const where = `hosts.${hn}.${key}.${tn}.${ch.name}.rules[${k}]`;
            try {
              const shape = dataProblem(r, tn, ch.name, family);
              if (shape) return p.add(where, shape);
              saveRule(r, tn, ch.name);
              listRule(r, k + 1, tn, ch.name, { numeric: false, verbose: true, expanded: false, lineNumbers: true, family });
              ruleKey(r, tn, ch.name);
            } catch (e) {
              p.add(where, `the rule's match or target data cannot be read (${(e as Error).message})`);
            }
          });
          if (isBuiltin(tn, ch.name) && ch.created) {
            const loop = loopThrough(t, ch);
            if (loop) p.add(`hosts.${hn}.${key}.${tn}`, `chains jump in a loop (${loop.join(' -> ')}), which nf_tables never accepts`);
          }
        }
      }
    }
  }
  return p;
}

export function describeProblems(p: Problems): string {
  return p.list.join('; ') + (p.more ? `; and ${p.more} more` : '');
}
