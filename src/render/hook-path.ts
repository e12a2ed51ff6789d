/**
 * The path one packet took through one host's netfilter hooks (the seed post's first figure:
 * PREROUTING, the routing decision, INPUT or FORWARD, a local process, output routing, OUTPUT, the
 * reroute check, POSTROUTING), read from the events of one host visit. The engine reports the
 * routing decisions, every base chain it ran and every rewrite; the hooks a packet passes without
 * any base chain registered leave no event, so they are filled in from the routing decisions the
 * way the kernel orders them (ip_rcv -> PREROUTING -> ip_route_input -> ip_local_deliver (INPUT) or
 * ip_forward (FORWARD) -> ip_output (POSTROUTING); a local sender: ip_route_output -> OUTPUT ->
 * ip_route_me_harder -> POSTROUTING, and through lo back into PREROUTING when it is for the host).
 */
import type { Hook, TraceEvent } from '../engine/events.js';
import type { Direction, Visit } from './story.js';

export type HookNode = 'in' | 'PREROUTING' | 'routing' | 'INPUT' | 'local' | 'FORWARD' | 'output-routing' | 'OUTPUT' | 'reroute' | 'POSTROUTING' | 'out';

/** The tables (and conntrack's own steps) at each hook, in nf_tables priority order. */
export const HOOK_TABLES: Record<Hook, string[]> = {
  PREROUTING: ['raw', 'conntrack', 'mangle', 'nat'],
  INPUT: ['mangle', 'filter', 'security', 'nat', 'conntrack'],
  FORWARD: ['mangle', 'filter', 'security'],
  OUTPUT: ['raw', 'conntrack', 'mangle', 'nat', 'filter', 'security'],
  POSTROUTING: ['mangle', 'nat', 'conntrack'],
};

export const HOOKS: Hook[] = ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'];

export interface HookRewrite {
  hook: Hook;
  target: string;
  field: 'source' | 'destination';
  before: string;
  after: string;
}

export interface HookPath {
  host: string;
  dir: Direction;
  /** which packets took this path ("#1 SYN") */
  label: string;
  /** the nodes in the order the packet passed them (a looped-back packet passes some twice) */
  nodes: HookNode[];
  inIface?: string;
  outIface?: string;
  /** per hook: the tables whose base chain ran, and conntrack when it looked the packet up or confirmed it */
  ran: Partial<Record<Hook, string[]>>;
  rewrites: HookRewrite[];
  /** routing decisions as the engine described them */
  routes: string[];
  drop?: { at: HookNode; reason: string };
}

const EDGES: [HookNode, HookNode][] = [
  ['in', 'PREROUTING'],
  ['PREROUTING', 'routing'],
  ['routing', 'INPUT'],
  ['routing', 'FORWARD'],
  ['INPUT', 'local'],
  ['FORWARD', 'POSTROUTING'],
  ['local', 'output-routing'],
  ['output-routing', 'OUTPUT'],
  ['OUTPUT', 'reroute'],
  ['reroute', 'POSTROUTING'],
  ['POSTROUTING', 'out'],
  ['out', 'in'],
];

/** the arrows of the hook diagram (out -> in is the loopback device) */
export function hookEdges(): [HookNode, HookNode][] {
  return EDGES.map((e) => [...e] as [HookNode, HookNode]);
}

export function isHookEdge(a: HookNode, b: HookNode): boolean {
  return EDGES.some(([x, y]) => x === a && y === b);
}

type Phase = 'arrived' | 'input' | 'forward' | 'socket' | 'output' | 'post';

const VERDICT_DROP = new Set(['DROP', 'QUEUE']);

/**
 * The path of one visit. `origin` says whether the packet came from the wire or from a local
 * process; when the visit does not say (a one-packet trace), the first routing decision tells.
 */
