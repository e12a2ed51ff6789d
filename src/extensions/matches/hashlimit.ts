/**
 * hashlimit match (libxt_hashlimit revision 3, the one iptables 1.8.9 uses for IPv4;
 * xt_hashlimit). Rates are kept as in the C code: packets as microseconds between packets
 * (XT_HASHLIMIT_SCALE_v2), bytes as a "cost" of 16-byte chunks; the print forms are computed
 * back from those stored values.
 */
import { paramProblem, SimError } from '../../errors.js';
import { xtStrtoul } from '../../util/strtoul.js';
import type { MatchExtension, OptionEntry } from '../types.js';
import { rateText, rateUnit, strtolDec, type RateName } from '../util/rate.js';

const HASH_DIP = 1 << 0;
const HASH_DPT = 1 << 1;
const HASH_SIP = 1 << 2;
const HASH_SPT = 1 << 3;
const INVERT = 1 << 4;
const BYTES = 1 << 5;
const RATE_MATCH = 1 << 6;
const HASH_ANY = HASH_DIP | HASH_DPT | HASH_SIP | HASH_SPT;

const XT_HASHLIMIT_BURST = 5;
const XT_HASHLIMIT_BURST_MAX = 1000000;
const XT_HASHLIMIT_BYTE_EXPIRE = 15;
const XT_HASHLIMIT_BYTE_EXPIRE_BURST = 60;
const XT_HASHLIMIT_GCINTERVAL = 1000;
const SCALE = 1000000n;
const BYTE_SHIFT = 4n;
const U32_MAX = 0xffffffffn;
const U64 = (v: bigint): bigint => BigInt.asUintN(64, v);
/** struct xt_hashlimit_mtinfo3: char name[NAME_MAX] */
const NAME_SIZE = 255;

export interface HashlimitData {
  name: string;
  /** hashlimit_cfg3, u64 fields as decimal strings */
  mode: number;
  avg: string;
  burst: string;
  size: number;
  max: number;
  gcInterval: number;
  expire: number;
  interval: number;
  srcmask: number;
  dstmask: number;
  /** an ip6tables rule: the masks default to (and print against) 128 */
  v6?: boolean;
  /** struct hashlimit_mt_udata: the unit multiplier of the rate given (seconds), 15 for bytes */
  mult: number;
}

const O_UPTO = 0;
const O_ABOVE = 1;
const O_MODE = 3;
const O_SRCMASK = 4;
const O_DSTMASK = 5;
const O_NAME = 6;
const O_BURST = 7;
const O_HTABLE_SIZE = 8;
const O_HTABLE_MAX = 9;
const O_HTABLE_GCINT = 10;
const O_HTABLE_EXPIRE = 11;
const O_RATEMATCH = 12;
const O_INTERVAL = 13;

const opts: OptionEntry[] = [
  { name: 'hashlimit-upto', id: O_UPTO, type: 'string', invert: true, excl: [O_ABOVE] },
  { name: 'hashlimit-above', id: O_ABOVE, type: 'string', invert: true, excl: [O_UPTO] },
  { name: 'hashlimit', id: O_UPTO, type: 'string', invert: true, excl: [O_ABOVE] },
  { name: 'hashlimit-srcmask', id: O_SRCMASK, type: 'plen' },
  { name: 'hashlimit-dstmask', id: O_DSTMASK, type: 'plen' },
  { name: 'hashlimit-burst', id: O_BURST, type: 'string' },
  { name: 'hashlimit-htable-size', id: O_HTABLE_SIZE, type: 'uint32' },
  { name: 'hashlimit-htable-max', id: O_HTABLE_MAX, type: 'uint32' },
  { name: 'hashlimit-htable-gcinterval', id: O_HTABLE_GCINT, type: 'uint32' },
  { name: 'hashlimit-htable-expire', id: O_HTABLE_EXPIRE, type: 'uint32' },
  { name: 'hashlimit-mode', id: O_MODE, type: 'string' },
  { name: 'hashlimit-name', id: O_NAME, type: 'string', mandatory: true, min: 1, size: NAME_SIZE },
  { name: 'hashlimit-rate-match', id: O_RATEMATCH, type: 'none' },
  { name: 'hashlimit-rate-interval', id: O_INTERVAL, type: 'string' },
];

