/**
 * The rule index of `trace --batch` (src/engine/rule-index.ts, rule-code.ts) against the plain
 * linear walk, on random rule sets and random packets: negations, prefixes of every length, port
 * ranges, multiport, TCP flags, interfaces with and without +, jumps, gotos and RETURN across user
 * chains, statistic random and nth, limit, quota, mark, conntrack, NAT targets, REJECT.
 *
 * Three comparisons per rule set, packet by packet:
 * 1. the batch with the index and without it (same generator): the same JSON line and generator;
 * 2. the one-packet stack (events, counters, extension state and conntrack carried from packet to
 *    packet) with the index and without it: the same events, then the same lab;
 * 3. the batch and `trace`'s own tracePacket() on a copy of the lab whose generator stands where
 *    the batch's stands: the same outcome, explanation, packet, deciding rules and generator.
 * The generator is seeded: a failure names the seed that reproduces it.
 */
import { describe, expect, it } from 'vitest';
import { batchPacket, HostBatch, lineState, type BatchResult } from '../src/engine/batch.js';
import { HostStack } from '../src/engine/host.js';
import { runChain } from '../src/engine/netfilter.js';
import { RuleIndex } from '../src/engine/rule-index.js';
import { buildPacket, explainHostOutcome, tracePacket, type PacketSpec } from '../src/engine/simulate.js';
import type { TraceEvent } from '../src/engine/events.js';
import { resultJson } from '../src/cli/commands/trace-batch.js';
import { ResultWriter } from '../src/cli/commands/trace-batch-out.js';
import { SimError } from '../src/errors.js';
import type { Lab } from '../src/net/lab.js';
import { targetName } from '../src/ruleset/rule.js';
import { rulesInFile, type TableName } from '../src/ruleset/tables.js';
import { parseDotted } from '../src/net/ipv4.js';
import { readLab } from '../src/state/store.js';
import { Rng } from '../src/util/rng.js';
import { Sandbox } from './helpers/cli.js';
import { generator } from './helpers/random.js';

type Gen = ReturnType<typeof generator>;

const ADDRS = ['50.60.70.1', '50.60.70.80', '203.0.113.10', '198.51.100.7', '8.8.8.8', '192.168.1.1', '192.168.1.2', '192.168.1.3', '192.168.1.77', '127.0.0.1', '10.96.0.1', '10.96.0.2', '10.96.0.3', '10.96.1.9', '10.244.0.5'];
const PORTS = [22, 53, 80, 443, 8080, 40000, 1024];

function addrSpec(g: Gen): string {
  const a = g.pick(ADDRS);
  const len = g.pick([32, 32, 32, 24, 16, 8, 0, 30]);
  return `${a}/${len}`;
}

function portSpec(g: Gen): string {
  if (g.chance(0.6)) return String(g.pick(PORTS));
  const lo = g.pick(PORTS);
  return `${lo}:${lo + g.int(3000)}`;
}

type Kind = 'filter' | 'dnat' | 'snat' | 'snat-input' | 'mangle';

