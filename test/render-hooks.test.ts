/**
 * The hook diagram: the path a packet took through one host's hooks, read from what the engine
 * really did (one-packet traces and connections on the built-in lab), with every place a packet
 * can die; then the figure's layout (nodes on the seed's grid, path arrows joining the boxes the
 * packet passed, the drop marked on its node).
 */
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../src/engine/events.js';
import { PICTURE } from '../src/render/geometry.js';
import { distinctPaths, hookPath, type HookNode, type HookPath } from '../src/render/hook-path.js';
import { hookDiagramModel, layoutHooks } from '../src/render/hooks-layout.js';
import { connectionHookPaths, packetHookPaths } from '../src/render/pictures.js';
import { Sandbox } from './helpers/cli.js';

const DNAT = 'iptables -t nat -A PREROUTING -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.168.1.2:80';

async function traced(setup: string[], args: string): Promise<TraceEvent[]> {
  const sb = new Sandbox();
  for (const line of setup) expect((await sb.sh(line)).rc, line).toBe(0);
  const r = await sb.sh(`--json ${args}`);
  expect(r.stderr).toBe('');
  return (JSON.parse(r.stdout) as { events: TraceEvent[] }).events;
}

/** the path of a one-packet trace on --host (router unless the args say otherwise) */
async function onePacket(setup: string[], args: string): Promise<HookPath> {
  const iface = /-i (\S+)/.exec(args)?.[1];
  const paths = packetHookPaths(await traced(setup, args), iface);
  expect(paths).toHaveLength(1);
  return paths[0]!;
}

const FORWARDED = 'trace -i eth0 -p tcp -s 50.60.70.1 --sport 40000 -d 50.60.70.80 --dport 8080';
const FROM_LAN = 'trace -i eth1 -p tcp -s 192.168.1.2 --sport 40000 -d 50.60.70.1 --dport 80';
const TO_ROUTER = 'trace -i eth1 -p tcp -s 192.168.1.2 --sport 40000 -d 192.168.1.1 --dport 80';
const FROM_ROUTER = 'trace -p tcp -d 50.60.70.1 --dport 80';

describe('hook paths the packets took', () => {
  it('forwarded after DNAT: in, PREROUTING (nat rewrote), routing, FORWARD, POSTROUTING, out', async () => {
    const p = await onePacket([DNAT], FORWARDED);
    expect(p.nodes).toEqual(['in', 'PREROUTING', 'routing', 'FORWARD', 'POSTROUTING', 'out']);
    expect([p.inIface, p.outIface]).toEqual(['eth0', 'eth1']);
    expect(p.ran.PREROUTING).toEqual(['conntrack', 'nat']);
    expect(p.rewrites).toEqual([{ hook: 'PREROUTING', target: 'DNAT', field: 'destination', before: '50.60.70.80:8080', after: '192.168.1.2:80' }]);
    expect(p.drop).toBeUndefined();
  });

  it('for the host itself: through INPUT to a local process', async () => {
    const p = await onePacket([], TO_ROUTER);
    expect(p.nodes).toEqual(['in', 'PREROUTING', 'routing', 'INPUT', 'local']);
  });

  it('from a local process: output routing, OUTPUT, the reroute check, POSTROUTING, out', async () => {
    const p = await onePacket([], FROM_ROUTER);
    expect(p.nodes).toEqual(['local', 'output-routing', 'OUTPUT', 'reroute', 'POSTROUTING', 'out']);
    expect(p.outIface).toBe('eth0');
  });

  it('to itself: out through lo and in again through PREROUTING and INPUT', async () => {
    const p = await onePacket([], 'trace -p tcp -d 127.0.0.1 --dport 80');
    expect(p.nodes).toEqual(['local', 'output-routing', 'OUTPUT', 'reroute', 'POSTROUTING', 'out', 'in', 'PREROUTING', 'routing', 'INPUT', 'local']);
    expect([p.inIface, p.outIface]).toEqual(['lo', 'lo']);
  });

  it('OUTPUT DNAT to 127.0.0.1: rerouted onto lo, with the nat table of OUTPUT credited', async () => {
    const p = await onePacket(['iptables -t nat -A OUTPUT -p tcp --dport 8080 -j DNAT --to-destination 127.0.0.1:80'], 'trace -p tcp -d 50.60.70.80 --dport 8080');
    expect(p.nodes.slice(-6)).toEqual(['out', 'in', 'PREROUTING', 'routing', 'INPUT', 'local']);
    expect(p.ran.OUTPUT).toEqual(['conntrack', 'nat']);
    expect(p.rewrites.map((r) => r.hook)).toEqual(['OUTPUT']);
  });
});