// ---- userspace conversions (libxt_hashlimit.c) ----

function costToBytes(cost: bigint): bigint {
  const r = cost ? U32_MAX / cost : U32_MAX;
  return U64((r - 1n) << BYTE_SHIFT);
}

/**
 * libxt_hashlimit.c divides by 0 in C (SIGFPE): iptables dies with "Floating point exception"
 * (exit status 136, measured with `--hashlimit-upto 1b/s --hashlimit-burst 1mb`) and adds nothing
 */
function divisionByZero(where: string): SimError {
  return new SimError(`iptables 1.8.9 dies on this rule (Floating point exception: libxt_hashlimit's ${where} divides by zero)`, 136);
}

function bytesToCost(bytes: bigint): bigint {
  const r = BigInt.asUintN(32, bytes >> BYTE_SHIFT);
  // r + 1 is computed in 32 bits
  const d = BigInt.asUintN(32, r + 1n);
  if (d === 0n) throw divisionByZero('bytes_to_cost()');
  return U32_MAX / d;
}

function factor(c: string | undefined): bigint {
  if (c === 'm') return 1024n * 1024n;
  if (c === 'k') return 1024n;
  return 1n;
}

/** atoll() as an unsigned 64-bit value */
const atollU = (s: string): bigint => U64(strtolDec(s));

/** parse_bytes(): "N[k|m]b/s"; undefined when it is not a byte rate */
function parseBytes(rate: string, d: HashlimitData): bigint | undefined {
  const at = rate.indexOf('b/s');
  if (at <= 0) return undefined;
  const r = atollU(rate);
  if (r === 0n) return undefined;
  const tmp = bytesToCost(U64(r * factor(rate[at - 1])));
  if (tmp === 0n) throw paramProblem(`Rate too high "${rate}"`);
  d.mult = XT_HASHLIMIT_BYTE_EXPIRE;
  return tmp;
}

/** parse_rate() of revision 2+: microseconds between packets */
function parseRate(rate: string, d: HashlimitData): bigint | undefined {
  d.mult = 1;
  const mult = rateUnit(rate);
  if (mult === undefined) return undefined;
  d.mult = mult;
  const r = atollU(rate);
  if (!r) return undefined;
  const tmp = (SCALE * BigInt(mult)) / r;
  if (tmp === 0n) throw paramProblem(`Rate too fast "${rate}"`);
  return tmp;
}

/** parse_burst(, 2): a number, optionally with k/m; without a suffix at most 1000000 */
function parseBurst(burst: string): bigint {
  const bad = () => paramProblem(`bad value for option "--hashlimit-burst", or out of range (1-${XT_HASHLIMIT_BURST_MAX}).`);
  const r = xtStrtoul(burst, 1, 0xffffffffffffffffn, true);
  if (!r.ok) throw bad();
  const end = burst.slice(r.end);
  if (end === '' && r.value > BigInt(XT_HASHLIMIT_BURST_MAX)) throw bad();
  return U64(r.value * factor(end[0]));
}

/** parse_mode(): strtok on "," and "|" */
function parseMode(arg: string): number | undefined {
  let mode = 0;
  for (const tok of arg.split(/[,|]/).filter((t) => t !== '')) {
    if (tok === 'dstip') mode |= HASH_DIP;
    else if (tok === 'srcip') mode |= HASH_SIP;
    else if (tok === 'srcport') mode |= HASH_SPT;
    else if (tok === 'dstport') mode |= HASH_DPT;
    else return undefined;
  }
  return mode;
}

const badValue = (opt: string, arg: string) => paramProblem(`hashlimit: Bad value for "${opt}" option: "${arg}"`);

// ---- printing ----

const RATES: RateName[] = [
  { name: 'day', mult: SCALE * 24n * 60n * 60n },
  { name: 'hour', mult: SCALE * 60n * 60n },
  { name: 'min', mult: SCALE * 60n },
  { name: 'sec', mult: SCALE },
];