/** one rule's matches and target, as iptables-restore takes them */
function ruleSpec(g: Gen, kind: Kind, ins: boolean, outs: boolean, later: string[]): string {
  const parts: string[] = [];
  const neg = () => (g.chance(0.2) ? '! ' : '');
  if (g.chance(0.4)) parts.push(`${neg()}-s ${addrSpec(g)}`);
  if (g.chance(0.55)) parts.push(`${neg()}-d ${addrSpec(g)}`);
  if (ins && g.chance(0.3)) parts.push(`${neg()}-i ${g.pick(['eth0', 'eth1', 'eth+', 'lo', 'wg0'])}`);
  if (outs && g.chance(0.3)) parts.push(`${neg()}-o ${g.pick(['eth0', 'eth1', 'eth+', 'lo'])}`);
  if (g.chance(0.02)) parts.push(`${neg()}-f`);
  let proto: string | undefined;
  if (g.chance(0.6)) {
    proto = g.pick(['tcp', 'tcp', 'udp', 'icmp']);
    const inv = g.chance(0.1);
    parts.push(`${inv ? '! ' : ''}-p ${proto}`);
    if (inv) proto = undefined;
  }
  if (g.chance(0.3)) parts.push(`-m comment --comment "c${g.int(100)}"`);
  const stateful = () => {
    if (g.chance(0.12)) parts.push(g.chance(0.6) ? `-m statistic --mode random --probability ${g.pick(['0.5', '0.25', '0.33333333349', '0.9'])}` : `-m statistic --mode nth --every ${2 + g.int(3)} --packet ${g.int(2)}`);
    if (g.chance(0.03)) parts.push('-m limit --limit 1/hour --limit-burst 1');
    if (g.chance(0.03)) parts.push(`-m quota --quota ${60 + g.int(100)}`);
  };
  if (g.chance(0.3)) stateful();
  if (proto === 'tcp' || proto === 'udp') {
    if (g.chance(0.5)) parts.push(`-m ${proto} ${neg()}--dport ${portSpec(g)}`);
    else if (g.chance(0.3)) {
      const lo = g.pick(PORTS);
      parts.push(`-m multiport ${neg()}--dports ${g.pick(PORTS)},${lo}:${lo + 1 + g.int(20)}`);
    }
    if (g.chance(0.2)) parts.push(`-m ${proto} ${neg()}--sport ${portSpec(g)}`);
    // tests the read-back form says less of, which the kernel (and the match) still makes
    // (ruleset/nft-compat.ts): a second test of one port, the inverted 32-bit compare of both
    if (g.chance(0.1)) parts.push(`-m ${proto} ${neg()}--dport ${portSpec(g)}`);
    if (g.chance(0.06)) parts.push(`-m ${proto} ! --sport ${g.pick(PORTS)} ! --dport ${g.pick(PORTS)}`);
    if (proto === 'tcp' && g.chance(0.2)) parts.push(g.chance(0.5) ? '--syn' : `${neg()}--tcp-flags SYN,ACK ${g.pick(['SYN', 'ACK', 'SYN,ACK'])}`);
  }
  stateful();
  if (g.chance(0.1)) parts.push(`-m mark ${neg()}--mark 0x${g.int(4).toString(16)}/0x3`);
  if (g.chance(0.08)) parts.push(`-m conntrack --ctstate ${g.pick(['NEW', 'ESTABLISHED', 'NEW,ESTABLISHED', 'INVALID'])}`);
  const jump = later.length && g.chance(0.3) ? `-${g.chance(0.7) ? 'j' : 'g'} ${g.pick(later)}` : undefined;
  let target: string | undefined;
  if (jump) target = jump;
  else if (g.chance(0.12)) target = '-j RETURN';
  else if (g.chance(0.1)) target = undefined;
  else target = targetSpec(g, kind, proto);
  return [...parts, ...(target ? [target] : [])].join(' ');
}

/** a target the chain's hook allows */
function targetSpec(g: Gen, kind: Kind, proto: string | undefined): string {
  let target = '';
  {
    switch (kind) {
      case 'filter':
        target = g.pick(['-j ACCEPT', '-j DROP', '-j REJECT', '-j ACCEPT', '-j LOG --log-prefix "x "']);
        break;
      case 'dnat':
        target = g.pick([`-j DNAT --to-destination ${g.pick(['192.168.1.2', '192.168.1.3', '10.244.0.5'])}${proto === 'tcp' || proto === 'udp' ? `:${g.pick(PORTS)}` : ''}`, '-j ACCEPT', `-j MARK --set-xmark 0x${g.int(4)}/0x3`]);
        break;
      case 'snat':
        target = g.pick(['-j MASQUERADE', '-j MASQUERADE --random-fully', `-j SNAT --to-source 50.60.70.${80 + g.int(3)}`, '-j ACCEPT']);
        break;
      case 'snat-input':
        // MASQUERADE is for POSTROUTING only
        target = g.pick([`-j SNAT --to-source 50.60.70.${80 + g.int(3)}`, '-j ACCEPT']);
        break;
      case 'mangle':
        target = g.pick([`-j MARK --set-xmark 0x${g.int(4)}/0x3`, '-j ACCEPT', `-j TOS --set-tos 0x${g.pick(['10', '08'])}`]);
        break;
    }
  }
  return target;
}

/**
 * A chain shaped like kube-proxy's KUBE-SERVICES (one -d address/32 per rule): the index splits
 * such chains, which the random rules alone would rarely make worth it.
 */
function serviceRules(g: Gen, chain: string, later: string[]): string[] {
  const out: string[] = [];
  const n = 8 + g.int(20);
  for (let i = 0; i < n; i++) {
    const to = later.length && g.chance(0.6) ? `-j ${g.pick(later)}` : '-j ACCEPT';
    out.push(`-A ${chain} -d 10.96.${g.int(2)}.${g.int(12)}/32 -p ${g.pick(['tcp', 'udp'])} -m comment --comment "svc ${i}" -m ${g.chance(0.5) ? 'tcp' : 'udp'} --dport ${g.pick([80, 443, 53])} ${to}`.replace(/-p tcp (.*) -m udp/, '-p tcp $1 -m tcp').replace(/-p udp (.*) -m tcp/, '-p udp $1 -m udp'));
  }
  if (g.chance(0.5)) out.splice(g.int(out.length), 0, `-A ${chain} -m addrtype --dst-type LOCAL -j ${g.chance(0.5) && later.length ? g.pick(later) : 'RETURN'}`);
  return out;
}