describe('where a packet dies', () => {
  const cases: [string, string[], string, HookNode, RegExp][] = [
    ['a raw PREROUTING rule', ['iptables -t raw -A PREROUTING -j DROP'], FORWARDED, 'PREROUTING', /raw PREROUTING/],
    ['a filter INPUT rule', ['iptables -A INPUT -j DROP'], TO_ROUTER, 'INPUT', /filter INPUT/],
    ['a FORWARD REJECT', ['iptables -A FORWARD -j REJECT'], FROM_LAN, 'FORWARD', /rejected it/],
    ['the FORWARD policy', ['iptables -P FORWARD DROP'], FROM_LAN, 'FORWARD', /FORWARD policy/],
    ['an OUTPUT rule', ['iptables -A OUTPUT -j DROP'], FROM_ROUTER, 'OUTPUT', /filter OUTPUT/],
    ['a mangle POSTROUTING rule', ['iptables -t mangle -A POSTROUTING -j DROP'], FROM_LAN, 'POSTROUTING', /mangle POSTROUTING/],
    ['the martian check of the input route', [], 'trace -i eth0 -p tcp -s 127.0.0.1 -d 50.60.70.80 --dport 80', 'routing', /martian source/],
    ['forwarding switched off', [], '--host pc1 trace -i eth0 -p tcp -s 192.168.1.3 -d 50.60.70.1 --dport 80', 'routing', /forwarding is off/],
    ['TTL running out', [], `${FROM_LAN} --ttl 1`, 'routing', /TTL expired/],
    ['no route for a local sender', [], '--host internet trace -p tcp -d 192.168.1.2 --dport 80', 'output-routing', /no route/],
    ['the reroute check after OUTPUT DNAT', ['iptables -t nat -A OUTPUT -p tcp --dport 8080 -j DNAT --to-destination 192.168.1.2:80'], 'trace -p tcp -d 127.0.0.1 --dport 8080', 'reroute', /reroute check/],
  ];
  for (const [what, setup, args, at, reason] of cases) {
    it(`${what}: at ${at}`, async () => {
      const p = await onePacket(setup, args);
      expect(p.drop?.at).toBe(at);
      expect(p.drop?.reason).toMatch(reason);
      // the path stops where the packet died
      expect(p.nodes.at(-1)).toBe(at);
    });
  }

  it('no ARP answer for the next hop: after POSTROUTING, on the way out', async () => {
    const events = await traced([], 'trace --from router -p tcp -d 50.60.70.99 --dport 80');
    expect(events.some((e) => e.kind === 'drop' && e.at === 'link')).toBe(true);
    const [p] = connectionHookPaths(events, 'router');
    expect(p!.nodes).toEqual(['local', 'output-routing', 'OUTPUT', 'reroute', 'POSTROUTING', 'out']);
    expect(p!.drop?.at).toBe('out');
  });
});

describe("a connection's paths through one host", () => {
  it('hairpin NAT fixed: request and reply both forwarded by the router, merged per direction', async () => {
    const events = await traced([DNAT, 'iptables -t nat -A POSTROUTING -s 192.168.1.0/24 -o eth1 -p tcp --dport 80 -j MASQUERADE'], 'trace --from pc2 -p tcp -d 50.60.70.80 --dport 8080 --sport 40810');
    const paths = connectionHookPaths(events, 'router');
    expect(paths.map((p) => [p.dir, p.label])).toEqual([
      ['original', '#1 SYN, #3 data'],
      ['reply', '#2 SYN-ACK, #4 data'],
    ]);
    for (const p of paths) expect(p.nodes).toEqual(['in', 'PREROUTING', 'routing', 'FORWARD', 'POSTROUTING', 'out']);
    expect(paths[1]!.rewrites.map((r) => `${r.hook} ${r.target}`)).toEqual(['PREROUTING reverse SNAT', 'POSTROUTING reverse DNAT']);
  });

  it('hairpin NAT broken: only the request passes the router', async () => {
    const events = await traced([DNAT], 'trace --from pc2 -p tcp -d 50.60.70.80 --dport 8080 --sport 40811');
    expect(connectionHookPaths(events, 'router').map((p) => p.dir)).toEqual(['original']);
  });

  it('distinct paths stay apart', () => {
    const mk = (dir: 'original' | 'reply', nodes: HookNode[], label: string): HookPath => ({ host: 'h', dir, label, nodes, ran: {}, rewrites: [], routes: [] });
    const merged = distinctPaths([mk('original', ['in', 'PREROUTING'], '#1'), mk('original', ['in', 'PREROUTING'], '#3'), mk('reply', ['in', 'PREROUTING'], '#2')]);
    expect(merged.map((p) => p.label)).toEqual(['#1, #3', '#2']);
  });
});

