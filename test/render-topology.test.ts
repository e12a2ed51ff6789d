/**
 * The lab picture's layout: hosts in layers from the upstream end (no default route) through the
 * segments, each segment a bar the member interfaces drop onto, a switch when it has more than two.
 */
import { describe, expect, it } from 'vitest';
import { builtinLab } from '../src/net/builtin-lab.js';
import type { Lab } from '../src/net/lab.js';
import { overlaps, PICTURE } from '../src/render/geometry.js';
import { hostLines, layoutTopology, topologyLayers } from '../src/render/topology-layout.js';

describe('the built-in lab', () => {
  const lab = builtinLab();
  const l = layoutTopology(lab, PICTURE);
  const host = (n: string) => l.hosts.find((h) => h.name === n)!;

  it('internet on top, the router under it, the PCs under the router', () => {
    expect(Object.fromEntries(topologyLayers(lab))).toEqual({ internet: 0, router: 1, pc1: 2, pc2: 2 });
    expect(host('internet').box.y + host('internet').box.h).toBeLessThan(host('router').box.y);
    expect(host('router').box.y + host('router').box.h).toBeLessThan(host('pc1').box.y);
    expect(host('pc1').box.x + host('pc1').box.w).toBeLessThan(host('pc2').box.x);
  });

  it('lists interfaces with addresses, default routes and forwarding in the host boxes', () => {
    expect(hostLines('router', lab.hosts.router!, true)).toEqual(['router (default host)', 'eth0 50.60.70.80/24', 'eth1 192.168.1.1/24', 'default via 50.60.70.1 dev eth0', 'forwards (ip_forward=1)']);
    // lo shows only when it has more than the loopback network
    expect(hostLines('internet', lab.hosts.internet!, false)).toEqual(['internet', 'lo 203.0.113.10/32', 'wan 50.60.70.1/24']);
    expect(host('router').lines.map((t) => t.text)).toEqual(hostLines('router', lab.hosts.router!, true));
  });

  it('the wan is a link between internet and router, the lan a switch with three drops', () => {
    const wan = l.segments.find((s) => s.name === 'wan')!;
    const lan = l.segments.find((s) => s.name === 'lan')!;
    expect(wan.switch).toBe(false);
    expect(lan.switch).toBe(true);
    expect(lan.drops.map((d) => `${d.host}:${d.iface}`)).toEqual(['router:eth1', 'pc1:eth0', 'pc2:eth0']);
    expect(wan.bar.y).toBeGreaterThan(host('internet').box.y + host('internet').box.h);
    expect(wan.bar.y).toBeLessThan(host('router').box.y);
    for (const s of l.segments) {
      for (const d of s.drops) {
        const b = host(d.host).box;
        // a drop runs from the box edge facing the bar to the bar, inside the box's width
        expect([d.y1, d.y2]).toContain(s.bar.y);
        expect([d.y1, d.y2].some((y) => y === b.y || y === b.y + b.h)).toBe(true);
        expect(d.x).toBeGreaterThan(b.x);
        expect(d.x).toBeLessThan(b.x + b.w);
        expect(d.x).toBeGreaterThan(s.bar.x1);
        expect(d.x).toBeLessThan(s.bar.x2);
      }
    }
    expect(lan.drops.find((d) => d.host === 'pc1')!.labels.map((t) => t.text)).toEqual(['eth0', '192.168.1.2']);
  });

  it('no host boxes overlap, and all of it fits the picture', () => {
    for (const a of l.hosts) for (const b of l.hosts) if (a !== b) expect(overlaps(a.box, b.box)).toBe(false);
    for (const h of l.hosts) {
      expect(h.box.x).toBeGreaterThanOrEqual(0);
      expect(h.box.x + h.box.w).toBeLessThanOrEqual(l.width);
      expect(h.box.y + h.box.h).toBeLessThanOrEqual(l.height);
    }
  });
});

describe('other labs', () => {
  it('a router with two LANs and a host on no segment', () => {
    const base = builtinLab();
    const lab: Lab = {
      ...base,
      name: 'two lans',
      hosts: { ...base.hosts, pc3: { ...base.hosts.pc1!, interfaces: [{ name: 'eth0', addrs: ['10.0.0.2/24'], mac: '02:00:00:00:00:03', up: true }] }, lonely: { ...base.hosts.pc2!, routes: [{ dst: 'default', via: '10.9.9.9', dev: 'eth0' }] } },
      segments: [...base.segments, { name: 'lan2', members: ['router:eth2', 'pc3:eth0'] }],
    };
    const layers = topologyLayers(lab);
    expect(layers.get('pc3')).toBe(2);
    expect(layers.get('lonely')).toBe(3);
    const l = layoutTopology(lab, PICTURE);
    const lan = l.segments.find((s) => s.name === 'lan')!;
    const lan2 = l.segments.find((s) => s.name === 'lan2')!;
    // two segments in the same gap are staggered
    expect(lan.bar.y).not.toBe(lan2.bar.y);
    // router:eth2 has no interface in the lab: the drop is drawn without an address
    expect(lan2.drops.find((d) => d.host === 'router')!.labels.map((t) => t.text)).toEqual(['eth2']);
  });
});