/**
 * Many rules keyed on one field (source, destination port, input interface), some with a
 * statistic, limit or quota match before the port test: chains the index splits on that field,
 * where skipping a rule whose draw comes before its port test would show.
 */
function keyedRules(g: Gen, chain: string, kind: Kind, ins: boolean, outs: boolean, later: string[]): string[] {
  const out: string[] = [];
  const field = g.pick(['src', 'dport', 'dport', ...(ins ? ['in', 'in'] : []), ...(outs ? ['out', 'out'] : [])]);
  const ifaces = ['eth0', 'eth1', 'lo', 'wg0', 'br0', 'eth2', 'eth+'];
  const n = 8 + g.int(24);
  for (let i = 0; i < n; i++) {
    const p: string[] = [];
    const proto = g.pick(['tcp', 'udp']);
    if (field === 'src') p.push(`${g.chance(0.1) ? '! ' : ''}-s ${g.pick(ADDRS)}/${g.pick([32, 32, 24])}`);
    if (field === 'in') p.push(`${g.chance(0.05) ? '! ' : ''}-i ${g.pick(ifaces)}`);
    if (field === 'out') p.push(`${g.chance(0.05) ? '! ' : ''}-o ${g.pick(ifaces)}`);
    p.push(`-p ${proto}`);
    if (g.chance(0.3)) p.push('-m comment --comment "k"');
    if (g.chance(0.35)) p.push(g.pick(['-m statistic --mode random --probability 0.5', '-m statistic --mode nth --every 2 --packet 0', '-m quota --quota 100', '-m limit --limit 1/hour --limit-burst 1']));
    if (field === 'dport' || g.chance(0.3)) {
      if (g.chance(0.7)) p.push(`-m ${proto} ${g.chance(0.1) ? '! ' : ''}--dport ${g.chance(0.8) ? g.pick(PORTS) : portSpec(g)}`);
      else p.push(`-m multiport --dports ${g.pick(PORTS)},${g.pick(PORTS)}`);
    }
    if (g.chance(0.2)) p.push('-m statistic --mode random --probability 0.5');
    const t = later.length && g.chance(0.4) ? `-j ${g.pick(later)}` : targetSpec(g, kind, proto);
    out.push(`-A ${chain} ${p.join(' ')} ${t}`);
  }
  return out;
}

interface TableShape {
  name: string;
  builtins: { chain: string; kind: Kind; ins: boolean; outs: boolean }[];
  /** user chain families: a prefix, the kind of target allowed, which builtins may jump there */
  families: { prefix: string; kind: Kind; from: string[]; ins: boolean; outs: boolean }[];
}

const TABLES: TableShape[] = [
  {
    name: 'filter',
    builtins: [
      { chain: 'INPUT', kind: 'filter', ins: true, outs: false },
      { chain: 'FORWARD', kind: 'filter', ins: true, outs: true },
      { chain: 'OUTPUT', kind: 'filter', ins: false, outs: true },
    ],
    families: [{ prefix: 'F', kind: 'filter', from: ['INPUT', 'FORWARD', 'OUTPUT'], ins: false, outs: false }],
  },
  {
    name: 'nat',
    builtins: [
      { chain: 'PREROUTING', kind: 'dnat', ins: true, outs: false },
      { chain: 'OUTPUT', kind: 'dnat', ins: false, outs: true },
      { chain: 'INPUT', kind: 'snat-input', ins: true, outs: false },
      { chain: 'POSTROUTING', kind: 'snat', ins: false, outs: true },
    ],
    families: [
      { prefix: 'D', kind: 'dnat', from: ['PREROUTING', 'OUTPUT'], ins: false, outs: false },
      { prefix: 'S', kind: 'snat', from: ['POSTROUTING'], ins: false, outs: true },
    ],
  },
  {
    name: 'mangle',
    builtins: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'].map((chain) => ({
      chain,
      kind: 'mangle' as Kind,
      ins: ['PREROUTING', 'INPUT', 'FORWARD'].includes(chain),
      outs: ['FORWARD', 'OUTPUT', 'POSTROUTING'].includes(chain),
    })),
    families: [{ prefix: 'M', kind: 'mangle', from: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'], ins: false, outs: false }],
  },
];