describe('hook figure layout', async () => {
  const events = await traced([DNAT, 'iptables -A FORWARD -j REJECT'], 'trace --from internet -p tcp -d 50.60.70.80 --dport 8080 --sport 40812');
  const paths = connectionHookPaths(events, 'router');
  const model = hookDiagramModel('router', paths, { subtitle: 'test' });
  const l = layoutHooks(model, PICTURE);
  const box = (id: HookNode) => l.nodes.find((n) => n.id === id)!.box;
  const onBorder = ([x, y]: [number, number], b: { x: number; y: number; w: number; h: number }) =>
    (Math.abs(x - b.x) < 0.01 || Math.abs(x - (b.x + b.w)) < 0.01 ? y >= b.y - 8 && y <= b.y + b.h + 8 : Math.abs(y - b.y) < 0.01 || Math.abs(y - (b.y + b.h)) < 0.01) && x >= b.x - 8 && x <= b.x + b.w + 8;

  it("every node once, on the seed figure's grid: the forward path on top, INPUT and local process under the routing decision", () => {
    expect(l.nodes.map((n) => n.id).sort()).toEqual(['FORWARD', 'INPUT', 'OUTPUT', 'POSTROUTING', 'PREROUTING', 'in', 'local', 'out', 'output-routing', 'reroute', 'routing'].sort());
    const cy = (id: HookNode) => box(id).y + box(id).h / 2;
    const cx = (id: HookNode) => box(id).x + box(id).w / 2;
    for (const id of ['PREROUTING', 'routing', 'FORWARD', 'POSTROUTING', 'out'] as HookNode[]) expect(cy(id)).toBeCloseTo(cy('in'));
    expect(cx('INPUT')).toBeCloseTo(cx('routing'));
    expect(cx('local')).toBeCloseTo(cx('routing'));
    expect(cx('reroute')).toBeCloseTo(cx('POSTROUTING'));
    expect(cx('OUTPUT')).toBeCloseTo(cx('POSTROUTING'));
    expect(cy('OUTPUT')).toBeGreaterThan(cy('reroute'));
  });

  it("each path arrow joins the boxes of the two nodes it connects, in the packet's order", () => {
    expect(l.paths.map((p) => p.dir)).toEqual(['original', 'reply']);
    for (const [i, p] of l.paths.entries()) {
      expect(p.segments.map((s) => s.from)).toEqual(paths[i]!.nodes.slice(0, -1));
      for (const s of p.segments) {
        expect(onBorder(s.points[0]!, box(s.from))).toBe(true);
        expect(onBorder(s.points.at(-1)!, box(s.to))).toBe(true);
      }
    }
  });

  it('the drop is marked on the node where it happened, and its table chip shows the verdict', () => {
    const drop = l.paths[0]!.drop!;
    expect(drop.at).toBe('FORWARD');
    const b = box('FORWARD');
    expect(drop.x).toBeGreaterThanOrEqual(b.x);
    expect(drop.x).toBeLessThanOrEqual(b.x + b.w);
    const fwd = l.nodes.find((n) => n.id === 'FORWARD')!;
    expect(fwd.dropped).toBe(true);
    expect(fwd.chips.find((c) => c.name === 'filter')!.state).toBe('dropped');
    expect(l.nodes.find((n) => n.id === 'PREROUTING')!.chips.find((c) => c.name === 'nat')!.state).toBe('rewrote');
    expect(l.notes.some((n) => n.lines.some((t) => /DROPPED at FORWARD: rule 1 of filter FORWARD rejected it/.test(t.text)))).toBe(true);
  });

  it('chips stay inside their node', () => {
    for (const n of l.nodes) for (const c of n.chips) {
      expect(c.box.x).toBeGreaterThanOrEqual(n.box.x);
      expect(c.box.x + c.box.w).toBeLessThanOrEqual(n.box.x + n.box.w);
      expect(c.box.y + c.box.h).toBeLessThanOrEqual(n.box.y + n.box.h);
    }
  });

  it('refuses a path that is not made of the figure’s arrows', () => {
    const bad = hookDiagramModel('h', [{ host: 'h', dir: 'original', label: '#1', nodes: ['in', 'INPUT'], ran: {}, rewrites: [], routes: [] }]);
    expect(() => layoutHooks(bad, PICTURE)).toThrow(/in -> INPUT is not an arrow/);
  });

  it('a one-visit path read by hand from events', () => {
    const ev: TraceEvent[] = [
      { kind: 'route', host: 'h', decision: 'input', dst: '10.0.0.1', route: 'local' },
      { kind: 'deliver', host: 'h', socket: 's' },
    ];
    expect(hookPath({ host: 'h', arrivedOn: 'eth9', events: ev }, 'original', '#1').nodes).toEqual(['in', 'PREROUTING', 'routing', 'INPUT', 'local']);
  });
});