/** print_rate(): the text and the quantum (msec of the unit shown) */
function printRate(period: bigint): { text: string; quantum: number } {
  const r = rateText(period, RATES);
  if (r.index < 0) return { text: ` ${r.text}`, quantum: 0 };
  return { text: ` ${r.text}`, quantum: Number(BigInt.asUintN(32, (RATES[r.index]!.mult / SCALE) * 1000n)) };
}

const UNITS: [string, bigint][] = [
  ['m', 1024n * 1024n],
  ['k', 1024n],
  ['', 1n],
];

/** print_bytes() */
function printBytes(avg: bigint, burst: bigint, prefix: string): { text: string; quantum: number } {
  let r = costToBytes(avg);
  let i = 0;
  for (; i < UNITS.length - 1; i++) {
    const th = UNITS[i]![1];
    // ~(thresh - 1) is a uint32_t: the upper half of r is masked away
    const mask = BigInt(~Number(th - 1n) >>> 0);
    if (r >= th && bytesToCost(r & mask) === avg) break;
  }
  let text = ` ${r / UNITS[i]![1]}${UNITS[i]![0]}b/s`;
  if (burst === 0n) return { text, quantum: XT_HASHLIMIT_BYTE_EXPIRE * 1000 };
  r = U64(r * burst);
  text += ` ${prefix}`;
  for (i = 0; i < UNITS.length - 1; i++) if (r >= UNITS[i]![1]) break;
  text += `burst ${r / UNITS[i]![1]}${UNITS[i]![0]}b`;
  return { text, quantum: XT_HASHLIMIT_BYTE_EXPIRE_BURST * 1000 };
}

function modeText(mode: number, sep: string): string {
  const parts: string[] = [];
  if (mode & HASH_SIP) parts.push('srcip');
  if (mode & HASH_SPT) parts.push('srcport');
  if (mode & HASH_DIP) parts.push('dstip');
  if (mode & HASH_DPT) parts.push('dstport');
  return ` ${parts.join(sep)}`;
}

/** the masks' default, which print and save leave out: the address length */
const dmask = (d: HashlimitData): number => (d.v6 ? 128 : 32);

// ---- kernel constants (xt_hashlimit.c with CONFIG_HZ=250, the lab kernel's) ----

const HZ = 250n;
/** POW2_BELOW: the highest power of two not above x */
function pow2Below(x: bigint): bigint {
  let p = 1n;
  while (p * 2n <= x) p *= 2n;
  return p;
}
const CREDITS_PER_JIFFY = pow2Below(0xffffffffffffffffn / (HZ * 60n * 60n * 24n));
const CREDITS_PER_JIFFY_BYTES = pow2Below(0xffffffffn / HZ);

/** user2credits(user, 3) */
function user2credits(user: bigint): bigint {
  const k = HZ * CREDITS_PER_JIFFY;
  if (SCALE >= k) return U64(user / (SCALE / k));
  return U64(user * (k / SCALE));
}

/** user2credits_byte(): the argument is a u32 */
function user2creditsByte(user: bigint): bigint {
  const us = BigInt.asUintN(32, user) * HZ * CREDITS_PER_JIFFY_BYTES;
  return BigInt.asUintN(32, us >> 32n);
}

function user2rate(user: bigint): bigint {
  return user !== 0n ? SCALE / user : 0n;
}

function user2rateBytes(user: bigint): bigint {
  const u = BigInt.asUintN(32, user);
  const r = u ? U32_MAX / u : U32_MAX;
  return U64((r - 1n) << BYTE_SHIFT);
}

/** msecs_to_jiffies() for HZ dividing 1000: rounded up */
const msecsToJiffies = (ms: number): number => Math.ceil(ms / (1000 / Number(HZ)));

function maskl(a: number, l: number): number {
  return l ? (a & (0xffffffff << (32 - l))) >>> 0 : 0;
}

interface Entry {
  key: string;
  expires: number;
  prev: number;
  credit: string;
  creditCap: string;
  cost: string;
  interval: number;
  prevWindow: boolean;
  currentRate: string;
  rate: string;
  burst: string;
}