/** an iptables-restore file: random rules in every table, user chains jumped to only forwards */
export function randomRuleset(g: Gen): string {
  const out: string[] = [];
  for (const t of TABLES) {
    if (t.name === 'mangle' && g.chance(0.5)) continue;
    out.push(`*${t.name}`);
    const policy = (c: string) => (t.name === 'filter' && g.chance(0.25) ? 'DROP' : 'ACCEPT') + (c ? '' : '');
    for (const b of t.builtins) out.push(`:${b.chain} ${policy(b.chain)} [0:0]`);
    const users = t.families.map((f) => ({ f, chains: Array.from({ length: 1 + g.int(4) }, (_, i) => `${f.prefix}${i}`) }));
    for (const u of users) for (const c of u.chains) out.push(`:${c} - [0:0]`);
    for (const b of t.builtins) {
      const reach = users.filter((u) => u.f.from.includes(b.chain)).flatMap((u) => u.chains);
      if (g.chance(0.3)) out.push(...keyedRules(g, b.chain, b.kind, b.ins, b.outs, reach));
      const n = g.int(14);
      for (let i = 0; i < n; i++) out.push(`-A ${b.chain} ${ruleSpec(g, b.kind, b.ins, b.outs, reach)}`.trimEnd());
    }
    for (const u of users) {
      u.chains.forEach((c, i) => {
        const later = u.chains.slice(i + 1);
        if (g.chance(0.35)) out.push(...serviceRules(g, c, later));
        if (g.chance(0.35)) out.push(...keyedRules(g, c, u.f.kind, u.f.ins, u.f.outs, later));
        const n = g.int(g.chance(0.3) ? 40 : 10);
        for (let k = 0; k < n; k++) out.push(`-A ${c} ${ruleSpec(g, u.f.kind, u.f.ins, u.f.outs, later)}`.trimEnd());
      });
    }
    out.push('COMMIT');
  }
  return out.join('\n') + '\n';
}

export function randomPacket(g: Gen): PacketSpec {
  const iface = g.pick(['eth0', 'eth0', 'eth1', undefined]);
  const proto = g.pick([6, 6, 6, 17, 17, 1]);
  const spec: PacketSpec = { iface, proto, dst: parseDotted(g.pick(ADDRS))! };
  if (iface !== undefined || g.chance(0.3)) spec.src = parseDotted(g.pick(iface === 'eth1' ? ['192.168.1.2', '192.168.1.3', '192.168.1.77', '10.244.0.5'] : ADDRS))!;
  if (proto !== 1) {
    spec.sport = g.pick([...PORTS, 40000 + g.int(100)]);
    spec.dport = g.pick(PORTS);
  } else {
    [spec.icmpType, spec.icmpCode] = g.pick([[8, 0], [0, 0], [3, 3]] as [number, number][]);
    if (spec.icmpType !== 3) spec.sport = g.int(5);
  }
  if (proto === 6) spec.tcpFlags = g.pick([0x02, 0x02, 0x10, 0x12, 0x04, 0x11]);
  if (g.chance(0.2)) spec.mark = g.int(4);
  if (g.chance(0.1)) spec.len = 40 + g.int(200);
  return spec;
}

/** a lab file holding `rules` (iptables-restore), read as often as asked: its chains still in the file each time */
async function labFileWith(rules: string): Promise<() => Lab> {
  const sb = new Sandbox();
  const r = await sb.run(['iptables-restore'], rules);
  if (r.rc !== 0) throw new Error(`restore failed (${r.rc}): ${r.stderr}\n${rules}`);
  return () => readLab(sb.state);
}

async function labWith(rules: string): Promise<Lab> {
  return (await labFileWith(rules))();
}

/** everything a batch line says, plus the packet fields the line leaves out */
function batchView(line: number, r: BatchResult | Error): string {
  if (r instanceof Error) return `error: ${r.message}`;
  const p = r.outcome.pkt;
  const json = resultJson(line, r);
  // the CLI writes the line as bytes: the same as resultJson()'s
  expect(written(line, r)).toBe(json + '\n');
  return `${json} mark=${p.mark} tos=${p.tos} ttl=${p.ttl} len=${p.len}`;
}

/** the line trace --batch writes for a result */
export function written(line: number, r: BatchResult, host = 'router'): string {
  const chunks: Buffer[] = [];
  const w = new ResultWriter((b) => chunks.push(Buffer.from(b)));
  w.result(line, host, r.outcome, r.decisions, r.reject);
  w.flush();
  return Buffer.concat(chunks).toString('utf8');
}

function classify(b: HostBatch, spec: PacketSpec, line: number): BatchResult | Error {
  try {
    return b.classify(spec, line);
  } catch (e) {
    if (e instanceof SimError) return e;
    throw e;
  }
}

/** events without the packet ids (a global counter) */
function normalized(events: TraceEvent[]): string {
  return JSON.stringify(events, (k, v) => (k === 'id' ? undefined : v));
}

const RULE_SETS = 40;
const PACKETS = 120;