export function hookPath(visit: Visit, dir: Direction, label: string): HookPath {
  const ev = visit.events;
  const fromWire = visit.arrivedOn !== undefined || !startsAtSocket(ev);
  const nodes: HookNode[] = fromWire ? ['in', 'PREROUTING'] : ['local'];
  const path: HookPath = { host: visit.host, dir, label, nodes, ran: {}, rewrites: [], routes: [] };
  if (visit.arrivedOn !== undefined) path.inIface = visit.arrivedOn;
  const st: { phase: Phase } = { phase: fromWire ? 'arrived' : 'socket' };
  let latestHook: Hook | undefined = fromWire ? 'PREROUTING' : undefined;
  const ran = (hook: Hook, table: string) => {
    const list = (path.ran[hook] ??= []);
    if (!list.includes(table)) list.push(table);
  };
  const push = (...n: HookNode[]) => nodes.push(...n);
  const toPost = () => {
    if (nodes[nodes.length - 1] === 'POSTROUTING') return;
    if (st.phase === 'output') push('reroute');
    push('POSTROUTING');
    st.phase = 'post';
  };
  for (let i = 0; i < ev.length; i++) {
    const e = ev[i]!;
    switch (e.kind) {
      case 'hook':
        latestHook = e.hook;
        ran(e.hook, e.table);
        if (e.hook === 'POSTROUTING' && (st.phase === 'forward' || st.phase === 'output')) toPost();
        if (e.hook === 'PREROUTING' && (st.phase === 'output' || st.phase === 'post')) {
          // the looped-back packet's PREROUTING, before its routing event: it went through lo
          toPost();
          push('out', 'in', 'PREROUTING');
          st.phase = 'arrived';
          path.outIface = 'lo';
          path.inIface = 'lo';
        }
        if (e.pkt.in && path.inIface === undefined && fromWire) path.inIface = e.pkt.in;
        break;
      case 'conntrack': {
        const at: Hook | undefined =
          e.action === 'confirmed' ? (st.phase === 'input' ? 'INPUT' : 'POSTROUTING') : e.action === 'new' || e.action === 'established' || e.action === 'related' || e.action === 'invalid' || e.action === 'untracked' ? (st.phase === 'arrived' ? 'PREROUTING' : 'OUTPUT') : undefined;
        if (at) ran(at, 'conntrack');
        break;
      }
      case 'rewrite': {
        const hook = e.chain as Hook;
        ran(hook, 'nat');
        path.rewrites.push({ hook, target: e.target, field: e.field, before: e.before, after: e.after });
        break;
      }
      case 'route':
        path.routes.push(`${e.decision}: ${e.dst}${e.route ? ` via ${e.route}` : ''}`);
        if (e.decision === 'input') {
          if (st.phase === 'output' || st.phase === 'post') {
            toPost();
            push('out', 'in', 'PREROUTING');
            path.outIface = 'lo';
            path.inIface = 'lo';
          }
          push('routing', 'INPUT');
          st.phase = 'input';
        } else if (e.decision === 'forward') {
          push('routing', 'FORWARD');
          st.phase = 'forward';
          if (e.dev) path.outIface = e.dev;
        } else if (e.decision === 'output') {
          push('output-routing');
          if (e.route !== 'none') push('OUTPUT');
          st.phase = 'output';
          if (e.dev) path.outIface = e.dev;
        } else if (e.decision === 'reroute') {
          if (e.dev) path.outIface = e.dev;
        }
        break;
      case 'link':
        toPost();
        push('out');
        path.outIface = e.iface;
        break;
      case 'drop': {
        if (path.drop) break;
        const at = dropSite(ev, i, st.phase, latestHook);
        path.drop = { at, reason: e.reason };
        if (at === 'out') toPost();
        cutAt(nodes, at);
        return finish(path);
      }
      default:
        break;
    }
  }
  // the visit ended without a drop: a local socket got it, or it was sent out (a one-packet
  // trace ends there; a connection's next visit starts after the link)
  if (st.phase === 'input') push('local');
  else if ((st.phase === 'forward' || st.phase === 'output' || st.phase === 'post') && nodes[nodes.length - 1] !== 'out') {
    toPost();
    push('out');
  }
  return finish(path);
}

