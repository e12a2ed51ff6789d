/**
 * Helpers for extension unit tests: build a rule from an iptables rule spec exactly as the CLI
 * would, make packets, and evaluate a rule's matches / target against them with a controllable
 * context.
 */
import type { MatchContext, PacketView, TargetContext, TargetResult, Tuple } from '../../src/engine/ext-api.js';
import { findMatch, findTarget } from '../../src/extensions/registry.js';
import { parseIptables } from '../../src/cli/commands/iptables.js';
import { nftRoundTrip } from '../../src/ruleset/nft-compat.js';
import type { Rule } from '../../src/ruleset/rule.js';
import { parseDotted } from '../../src/net/ipv4.js';
import { deviceMtu } from '../../src/net/mtu.js';
import { splitShell } from './cli.js';

/** "-p tcp --dport 22 -j ACCEPT" (table and chain optional: "-t nat -A PREROUTING ...") -> Rule */
export function ruleFrom(spec: string): Rule {
  const argv = splitShell(spec);
  if (!argv.some((a) => ['-A', '-I', '--append', '--insert'].includes(a))) argv.unshift('-A', 'INPUT');
  const cmd = parseIptables(argv, () => {});
  const rule = cmd.rules[0]!;
  nftRoundTrip(rule);
  return rule;
}

export const ip = (s: string): number => parseDotted(s)!;

export function packet(p: Partial<Omit<PacketView, 'src' | 'dst'>> & { src?: string | number; dst?: string | number } = {}): PacketView {
  const { src, dst, ...rest } = p;
  return {
    src: typeof src === 'string' ? ip(src) : (src ?? ip('10.0.0.1')),
    dst: typeof dst === 'string' ? ip(dst) : (dst ?? ip('10.0.0.2')),
    proto: 6,
    ttl: 64,
    tos: 0,
    len: 60,
    fragment: false,
    mark: 0,
    priority: 0,
    ...rest,
  };
}

export interface FakeContext extends TargetContext {
  store: Map<string, unknown>;
  clock: number;
  ctMarkValue?: number;
}

/** A context with a settable clock, a fixed random sequence and in-memory rule state. */
export function context(over: Partial<FakeContext> & { randoms?: number[]; connections?: [Tuple, Tuple][] } = {}): FakeContext {
  const randoms = [...(over.randoms ?? [])];
  const ctx: FakeContext = {
    hook: 'INPUT',
    table: 'filter',
    chain: 'INPUT',
    store: new Map(),
    clock: 1000,
    addrType: () => 'UNICAST',
    random: () => (randoms.length ? randoms.shift()! : 0.5),
    draw: (p) => Math.floor(ctx.random() * 0x80000000) < Math.round(p * 0x80000000),
    state<T>(init: () => T): T {
      if (!ctx.store.has('rule')) ctx.store.set('rule', init());
      return ctx.store.get('rule') as T;
    },
    shared<T>(name: string, init: () => T): T {
      if (!ctx.store.has(`shared:${name}`)) ctx.store.set(`shared:${name}`, init());
      return ctx.store.get(`shared:${name}`) as T;
    },
    now: () => ctx.clock,
    reversePathOk: () => true,
    socket: () => undefined,
    countConnections: (pred) => (over.connections ?? []).filter(([o, r]) => pred(o, r)).length,
    ctMark: () => ctx.ctMarkValue,
    setCtMark: (m) => {
      ctx.ctMarkValue = m;
    },
    ifaceAddress: () => undefined,
    // (routes between two ethernet devices of the kernel's default MTU)
    routeMtus: () => ({ out: deviceMtu(undefined, 'eth0'), back: deviceMtu(undefined, 'eth1') }),
    ipset: () => undefined,
    changeIpset: () => undefined,
    countIpsetElem: (e, bytes) => [(e.packets ?? 0) + (bytes ? 1 : 0), (e.bytes ?? 0) + bytes],
    countNfacct: () => {
      throw new Error('this test context has no accounting objects');
    },
    ...over,
  };
  return ctx;
}

/** Do all matches of the rule (not the frame: addresses, interfaces, protocol) accept the packet? */
export function matches(rule: Rule, pkt: PacketView, ctx: MatchContext = context()): boolean {
  return rule.matches.every((m) => {
    const ext = findMatch(m.name)!;
    if (!ext.match) throw new Error(`match ${m.name} has no packet semantics`);
    return ext.match(m.data, pkt, ctx);
  });
}

export function applyTarget(rule: Rule, pkt: PacketView, ctx: TargetContext = context()): TargetResult {
  const t = rule.target;
  if (!t || t.kind !== 'ext') throw new Error('rule has no extension target');
  const ext = findTarget(t.name)!;
  if (!ext.apply) throw new Error(`target ${t.name} has no packet semantics`);
  return ext.apply(t.data, pkt, ctx);
}

/**
 * Runs a trace that must stop at a rule whose extension has no packet semantics: the engine's
 * UnmodelledExtension, exit 3, with a message matching `message`.
 */
export async function expectTraceRefused(run: () => unknown, message: RegExp): Promise<void> {
  const { UnmodelledExtension } = await import('../../src/engine/netfilter.js');
  let err: unknown;
  try {
    run();
  } catch (e) {
    err = e;
  }
  if (!(err instanceof UnmodelledExtension)) throw new Error(`expected an UnmodelledExtension, got ${String(err)}`);
  if (err.status !== 3) throw new Error(`expected exit 3, got ${err.status}`);
  if (!message.test(err.message)) throw new Error(`unexpected message: ${err.message}`);
}
