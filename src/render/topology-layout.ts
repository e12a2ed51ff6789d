/**
 * The lab as a network picture, like the seed post's home network: hosts as boxes listing their
 * interfaces, addresses, default routes and whether they forward; each segment (a veth pair or a
 * switch) as a bar the member interfaces drop onto. Hosts are placed in layers from the ones with
 * no default route (the upstream end, the internet in the built-in lab) down through the segments,
 * so a router sits between its uplink and its LAN.
 */
import type { Host, Lab } from '../net/lab.js';
import { chars, type Box, type Label, type Metrics } from './geometry.js';

export interface TopologyHost {
  name: string;
  isDefault: boolean;
  layer: number;
  box: Box;
  lines: Label[];
}

export interface TopologyDrop {
  host: string;
  iface: string;
  x: number;
  y1: number;
  y2: number;
  labels: Label[];
}

export interface TopologySegment {
  name: string;
  /** three or more members: a switch */
  switch: boolean;
  bar: { x1: number; x2: number; y: number };
  label: Label;
  drops: TopologyDrop[];
}

export interface TopologyLayout {
  width: number;
  height: number;
  title: Label;
  hosts: TopologyHost[];
  segments: TopologySegment[];
}

const G = { margin: 24, top: 56, pad: 10, hostGap: 60, rowGap: 110, barInset: 30 };

/** the lines a host box shows */
export function hostLines(name: string, h: Host, isDefault: boolean): string[] {
  const lines = [isDefault ? `${name} (default host)` : name];
  for (const i of h.interfaces) {
    const addrs = i.name === 'lo' ? i.addrs.filter((a) => !a.startsWith('127.')) : i.addrs;
    if (i.name === 'lo' && !addrs.length) continue;
    lines.push(`${i.name} ${addrs.join(', ') || '(no address)'}${i.up ? '' : ' (down)'}`);
  }
  // the main table's routes: those of other tables (`ip route ... table N`) steer no packet here
  for (const r of h.routes.filter((x) => typeof x.table !== 'number')) {
    if (r.dst === 'default') lines.push(`default via ${r.via ?? '-'} dev ${r.dev}`);
    else if (r.via || r.type) lines.push(`route ${r.type && r.type !== 'unicast' ? `${r.type} ` : ''}${r.dst}${r.via ? ` via ${r.via}` : ''} dev ${r.dev}`);
  }
  if (h.sysctls['net.ipv4.ip_forward'] === '1') lines.push('forwards (ip_forward=1)');
  return lines;
}

function memberOf(m: string): [string, string] {
  const i = m.indexOf(':');
  return [m.slice(0, i), m.slice(i + 1)];
}

/** Host layers: 0 for hosts without a default route, then one more per segment crossed. */
export function topologyLayers(lab: Lab): Map<string, number> {
  const names = Object.keys(lab.hosts);
  const layer = new Map<string, number>();
  const roots = names.filter((n) => !lab.hosts[n]!.routes.some((r) => r.dst === 'default' && typeof r.table !== 'number'));
  const queue = roots.length ? [...roots] : names.slice(0, 1);
  for (const r of queue) layer.set(r, 0);
  const visit = () => {
    while (queue.length) {
      const h = queue.shift()!;
      const l = layer.get(h)!;
      for (const seg of lab.segments) {
        const members = seg.members.map(memberOf);
        if (!members.some(([mh]) => mh === h)) continue;
        for (const [mh] of members) {
          if (layer.has(mh) || !lab.hosts[mh]) continue;
          layer.set(mh, l + 1);
          queue.push(mh);
        }
      }
    }
  };
  visit();
  // hosts no segment reaches: a layer of their own below the rest
  for (const n of names) {
    if (layer.has(n)) continue;
    const next = Math.max(0, ...layer.values()) + 1;
    layer.set(n, next);
    queue.push(n);
    visit();
  }
  return layer;
}