function finish(p: HookPath): HookPath {
  for (const h of HOOKS) {
    const list = p.ran[h];
    if (list) list.sort((a, b) => HOOK_TABLES[h].indexOf(a) - HOOK_TABLES[h].indexOf(b));
  }
  return p;
}

/** a one-packet trace from a local process starts with its output routing decision */
function startsAtSocket(ev: TraceEvent[]): boolean {
  for (const e of ev) {
    if (e.kind === 'packet') continue;
    return e.kind === 'route' && e.decision === 'output';
  }
  return false;
}

/** Everything after the last pass through `at` never happened; `at` joins the path if needed. */
function cutAt(nodes: HookNode[], at: HookNode): void {
  const i = nodes.lastIndexOf(at);
  if (i >= 0) nodes.length = i + 1;
  else nodes.push(at);
}

/**
 * Where a drop happened. A verdict (a rule's or a policy's DROP/QUEUE, REJECT included) drops at
 * the hook whose chain was running; otherwise the stack dropped it at the step the packet was
 * at: the input routing decision (martians, forwarding off, no route, TTL), output routing
 * (no route, a 127/8 source leaving by a real device), the reroute check after OUTPUT changed the
 * packet, POSTROUTING (MASQUERADE without an address) or the link (no ARP answer).
 */
function dropSite(ev: TraceEvent[], i: number, phase: Phase, latestHook: Hook | undefined): HookNode {
  const e = ev[i]!;
  if (e.kind === 'drop' && e.at === 'link') return 'out';
  let prev: TraceEvent | undefined;
  for (let j = i - 1; j >= 0; j--) {
    const k = ev[j]!.kind;
    if (k === 'log' || k === 'note' || k === 'conntrack' || k === 'return') continue;
    prev = ev[j];
    break;
  }
  const verdict =
    (prev?.kind === 'rule' && VERDICT_DROP.has(prev.verdict)) ||
    (prev?.kind === 'policy' && VERDICT_DROP.has(prev.policy)) ||
    (e.kind === 'drop' && /^jump stack exhausted/.test(e.reason));
  if (verdict && latestHook) return latestHook;
  switch (phase) {
    case 'arrived':
    case 'forward':
      return 'routing';
    case 'input':
      return latestHook === 'INPUT' ? 'INPUT' : 'routing';
    case 'socket':
      return 'output-routing';
    case 'output':
      return prev?.kind === 'route' && prev.decision === 'output' ? 'output-routing' : 'reroute';
    case 'post':
      return 'POSTROUTING';
  }
}

/**
 * Hook paths of every visit to `host` in a connection, one per distinct path: packets that took
 * the same way in the same direction share one, labelled with all their names.
 */
export function distinctPaths(paths: HookPath[]): HookPath[] {
  const out: HookPath[] = [];
  for (const p of paths) {
    const same = out.find((q) => q.dir === p.dir && q.nodes.join() === p.nodes.join() && q.drop?.at === p.drop?.at && q.inIface === p.inIface && q.outIface === p.outIface);
    if (same) {
      same.label += `, ${p.label}`;
      for (const h of HOOKS) for (const t of p.ran[h] ?? []) if (!(same.ran[h] ??= []).includes(t)) same.ran[h]!.push(t);
      for (const r of p.rewrites) if (!same.rewrites.some((x) => x.hook === r.hook && x.before === r.before && x.after === r.after)) same.rewrites.push(r);
      finish(same);
    } else {
      out.push({ ...p, nodes: [...p.nodes], ran: Object.fromEntries(Object.entries(p.ran).map(([k, v]) => [k, [...v]])), rewrites: [...p.rewrites], routes: [...p.routes] });
    }
  }
  return out;
}