describe('trace --batch: the rule index walks like the linear walk', () => {
  for (let set = 0; set < RULE_SETS; set++) {
    const seed = 0x9e3779b9 ^ (set * 2654435761);
    it(`rule set #${set} (seed ${seed >>> 0})`, async () => {
      const g = generator(seed);
      const rules = randomRuleset(g);
      const read = await labFileWith(rules);
      // the indexed batch reads a lab of its own, whose chains are still in the file (as the
      // command's are): its plans decode them without keeping them there (RuleIndex.plan())
      const lab = read();
      const fresh = read();
      const early = set % 3 === 1 ? Array.from({ length: 4 }, () => randomPacket(g)) : [];
      for (const l of [lab, fresh]) {
        l.rng = { seed: set, state: set * 7919 + 1 };
        // some rule sets start with connections and extension state in the lab
        for (const spec of early) tryTrace(l, spec);
      }
      const packets = Array.from({ length: PACKETS }, () => randomPacket(g));
      const pristine = JSON.stringify(lab);
      // the batch's packets are buildPacket()'s, field for field
      const fields = (p: object) => JSON.stringify(Object.entries({ ...p, id: 0 }).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1)));
      for (const spec of packets) expect(fields(batchPacket(spec))).toBe(fields(buildPacket(spec)));

      // 1. batch, with and without the index
      const indexed = new HostBatch(fresh, 'router');
      const linear = new HostBatch(lab, 'router', { index: false });
      const views: string[] = [];
      // the generator's state after each packet (how far its draws went)
      const after: number[] = [];
      packets.forEach((spec, i) => {
        const a = batchView(i + 1, classify(indexed, spec, i + 1));
        const b = batchView(i + 1, classify(linear, spec, i + 1));
        expect(a, `packet ${i + 1} ${JSON.stringify(spec)}\n${rules}`).toBe(b);
        expect(indexed.rng.state).toBe(linear.rng.state);
        after.push(indexed.rng.state);
        views.push(a);
      });
      // the batches changed nothing in the labs
      expect(JSON.stringify(lab)).toBe(pristine);
      expect(JSON.stringify(fresh)).toBe(pristine);

      // 2. the one-packet stack, events and state carried on, with and without the index
      const withIndex = JSON.parse(pristine) as Lab;
      const without = JSON.parse(pristine) as Lab;
      const rngs = [new Rng(withIndex.rng.state), new Rng(without.rng.state)];
      const index = new RuleIndex();
      packets.forEach((spec, i) => {
        const runs = [withIndex, without].map((l, k) => {
          const events: TraceEvent[] = [];
          const stack = new HostStack({ lab: l, name: 'router', host: l.hosts.router!, rng: rngs[k]!, now: l.clock ?? 0, emit: (e) => events.push(e), index: k === 0 ? index : undefined });
          let outcome: string;
          try {
            const pkt = buildPacket(spec);
            const o = spec.iface !== undefined ? stack.fromWire(pkt, spec.iface) : stack.fromSocket(pkt);
            outcome = explainHostOutcome('router', o);
          } catch (e) {
            if (!(e instanceof SimError)) throw e;
            outcome = `error: ${e.message}`;
          }
          stack.persist();
          return `${outcome}\n${normalized(events)}`;
        });
        expect(runs[0], `packet ${i + 1} ${JSON.stringify(spec)}\n${rules}`).toBe(runs[1]);
      });
      expect(rngs[0]!.state).toBe(rngs[1]!.state);
      expect(JSON.stringify(withIndex.hosts.router)).toBe(JSON.stringify(without.hosts.router));

      // 3. the batch against trace's own one-packet path on a copy of the lab
      packets.forEach((spec, i) => {
        const copy = JSON.parse(pristine) as Lab;
        // the state the batch started this line's packet at
        copy.rng.state = lineState(copy.rng.state, i + 1);
        let one: string;
        try {
          // (the packet alone, as the batch classifies it: not the answer a REJECT sends)
          const t = tracePacket(copy, 'router', spec, false);
          // the deciding rules as the one-packet trace shows them: the rule events that ended a chain run
          const decisions = t.events
            .filter((e): e is Extract<TraceEvent, { kind: 'rule' }> => e.kind === 'rule' && ['ACCEPT', 'DROP', 'QUEUE'].includes(e.verdict))
            .map((e) => {
              const chain = copy.hosts.router!.tables[e.table as TableName]!.chains.find((c) => c.name === e.chain)!;
              return { table: e.table as TableName, hook: 'PREROUTING' as const, chain: e.chain, rule: e.num, target: targetName(chain.rules[e.num - 1]!.target) };
            });
          const reject = t.outcome.kind === 'drop' ? /rejected it \(([^)]+)\)/.exec(t.outcome.reason)?.[1] : undefined;
          one = batchView(i + 1, { outcome: t.outcome, explanation: explainHostOutcome('router', t.outcome), decisions, ...(reject ? { reject } : {}) });
        } catch (e) {
          if (!(e instanceof SimError)) throw e;
          one = `error: ${e.message}`;
          copy.rng.state = after[i]!;
        }
        expect(views[i], `packet ${i + 1} ${JSON.stringify(spec)}\n${rules}`).toBe(one);
        expect(copy.rng.state).toBe(after[i]);
      });
    });
  }
});