export function layoutTopology(lab: Lab, m: Metrics): TopologyLayout {
  const small = (m.smallSize / m.fontSize) * m.charW;
  const layer = topologyLayers(lab);
  const names = Object.keys(lab.hosts);
  const depth = Math.max(0, ...layer.values()) + 1;
  const rows: string[][] = Array.from({ length: depth }, () => []);
  for (const nm of names) rows[layer.get(nm)!]!.push(nm);
  const neighbours = (h: string) => lab.segments.filter((s) => s.members.some((x) => memberOf(x)[0] === h)).flatMap((s) => s.members.map((x) => memberOf(x)[0])).filter((x) => x !== h);

  const lines = new Map(names.map((nm) => [nm, hostLines(nm, lab.hosts[nm]!, nm === lab.defaultHost)]));
  const sizeOf = (nm: string) => {
    const ls = lines.get(nm)!;
    const w = Math.max(chars(ls[0]!) * m.charW * 1.2, ...ls.slice(1).map((s) => chars(s) * (11 / m.fontSize) * m.charW)) + 2 * G.pad;
    return { w: Math.max(w, 120), h: ls.length * m.lineH + 2 * G.pad };
  };
  // order each layer by where its neighbours above sit, then place the rows side by side, centred
  const xOf = new Map<string, number>();
  const rowWidth = (row: string[]) => row.reduce((a, nm) => a + sizeOf(nm).w, 0) + G.hostGap * Math.max(0, row.length - 1);
  const widest = Math.max(...rows.map(rowWidth), 200);
  const width = widest + 2 * G.margin;
  rows.forEach((row, li) => {
    if (li > 0) {
      const bary = (nm: string) => {
        const xs = neighbours(nm).filter((o) => (layer.get(o) ?? 0) < li && xOf.has(o)).map((o) => xOf.get(o)!);
        return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.MAX_SAFE_INTEGER;
      };
      row.sort((a, b) => bary(a) - bary(b) || names.indexOf(a) - names.indexOf(b));
    }
    let x = G.margin + (widest - rowWidth(row)) / 2;
    for (const nm of row) {
      const w = sizeOf(nm).w;
      xOf.set(nm, x + w / 2);
      x += w + G.hostGap;
    }
  });
  const rowH = rows.map((row) => Math.max(0, ...row.map((nm) => sizeOf(nm).h)));
  // segments sit in the gap under the upper end of their members; several in one gap are staggered
  const segLayer = lab.segments.map((s) => Math.min(...s.members.map((x) => layer.get(memberOf(x)[0]) ?? 0)));
  const perGap = rowH.map((_, li) => segLayer.filter((l) => l === li).length);
  const rowY: number[] = [];
  let y = G.top;
  rowH.forEach((h, li) => {
    rowY.push(y);
    y += h + G.rowGap + Math.max(0, perGap[li]! - 1) * 24;
  });
  const hosts: TopologyHost[] = names.map((nm) => {
    const { w, h } = sizeOf(nm);
    const li = layer.get(nm)!;
    const box = { x: xOf.get(nm)! - w / 2, y: rowY[li]! + (rowH[li]! - h) / 2, w, h };
    const ls = lines.get(nm)!.map((t, i) => ({ text: t, x: box.x + G.pad, y: box.y + G.pad + m.lineH * (i + 1) - 4, anchor: 'start' as const }));
    return { name: nm, isDefault: nm === lab.defaultHost, layer: li, box, lines: ls };
  });
  const hostBox = new Map(hosts.map((h) => [h.name, h.box]));
  // attachment points: a host's interfaces on one side spread over its width
  const sideCount = new Map<string, number>();
  const sideIndex = new Map<string, number>();
  const gapIndex = new Map<number, number>();
  const segPlans = lab.segments.map((s, si) => {
    const li = segLayer[si]!;
    const k = gapIndex.get(li) ?? 0;
    gapIndex.set(li, k + 1);
    const barY = rowY[li]! + rowH[li]! + G.rowGap / 2 + k * 24;
    for (const mem of s.members) {
      const [h] = memberOf(mem);
      const below = (layer.get(h) ?? 0) > li;
      const key = `${h}:${below ? 'top' : 'bottom'}`;
      sideCount.set(key, (sideCount.get(key) ?? 0) + 1);
    }
    return { s, barY };
  });
  const segments: TopologySegment[] = segPlans.map(({ s, barY }) => {
    const drops: TopologyDrop[] = [];
    for (const mem of s.members) {
      const [h, iface] = memberOf(mem);
      const b = hostBox.get(h);
      if (!b) continue;
      const above = b.y + b.h <= barY;
      const key = `${h}:${above ? 'bottom' : 'top'}`;
      const i = sideIndex.get(key) ?? 0;
      sideIndex.set(key, i + 1);
      const total = sideCount.get(key) ?? 1;
      const x = b.x + (b.w * (i + 1)) / (total + 1);
      const y1 = above ? b.y + b.h : barY;
      const y2 = above ? barY : b.y;
      const addr = lab.hosts[h]?.interfaces.find((f) => f.name === iface)?.addrs[0];
      const labels: Label[] = [{ text: iface, x: x + 6, y: above ? y1 + 14 : y2 - 18, anchor: 'start' }];
      if (addr) labels.push({ text: addr.replace(/\/\d+$/, ''), x: x + 6, y: above ? y1 + 26 : y2 - 6, anchor: 'start' });
      drops.push({ host: h, iface, x, y1, y2, labels });
    }
    const xs = drops.map((d) => d.x);
    const x1 = Math.min(...xs) - G.barInset;
    const x2 = Math.max(...xs) + G.barInset;
    const sw = s.members.length > 2;
    const text = sw ? `${s.name} (switch)` : s.name;
    return { name: s.name, switch: sw, bar: { x1, x2, y: barY }, label: { text, x: x2 + 8, y: barY + 4, anchor: 'start' }, drops };
  });
  let right = width;
  for (const s of segments) right = Math.max(right, s.label.x + chars(s.label.text) * small + G.margin);
  for (const s of segments) for (const d of s.drops) for (const l of d.labels) right = Math.max(right, l.x + chars(l.text) * small + G.margin);
  const bottom = Math.max(...hosts.map((h) => h.box.y + h.box.h), ...segments.map((s) => s.bar.y)) + G.margin;
  return { width: Math.ceil(right), height: Math.ceil(bottom), title: { text: `lab: ${lab.name}`, x: G.margin, y: 30, anchor: 'start' }, hosts, segments };
}