interface Htable {
  /** the configuration of the rule that created the table (htable_create copies it) */
  cfg: HashlimitData;
  max: number;
  created: number;
  lastGc: number;
  entries: Entry[];
}

export const hashlimit: MatchExtension<HashlimitData> = {
  kind: 'match',
  name: 'hashlimit',
  v6Addresses: true,
  revision: 3,
  // hashlimit_mt_help_v3() of libxt_hashlimit.c, byte for byte as iptables 1.8.9 prints it
  help:
    'hashlimit match options:\n' +
    '  --hashlimit-upto <avg>           max average match rate\n' +
    '                                   [Packets per second unless followed by \n' +
    '                                   /sec /minute /hour /day postfixes]\n' +
    '  --hashlimit-above <avg>          min average match rate\n' +
    '  --hashlimit-mode <mode>          mode is a comma-separated list of\n' +
    '                                   dstip,srcip,dstport,srcport (or none)\n' +
    '  --hashlimit-srcmask <length>     source address grouping prefix length\n' +
    '  --hashlimit-dstmask <length>     destination address grouping prefix length\n' +
    '  --hashlimit-name <name>          name for /proc/net/ipt_hashlimit\n' +
    '  --hashlimit-burst <num>\t    number to match in a burst, default 5\n' +
    '  --hashlimit-htable-size <num>    number of hashtable buckets\n' +
    '  --hashlimit-htable-max <num>     number of hashtable entries\n' +
    '  --hashlimit-htable-gcinterval    interval between garbage collection runs\n' +
    '  --hashlimit-htable-expire        after which time are idle entries expired?\n' +
    '  --hashlimit-rate-match           rate match the flow without rate-limiting it\n' +
    '  --hashlimit-rate-interval        interval in seconds for hashlimit-rate-match\n' +
    '\n',
  options: opts,
  // hashlimit_mt4_init()
  init: (frame) => ({
    name: '',
    mode: 0,
    avg: '0',
    burst: String(XT_HASHLIMIT_BURST),
    size: 0,
    max: 0,
    gcInterval: XT_HASHLIMIT_GCINTERVAL,
    expire: 0,
    interval: 0,
    srcmask: frame.family === 6 ? 128 : 32,
    dstmask: frame.family === 6 ? 128 : 32,
    mult: 0,
    ...(frame.family === 6 ? { v6: true } : {}),
  }),
  parse({ entry, arg, invert, val, data }) {
    switch (entry.id) {
      case O_BURST:
        data.burst = parseBurst(arg!).toString();
        break;
      case O_UPTO:
      case O_ABOVE: {
        // --hashlimit-above is an inverted --hashlimit-upto, and "!" flips either
        if (invert !== (entry.id === O_ABOVE)) data.mode |= INVERT;
        const bytes = parseBytes(arg!, data);
        if (bytes !== undefined) {
          data.avg = bytes.toString();
          data.mode |= BYTES;
          break;
        }
        const avg = parseRate(arg!, data);
        if (avg === undefined) throw badValue(entry.id === O_ABOVE ? '--hashlimit-above' : '--hashlimit-upto', arg!);
        data.avg = avg.toString();
        break;
      }
      case O_MODE: {
        const m = parseMode(arg!);
        if (m === undefined) throw badValue('--hashlimit-mode', arg!);
        data.mode |= m;
        break;
      }
      case O_SRCMASK:
        // a mask with holes is -1, stored in a __u8
        data.srcmask = val.hlen! & 0xff;
        break;
      case O_DSTMASK:
        data.dstmask = val.hlen! & 0xff;
        break;
      case O_RATEMATCH:
        data.mode |= RATE_MATCH;
        break;
      case O_INTERVAL: {
        const n = Number(BigInt.asIntN(32, strtolDec(arg!)));
        if (n <= 0) throw badValue('--hashlimit-rate-interval', arg!);
        data.interval = n;
        break;
      }
      case O_NAME:
        data.name = val.str!;
        break;
      case O_HTABLE_SIZE:
        data.size = val.num!;
        break;
      case O_HTABLE_MAX:
        data.max = val.num!;
        break;
      case O_HTABLE_GCINT:
        data.gcInterval = val.num!;
        break;
      case O_HTABLE_EXPIRE:
        data.expire = val.num!;
        break;
    }
  },
  // hashlimit_mt_check()
  finalCheck({ data, xflags }) {
    const has = (id: number) => (xflags & (1 << id)) !== 0;
    if (!has(O_UPTO) && !has(O_ABOVE)) throw paramProblem('You have to specify --hashlimit');
    if (!has(O_HTABLE_EXPIRE)) data.expire = (data.mult * 1000) >>> 0;
    const avg = BigInt(data.avg);
    if (data.mode & BYTES) {
      let burst = 0n;
      if (has(O_BURST)) {
        const cfgBurst = BigInt(data.burst);
        const unit = costToBytes(avg);
        if (cfgBurst < unit) throw paramProblem(`burst cannot be smaller than ${unit}b`);
        // a rate so small that a cost unit is 0 bytes
        if (unit === 0n) throw divisionByZero('burst check');
        // "uint32_t burst = info->cfg.burst" before the division
        burst = BigInt.asUintN(32, BigInt.asUintN(32, cfgBurst) / unit);
        if (cfgBurst % unit) burst = BigInt.asUintN(32, burst + 1n);
        if (!has(O_HTABLE_EXPIRE)) data.expire = XT_HASHLIMIT_BYTE_EXPIRE_BURST * 1000;
      }
      data.burst = burst.toString();
    } else if (BigInt(data.burst) > BigInt(XT_HASHLIMIT_BURST_MAX)) {
      throw paramProblem(`bad value for option "--hashlimit-burst", or out of range (1-${XT_HASHLIMIT_BURST_MAX}).`);
    }
    if (has(O_RATEMATCH)) {
      if (!(data.mode & BYTES)) data.avg = (avg / BigInt(data.mult)).toString();
      if (data.interval === 0) data.interval = data.mode & BYTES ? 1 : data.mult;
    }
  },
  print(d) {
    let s = d.mode & INVERT ? ' limit: above' : ' limit: up to';
    let quantum: number;
    if (d.mode & BYTES) {
      const p = printBytes(BigInt(d.avg), BigInt(d.burst), '');
      s += p.text;
      quantum = p.quantum;
    } else {
      let period = BigInt(d.avg);
      if (d.interval !== 0) period = U64(period * BigInt(d.interval));
      const p = printRate(period);
      s += `${p.text} burst ${d.burst}`;
      quantum = p.quantum;
    }
    if (d.mode & HASH_ANY) s += ` mode${modeText(d.mode, '-')}`;
    if (d.size) s += ` htable-size ${d.size}`;
    if (d.max) s += ` htable-max ${d.max}`;
    if (d.gcInterval !== XT_HASHLIMIT_GCINTERVAL) s += ` htable-gcinterval ${d.gcInterval}`;
    if (d.expire !== quantum) s += ` htable-expire ${d.expire}`;
    if (d.srcmask !== dmask(d)) s += ` srcmask ${d.srcmask}`;
    if (d.dstmask !== dmask(d)) s += ` dstmask ${d.dstmask}`;
    if (d.mode & RATE_MATCH) {
      s += ' rate-match';
      if (d.interval !== 1) s += ` rate-interval ${d.interval}`;
    }
    return s;
  },
  save(d) {
    let s = d.mode & INVERT ? ' --hashlimit-above' : ' --hashlimit-upto';
    let quantum: number;
    if (d.mode & BYTES) {
      const p = printBytes(BigInt(d.avg), BigInt(d.burst), '--hashlimit-');
      s += p.text;
      quantum = p.quantum;
    } else {
      // unlike print(), save() shows the stored period without the rate interval
      const p = printRate(BigInt(d.avg));
      s += `${p.text} --hashlimit-burst ${d.burst}`;
      quantum = p.quantum;
    }
    if (d.mode & HASH_ANY) s += ` --hashlimit-mode${modeText(d.mode, ',')}`;
    s += ` --hashlimit-name ${d.name}`;
    if (d.size) s += ` --hashlimit-htable-size ${d.size}`;
    if (d.max) s += ` --hashlimit-htable-max ${d.max}`;
    if (d.gcInterval !== XT_HASHLIMIT_GCINTERVAL) s += ` --hashlimit-htable-gcinterval ${d.gcInterval}`;
    if (d.expire !== quantum) s += ` --hashlimit-htable-expire ${d.expire}`;
    if (d.srcmask !== dmask(d)) s += ` --hashlimit-srcmask ${d.srcmask}`;
    if (d.dstmask !== dmask(d)) s += ` --hashlimit-dstmask ${d.dstmask}`;
    if (d.mode & RATE_MATCH) {
      s += ' --hashlimit-rate-match';
      if (d.interval !== 1) s += ` --hashlimit-rate-interval ${d.interval}`;
    }
    return s;
  },
  /**
   * hashlimit_mt_check(). Not modelled: a rule whose --hashlimit-rate-match differs from the
   * existing table of the same name is refused too (EINVAL), which needs the other rules.
   */
  kernelCheck(d) {
    if (d.name === '.' || d.name === '..' || d.name.includes('/')) {
      return `xt_hashlimit: "${d.name}" is not a valid table name (".", ".." or containing "/")`;
    }
    if (d.gcInterval === 0 || d.expire === 0) return 'xt_hashlimit: --hashlimit-htable-gcinterval and --hashlimit-htable-expire must not be 0';
    if (d.srcmask > dmask(d) || d.dstmask > dmask(d)) return `xt_hashlimit: --hashlimit-srcmask and --hashlimit-dstmask must be prefix lengths of 0-${dmask(d)}`;
    const avg = BigInt(d.avg);
    const burst = BigInt(d.burst);
    if (d.mode & RATE_MATCH) {
      if (avg === 0n || avg > U32_MAX) return { errno: 'Numerical result out of range', why: 'xt_hashlimit: invalid rate for --hashlimit-rate-match' };
    } else if (d.mode & BYTES) {
      if (user2creditsByte(avg) === 0n) return `xt_hashlimit: overflow, rate too high: ${avg}`;
    } else if (burst === 0n || user2credits(U64(avg * burst)) < user2credits(avg)) {
      return { errno: 'Numerical result out of range', why: `xt_hashlimit: overflow, try lower: ${avg}/${burst}` };
    }
    return undefined;
  },
  /**
   * hashlimit_mt_common() on the lab clock in jiffies (HZ=250). The table is shared by name and
   * keeps the configuration of the first rule evaluated with that name (the kernel: the first
   * inserted). A full table (--hashlimit-htable-max) makes the kernel drop the packet outright
   * (hotdrop); here the rule just does not match.
   */
  match(d, pkt, ctx) {
    const now = Math.floor(ctx.now() * Number(HZ));
    const t = ctx.shared<Htable>(`hashlimit:${d.name}`, () => {
      // htable_create(): size from memory (8192 buckets above 1 GiB), max 8 * size by default
      const size = d.size || 8192;
      const max = d.max === 0 ? 8 * size : Math.max(d.max, size);
      return { cfg: { ...d }, max, created: now, lastGc: now, entries: [] };
    });
    const cfg = t.cfg;
    // garbage collection every gc_interval: entries whose expiry time has come go away
    const gcJ = Math.max(1, msecsToJiffies(cfg.gcInterval));
    const tick = t.created + Math.floor((now - t.created) / gcJ) * gcJ;
    if (tick > t.lastGc) {
      t.entries = t.entries.filter((e) => tick < e.expires);
      t.lastGc = tick;
    }
    // hashlimit_init_dst(): the table's mode and masks decide the key
    const parts: (number | string)[] = [];
    if (cfg.mode & HASH_DIP) parts.push(maskl(pkt.dst, cfg.dstmask));
    if (cfg.mode & HASH_SIP) parts.push(maskl(pkt.src, cfg.srcmask));
    const ports = [6, 17, 136, 132, 33].includes(pkt.proto);
    if (cfg.mode & HASH_SPT) parts.push(ports ? (pkt.sport ?? 0) : 0);
    if (cfg.mode & HASH_DPT) parts.push(ports ? (pkt.dport ?? 0) : 0);
    const key = parts.join('/');
    const expireJ = msecsToJiffies(cfg.expire);
    let dh = t.entries.find((e) => e.key === key);
    if (!dh) {
      if (t.entries.length >= t.max) return false;
      dh = rateinfoInit(cfg, key, now);
      dh.expires = now + expireJ;
      t.entries.push(dh);
    } else {
      dh.expires = now + expireJ;
      rateinfoRecalc(dh, now, cfg.mode);
    }
    const invert = (d.mode & INVERT) !== 0;
    if (d.mode & RATE_MATCH) {
      const cost = d.mode & BYTES ? BigInt(pkt.len) : 1n;
      const cur = U64(BigInt(dh.currentRate) + cost);
      dh.currentRate = cur.toString();
      if (!dh.prevWindow && cur <= BigInt(dh.burst)) return !invert;
      return invert;
    }
    const cost = d.mode & BYTES ? byteCost(pkt.len, dh) : BigInt(dh.cost);
    const credit = BigInt(dh.credit);
    if (credit >= cost) {
      dh.credit = (credit - cost).toString();
      return !invert;
    }
    return invert;
  },
};