function tryTrace(lab: Lab, spec: PacketSpec): void {
  try {
    tracePacket(lab, 'router', spec);
  } catch (e) {
    if (!(e instanceof SimError)) throw e;
  }
}

describe('the rule index', () => {
  it('splits a kube-proxy-shaped chain and keeps every rule that can match', async () => {
    const lines = ['*nat', ':PREROUTING ACCEPT [0:0]', ':SVC - [0:0]', ':X - [0:0]', '-A PREROUTING -j SVC'];
    for (let i = 0; i < 200; i++) lines.push(`-A SVC -d 10.96.0.${i}/32 -p tcp -m comment --comment "s${i}" -m tcp --dport 80 -j X`);
    lines.push('-A SVC -m addrtype --dst-type LOCAL -j X', '-A X -j DNAT --to-destination 192.168.1.2', 'COMMIT');
    const lab = await labWith(lines.join('\n') + '\n');
    const nat = lab.hosts.router!.tables.nat!;
    const svc = nat.chains.find((c) => c.name === 'SVC')!;
    const index = new RuleIndex();
    const plan = index.plan(nat, svc);
    const pkt = buildPacket({ proto: 6, src: parseDotted('50.60.70.1')!, dst: parseDotted('10.96.0.17')!, sport: 1, dport: 80 });
    expect(index.candidates(plan, pkt)).toEqual([17, 200]);
    pkt.dst = parseDotted('8.8.8.8')!;
    expect(index.candidates(plan, pkt)).toEqual([200]);
  });

  it('lets go of the rules of a chain still in the lab file that a quiet walk follows from their packed tests alone', async () => {
    const read = await labFileWith(
      ['*nat', ':PREROUTING ACCEPT [0:0]', ':SVC - [0:0]', ':SEP - [0:0]', ':MASQ - [0:0]', '-A PREROUTING -j SVC',
        '-A SVC -d 10.96.0.1/32 -p tcp -m comment --comment "svc" -m tcp --dport 80 -j SEP', '-A SVC -j RETURN',
        '-A SEP -s 10.244.0.1/32 -m comment --comment "svc" -j MASQ', '-A SEP -p tcp -m comment --comment "svc" -m tcp -j DNAT --to-destination 10.244.0.1:8080',
        '-A MASQ -j MARK --set-xmark 0x4000/0x4000', 'COMMIT'].join('\n') + '\n',
    );
    const tables = () => {
      const nat = read().hosts.router!.tables.nat!;
      return { nat, chain: (name: string) => nat.chains.find((c) => c.name === name)! };
    };
    const { nat, chain } = tables();
    const index = new RuleIndex(undefined, { quiet: true });
    // a jump, a RETURN: nothing to keep; a DNAT and a MARK: read when a packet reaches them
    const kept = (name: string) => index.plan(nat, chain(name)).rules.map((r) => r !== undefined);
    expect(kept('SVC')).toEqual([false, false]);
    expect(kept('SEP')).toEqual([false, true]);
    expect(kept('MASQ')).toEqual([true]);
    // the chains were decoded for the plans alone: their rules are still in the file
    for (const name of ['SVC', 'SEP', 'MASQ']) expect(rulesInFile(chain(name)), name).toBe(true);
    // a rule let go of, when asked for after all (a jump stack full, a goto loop): read from its
    // chain, which is decoded there
    const sep = index.plan(nat, chain('SEP'));
    const masqRule = index.entry(sep, 0).rule;
    expect(rulesInFile(chain('SEP'))).toBe(false);
    expect(masqRule).toBe(chain('SEP').rules[0]);
    expect(masqRule.target).toEqual({ kind: 'jump', chain: 'MASQ' });

    // an index whose walks may count plans the chains' own rules (the counters count on them)
    const counted = tables();
    const svc = counted.chain('SVC');
    const plan = new RuleIndex().plan(counted.nat, svc);
    expect(rulesInFile(svc)).toBe(false);
    expect(plan.rules).toHaveLength(2);
    plan.rules.forEach((r, i) => expect(r).toBe(svc.rules[i]));
  });

  it('is quiet only for walks that neither count nor report events', async () => {
    const lab = await labWith(['*filter', ':INPUT ACCEPT [0:0]', ':A - [0:0]', '-A INPUT -j A', '-A A -j ACCEPT', 'COMMIT'].join('\n') + '\n');
    const filter = lab.hosts.router!.tables.filter!;
    const run = (counters: boolean, emit: boolean) => {
      const pkt = buildPacket({ iface: 'eth0', proto: 6, src: parseDotted('50.60.70.1')!, dst: parseDotted('50.60.70.80')!, sport: 1, dport: 2 });
      return runChain(filter, 'INPUT', pkt, { host: 'router', table: 'filter', hook: 'INPUT', emit: () => {}, quiet: !emit, extContext: () => ({}) as never, index: new RuleIndex(undefined, { quiet: true }), counters }).verdict;
    };
    expect(run(false, false)).toBe('ACCEPT');
    expect(() => run(true, false)).toThrow(/quiet rule index/);
    expect(() => run(false, true)).toThrow(/quiet rule index/);
  });

  it('looks up a split of one group with the rest merged in, as the two merged', async () => {
    const lines = ['*nat', ':PREROUTING ACCEPT [0:0]', ':SVC - [0:0]', ':X - [0:0]', '-A PREROUTING -j SVC'];
    // rest rules before, between and after the bucketed ones
    lines.push('-A SVC -m addrtype --dst-type LOCAL -j X');
    for (let i = 0; i < 50; i++) {
      lines.push(`-A SVC -d 10.96.0.${i}/32 -p tcp -m tcp --dport 80 -j X`);
      if (i % 10 === 5) lines.push('-A SVC -m mark --mark 0x1 -j X');
    }
    lines.push('-A SVC -d 10.96.0.7/32 -p udp -j X', '-A SVC -m addrtype --dst-type LOCAL -j X', '-A X -j DNAT --to-destination 192.168.1.2', 'COMMIT');
    const lab = await labWith(lines.join('\n') + '\n');
    const nat = lab.hosts.router!.tables.nat!;
    const svc = nat.chains.find((c) => c.name === 'SVC')!;
    const index = new RuleIndex();
    const plan = index.plan(nat, svc);
    const rest = [0, 7, 18, 29, 40, 51, 57];
    const pkt = buildPacket({ proto: 6, src: parseDotted('50.60.70.1')!, dst: parseDotted('10.96.0.7')!, sport: 1, dport: 80 });
    expect(index.candidates(plan, pkt)).toEqual([0, 7, 9, 18, 29, 40, 51, 56, 57]);
    pkt.dst = parseDotted('10.96.0.49')!;
    expect(index.candidates(plan, pkt)).toEqual([...rest.slice(0, 6), 55, 57]);
    pkt.dst = parseDotted('8.8.8.8')!;
    expect(index.candidates(plan, pkt)).toEqual(rest);
  });

  it("runs each table and hook's own base chain, packet after packet, as the linear walk", async () => {
    // mangle marks differently on two hooks, filter reads the marks, raw has chains for two hooks
    // only, and nat exists without base chains in nf_tables (-N alone): the batch keeps each table
    // and hook's base chain plan, or that there is none to run
    const sb = new Sandbox();
    for (const c of [
      'iptables -t mangle -A PREROUTING -p tcp -j MARK --set-mark 1',
      'iptables -t mangle -A FORWARD -m mark --mark 1 -j MARK --set-mark 2',
      'iptables -t mangle -A POSTROUTING -p udp -j MARK --set-mark 3',
      'iptables -A FORWARD -m mark --mark 2 -p tcp --dport 22 -j DROP',
      'iptables -A FORWARD -m mark --mark 1 -j REJECT',
      'iptables -A INPUT -m mark --mark 1 -p tcp --dport 80 -j DROP',
      'iptables -t raw -A PREROUTING -p udp --dport 53 -j NOTRACK',
      'iptables -t raw -A OUTPUT -p udp -j ACCEPT',
      'iptables -t nat -N X',
    ]) {
      expect((await sb.sh(c)).rc, c).toBe(0);
    }
    const lab = readLab(sb.state);
    const specs: PacketSpec[] = [];
    for (const dport of [22, 80, 53])
      for (const proto of [6, 17])
        for (const [iface, dst] of [
          ['eth0', '192.168.1.2'],
          ['eth1', '8.8.8.8'],
          ['eth0', '50.60.70.80'],
          [undefined, '8.8.8.8'],
        ] as const) {
          const spec: PacketSpec = { iface, proto, dst: parseDotted(dst)!, sport: 40000, dport };
          if (iface !== undefined) spec.src = parseDotted(iface === 'eth0' ? '198.51.100.7' : '192.168.1.77')!;
          if (proto === 6) spec.tcpFlags = 0x02;
          specs.push(spec);
        }
    const indexed = new HostBatch(lab, 'router');
    const linear = new HostBatch(lab, 'router', { index: false });
    const views = specs.map((spec, i) => {
      const a = batchView(i + 1, classify(indexed, spec, i + 1));
      expect(a, JSON.stringify(spec)).toBe(batchView(i + 1, classify(linear, spec, i + 1)));
      return a;
    });
    // the rules of every hook decided somewhere
    expect(views.some((v) => v.includes('"chain":"FORWARD","rule":1,"target":"DROP"'))).toBe(true);
    // (mangle FORWARD changed mark 1 into 2 before filter FORWARD looked)
    expect(views.some((v) => v.includes('"chain":"FORWARD","rule":2,"target":"REJECT"'))).toBe(false);
    expect(views.some((v) => v.includes('"chain":"INPUT","rule":1,"target":"DROP"'))).toBe(true);
    expect(views.some((v) => v.includes('mark=3'))).toBe(true);
  });

  it('walks nested jumps, gotos and runs after a failed one as the linear walk', async () => {
    const lines = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD DROP [0:0]', '-A INPUT -j C0', '-A FORWARD -d 10.0.0.2/32 -g G0'];
    // as deep as nf_tables lets chains nest
    for (let i = 0; i < 12; i++) lines.splice(2, 0, `:C${i} - [0:0]`);
    for (let i = 0; i < 11; i++) lines.push(`-A C${i} -d 10.0.0.${i}/32 -j RETURN`, `-A C${i} -j C${i + 1}`);
    lines.push('-A C11 -d 10.0.0.11/32 -j DROP');
    lines.splice(2, 0, ':G0 - [0:0]', ':G1 - [0:0]');
    lines.push('-A G0 -d 10.0.0.1/32 -j RETURN', '-A G0 -g G1', '-A G1 -m mark --mark 0x5 -j ACCEPT', 'COMMIT');
    const lab = await labWith(lines.join('\n') + '\n');
    const filter = lab.hosts.router!.tables.filter!;
    const index = new RuleIndex();
    const run = (chain: string, dst: string, mark: number, ix?: RuleIndex, fail = false) => {
      const events: TraceEvent[] = [];
      const pkt = buildPacket({ iface: 'eth0', proto: 6, src: parseDotted('50.60.70.1')!, dst: parseDotted(dst)!, sport: 1, dport: 2, mark });
      const extContext = () => {
        if (fail) throw new SimError('no context', 1);
        return {} as never;
      };
      try {
        const res = runChain(filter, chain, pkt, { host: 'router', table: 'filter', hook: chain === 'INPUT' ? 'INPUT' : 'FORWARD', emit: (e) => events.push(e), extContext, index: ix, counters: false });
        return `${res.verdict} ${res.decidedBy} ${normalized(events)}`;
      } catch (e) {
        return `error ${(e as Error).message}`;
      }
    };
    const cases: [string, string, number][] = [];
    for (const d of ['10.0.0.3', '10.0.0.10', '10.0.0.11', '8.8.8.8']) cases.push(['INPUT', d, 0]);
    for (const [d, m] of [['10.0.0.2', 5], ['10.0.0.2', 0], ['10.0.0.9', 5]] as const) cases.push(['FORWARD', d, m]);
    for (const [chain, dst, mark] of cases) {
      const linear = run(chain, dst, mark);
      expect(run(chain, dst, mark, index), `${chain} ${dst}`).toBe(linear);
      // a run whose rules throw (the mark match asks for a context here) leaves the next run as it was
      expect(run('FORWARD', '10.0.0.2', 5, index, true)).toMatch(/^error no context/);
      expect(run(chain, dst, mark, index), `${chain} ${dst} after a failed run`).toBe(linear);
    }
    expect(run('INPUT', '10.0.0.11', 0)).toMatch(/^DROP rule 1 of filter C11/);
  });

  it('counts the rules it skips toward the evaluation limit, as the linear walk counts them', async () => {
    const lines = ['*filter', ':INPUT ACCEPT [0:0]', ':C - [0:0]', '-A INPUT -j C'];
    for (let i = 0; i < 40; i++) lines.push(`-A C -d 10.0.0.${i}/32 -j DROP`);
    lines.push('-A C -d 10.0.0.77/32 -j RETURN', 'COMMIT');
    const lab = await labWith(lines.join('\n') + '\n');
    const filter = lab.hosts.router!.tables.filter!;
    for (const limit of [1, 2, 20, 41, 42, 43, 44]) {
      const run = (index?: RuleIndex) => {
        const events: TraceEvent[] = [];
        const pkt = buildPacket({ iface: 'eth0', proto: 6, src: parseDotted('50.60.70.1')!, dst: parseDotted('10.0.0.77')!, sport: 1, dport: 2 });
        const res = runChain(filter, 'INPUT', pkt, { host: 'router', table: 'filter', hook: 'INPUT', emit: (e) => events.push(e), extContext: () => ({}) as never, evaluationLimit: limit, index, counters: false });
        return `${res.verdict} ${res.decidedBy} ${normalized(events)}`;
      };
      const linear = run();
      expect(run(new RuleIndex()), `limit ${limit}`).toBe(linear);
      // INPUT's jump, C's 40 DROP rules, its RETURN: 42 evaluations
      expect(linear.includes('evaluation limit')).toBe(limit < 42);
    }
  });
});