/** rateinfo_init() */
function rateinfoInit(cfg: HashlimitData, key: string, now: number): Entry {
  const avg = BigInt(cfg.avg);
  const burst = BigInt(cfg.burst);
  const e: Entry = {
    key,
    expires: 0,
    prev: now,
    credit: '0',
    creditCap: '0',
    cost: '0',
    interval: 0,
    prevWindow: false,
    currentRate: '0',
    rate: '0',
    burst: '0',
  };
  if (cfg.mode & RATE_MATCH) {
    if (cfg.mode & BYTES) {
      const rate = user2rateBytes(avg);
      e.rate = rate.toString();
      e.burst = (burst ? U64(burst * rate) : rate).toString();
    } else {
      const rate = user2rate(avg);
      e.rate = rate.toString();
      e.burst = U64(burst + rate).toString();
    }
    e.interval = cfg.interval;
  } else if (cfg.mode & BYTES) {
    e.credit = (CREDITS_PER_JIFFY_BYTES * HZ).toString();
    e.cost = user2creditsByte(avg).toString();
    e.creditCap = burst.toString();
  } else {
    e.credit = user2credits(U64(avg * burst)).toString();
    e.cost = user2credits(avg).toString();
    e.creditCap = e.credit;
  }
  return e;
}

/** rateinfo_recalc(): refill by the jiffies elapsed (or close a rate-match window) */
function rateinfoRecalc(e: Entry, now: number, mode: number): void {
  const delta = now - e.prev;
  if (delta === 0) return;
  if (mode & RATE_MATCH) {
    const interval = BigInt(e.interval) * HZ;
    if (BigInt(delta) < interval) return;
    e.prev = now;
    e.prevWindow = BigInt(e.currentRate) * interval > BigInt(delta) * BigInt(e.rate);
    e.currentRate = '0';
    return;
  }
  e.prev = now;
  let credit = BigInt(e.credit);
  let cap: bigint;
  if (mode & BYTES) {
    const before = credit;
    credit = U64(credit + CREDITS_PER_JIFFY_BYTES * BigInt(delta));
    cap = CREDITS_PER_JIFFY_BYTES * HZ;
    if (before >= credit) {
      e.credit = cap.toString();
      return;
    }
  } else {
    credit = U64(credit + BigInt(delta) * CREDITS_PER_JIFFY);
    cap = BigInt(e.creditCap);
  }
  if (credit > cap) credit = cap;
  e.credit = credit.toString();
}

/** hashlimit_byte_cost(): 16-byte chunks times the cost; an empty bucket uses up one burst refill */
function byteCost(len: number, e: Entry): bigint {
  let tmp = BigInt((len >>> 4) + 1) * BigInt(e.cost);
  const full = CREDITS_PER_JIFFY_BYTES * HZ;
  if (tmp > full) tmp = full;
  const cap = BigInt(e.creditCap);
  if (BigInt(e.credit) < tmp && cap) {
    e.creditCap = (cap - 1n).toString();
    e.credit = full.toString();
  }
  return BigInt.asUintN(32, tmp);
}
