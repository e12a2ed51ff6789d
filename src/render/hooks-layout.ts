/**
 * One host's netfilter hooks as the seed post's first figure draws them, with the paths the
 * packets took highlighted. The grid mirrors the kernel's order:
 *
 *   in -> PREROUTING -> routing decision -> FORWARD -> POSTROUTING -> out
 *                             |                            ^
 *                           INPUT                    reroute check
 *                             |                            ^
 *                       local process -> routing ->     OUTPUT
 *
 * and out -> in over the top is the loopback device. `hookDiagramModel` says which nodes,
 * tables and arrows each path used; `layoutHooks` gives them coordinates.
 */
import type { Hook } from '../engine/events.js';
import { chars, wrap, type Box, type Label, type Metrics } from './geometry.js';
import { HOOK_TABLES, HOOKS, hookEdges, isHookEdge, type HookNode, type HookPath } from './hook-path.js';
import type { Direction } from './story.js';

export type ChipState = 'ran' | 'rewrote' | 'dropped' | 'idle';

export interface HookNodeModel {
  id: HookNode;
  kind: 'hook' | 'step' | 'iface';
  title: string;
  /** interface names under in/out */
  sub?: string;
  tables: { name: string; state: ChipState }[];
  /** the directions of the paths through it */
  used: Direction[];
  dropped: boolean;
}

export interface HookDiagramModel {
  host: string;
  nodes: HookNodeModel[];
  paths: HookPath[];
  /** what the picture is of (the trace), after the title */
  subtitle?: string;
  /** a sentence under the paths (e.g. that no reply came this way) */
  remark?: string;
}

const TITLES: Record<HookNode, string> = {
  in: 'in',
  PREROUTING: 'PREROUTING',
  routing: 'routing decision',
  INPUT: 'INPUT',
  local: 'local process',
  FORWARD: 'FORWARD',
  'output-routing': 'routing',
  OUTPUT: 'OUTPUT',
  reroute: 'reroute check',
  POSTROUTING: 'POSTROUTING',
  out: 'out',
};

const GRID: Record<HookNode, [number, number]> = {
  in: [0, 0],
  PREROUTING: [1, 0],
  routing: [2, 0],
  FORWARD: [3, 0],
  POSTROUTING: [4, 0],
  out: [5, 0],
  INPUT: [2, 1],
  reroute: [4, 1],
  local: [2, 2],
  'output-routing': [3, 2],
  OUTPUT: [4, 2],
};

const NODE_ORDER = Object.keys(GRID) as HookNode[];

/** Which nodes, tables and arrows the paths used. */
export function hookDiagramModel(host: string, paths: HookPath[], extra: { subtitle?: string; remark?: string } = {}): HookDiagramModel {
  const nodes: HookNodeModel[] = NODE_ORDER.map((id) => {
    const used = [...new Set(paths.filter((p) => p.nodes.includes(id)).map((p) => p.dir))];
    const dropped = paths.some((p) => p.drop?.at === id);
    const kind = id === 'in' || id === 'out' ? 'iface' : (HOOKS as string[]).includes(id) ? 'hook' : 'step';
    const n: HookNodeModel = { id, kind, title: TITLES[id], tables: [], used, dropped };
    if (kind === 'hook') {
      const hook = id as Hook;
      n.tables = HOOK_TABLES[hook].map((name) => {
        const ran = paths.some((p) => p.ran[hook]?.includes(name));
        const rewrote = name === 'nat' && paths.some((p) => p.rewrites.some((r) => r.hook === hook));
        const droppedHere = dropped && paths.some((p) => p.drop?.at === id && p.ran[hook]?.[p.ran[hook]!.length - 1] === name);
        return { name, state: droppedHere ? 'dropped' : rewrote ? 'rewrote' : ran ? 'ran' : 'idle' };
      });
    }
    if (id === 'in') n.sub = [...new Set(paths.filter((p) => p.nodes.includes('in')).map((p) => p.inIface ?? '?'))].join(' / ') || undefined;
    if (id === 'out') n.sub = [...new Set(paths.filter((p) => p.nodes.includes('out')).map((p) => p.outIface ?? '?'))].join(' / ') || undefined;
    return n;
  });
  return { host, nodes, paths, ...extra };
}

// ------------------------------------------------------------------ geometry

export interface PlacedNode extends HookNodeModel {
  box: Box;
  labels: Label[];
  chips: { name: string; state: ChipState; box: Box; label: Label }[];
}

export interface PlacedPath {
  index: number;
  dir: Direction;
  /** which of the paths in its direction this is (0 = first): the writer varies the dash */
  tone: number;
  label: string;
  /** one polyline per arrow the path used, in order */
  segments: { from: HookNode; to: HookNode; points: [number, number][] }[];
  drop?: { at: HookNode; x: number; y: number };
}

export interface HooksLayout {
  width: number;
  height: number;
  title: Label;
  nodes: PlacedNode[];
  /** every arrow of the figure, used or not */
  edges: { from: HookNode; to: HookNode; points: [number, number][]; label?: Label }[];
  paths: PlacedPath[];
  /** the legend and the notes under the figure: a path's swatch, then what happened on it */
  notes: { path?: number; lines: Label[]; swatch?: { x: number; y: number } }[];
}

const H = {
  margin: 20,
  colGap: 44,
  rowGap: 46,
  hookW: 190,
  stepW: 150,
  ifaceW: 96,
  stepH: 40,
  ifaceH: 40,
  /** room above the top row for the loopback arrow and the title */
  top: 78,
  chipH: 16,
  chipGap: 4,
};

function chipRows(tables: { name: string }[], m: Metrics, inner: number): { name: string; row: number; x: number; w: number }[] {
  const small = (m.smallSize / m.fontSize) * m.charW;
  const out: { name: string; row: number; x: number; w: number }[] = [];
  let row = 0;
  let x = 0;
  for (const t of tables) {
    const w = chars(t.name) * small + 10;
    if (x > 0 && x + w > inner) {
      row++;
      x = 0;
    }
    out.push({ name: t.name, row, x, w });
    x += w + H.chipGap;
  }
  return out;
}

/** Gives the figure's nodes, arrows, paths and notes their coordinates. */
export function layoutHooks(model: HookDiagramModel, m: Metrics): HooksLayout {
  const small = (m.smallSize / m.fontSize) * m.charW;
  const colW = [H.ifaceW, H.hookW, H.hookW, H.hookW, H.hookW, H.ifaceW];
  const colX: number[] = [];
  let cx = H.margin;
  for (const w of colW) {
    colX.push(cx + w / 2);
    cx += w + H.colGap;
  }
  const width0 = cx - H.colGap + H.margin;
  // node sizes
  const size = new Map<HookNode, { w: number; h: number; chips: ReturnType<typeof chipRows> }>();
  for (const n of model.nodes) {
    if (n.kind === 'hook') {
      const chips = chipRows(n.tables, m, H.hookW - 16);
      const rows = chips.length ? chips[chips.length - 1]!.row + 1 : 0;
      size.set(n.id, { w: H.hookW, h: 28 + rows * (H.chipH + H.chipGap) + 6, chips });
    } else if (n.kind === 'iface') {
      size.set(n.id, { w: H.ifaceW, h: H.ifaceH + (n.sub ? 0 : -14), chips: [] });
    } else {
      size.set(n.id, { w: H.stepW, h: H.stepH, chips: [] });
    }
  }
  const rowH = [0, 0, 0];
  for (const n of model.nodes) rowH[GRID[n.id][1]] = Math.max(rowH[GRID[n.id][1]]!, size.get(n.id)!.h);
  const rowY: number[] = [];
  let cy = H.top;
  for (const h of rowH) {
    rowY.push(cy + h / 2);
    cy += h + H.rowGap;
  }
  const figureBottom = cy - H.rowGap;

  const nodes: PlacedNode[] = model.nodes.map((n) => {
    const [c, r] = GRID[n.id];
    const s = size.get(n.id)!;
    const box = { x: colX[c]! - s.w / 2, y: rowY[r]! - s.h / 2, w: s.w, h: s.h };
    const labels: Label[] = [];
    let chips: PlacedNode['chips'] = [];
    if (n.kind === 'hook') {
      labels.push({ text: n.title, x: box.x + box.w / 2, y: box.y + 18, anchor: 'middle' });
      chips = s.chips.map((ch) => {
        const st = n.tables.find((t) => t.name === ch.name)!.state;
        const rowsW = s.chips.filter((o) => o.row === ch.row);
        const used = rowsW[rowsW.length - 1]!.x + rowsW[rowsW.length - 1]!.w;
        const left = box.x + (box.w - used) / 2;
        const cb = { x: left + ch.x, y: box.y + 28 + ch.row * (H.chipH + H.chipGap), w: ch.w, h: H.chipH };
        return { name: ch.name, state: st, box: cb, label: { text: ch.name, x: cb.x + cb.w / 2, y: cb.y + H.chipH - 4, anchor: 'middle' as const } };
      });
    } else if (n.kind === 'iface') {
      labels.push({ text: n.title, x: box.x + box.w / 2, y: box.y + 16, anchor: 'middle' });
      if (n.sub) labels.push({ text: n.sub, x: box.x + box.w / 2, y: box.y + 31, anchor: 'middle' });
    } else {
      labels.push({ text: n.title, x: box.x + box.w / 2, y: box.y + box.h / 2 + 4, anchor: 'middle' });
    }
    return { ...n, box, labels, chips };
  });
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const loopY = H.top - 26;

  const route = (a: HookNode, b: HookNode, d = 0): [number, number][] => {
    const A = byId.get(a)!.box;
    const B = byId.get(b)!.box;
    if (a === 'out' && b === 'in') {
      const ax = A.x + A.w / 2 + d;
      const bx = B.x + B.w / 2 + d;
      return [
        [ax, A.y],
        [ax, loopY + d],
        [bx, loopY + d],
        [bx, B.y],
      ];
    }
    const [ac, ar] = GRID[a];
    const [bc, br] = GRID[b];
    if (ar === br) {
      const y = A.y + A.h / 2 + d;
      return bc > ac ? [[A.x + A.w, y], [B.x, y]] : [[A.x, y], [B.x + B.w, y]];
    }
    if (ac === bc) {
      const x = A.x + A.w / 2 + d;
      return br > ar ? [[x, A.y + A.h], [x, B.y]] : [[x, A.y], [x, B.y + B.h]];
    }
    // not on the grid's lines: an elbow (no arrow of the figure needs one today)
    return [
      [A.x + A.w / 2 + d, A.y + A.h / 2 + d],
      [B.x + B.w / 2 + d, A.y + A.h / 2 + d],
      [B.x + B.w / 2 + d, B.y + B.h / 2 + d],
    ];
  };

  const edges: HooksLayout['edges'] = hookEdges().map(([a, b]) => {
    const e: HooksLayout['edges'][number] = { from: a, to: b, points: route(a, b) };
    if (a === 'out' && b === 'in') e.label = { text: 'loopback (lo)', x: (colX[0]! + colX[5]!) / 2, y: loopY - 6, anchor: 'middle' };
    return e;
  });

  const count = model.paths.length;
  const toneOf: number[] = [];
  const seen: Record<Direction, number> = { original: 0, reply: 0 };
  const paths: PlacedPath[] = model.paths.map((p, i) => {
    toneOf[i] = seen[p.dir]++;
    const d = count > 1 ? (i - (count - 1) / 2) * 5 : 0;
    const segments: PlacedPath['segments'] = [];
    for (let k = 1; k < p.nodes.length; k++) {
      const a = p.nodes[k - 1]!;
      const b = p.nodes[k]!;
      if (!isHookEdge(a, b)) throw new Error(`hook diagram: ${a} -> ${b} is not an arrow of the figure`);
      segments.push({ from: a, to: b, points: route(a, b, d) });
    }
    const placed: PlacedPath = { index: i, dir: p.dir, tone: toneOf[i]!, label: p.label, segments };
    if (p.drop) {
      const b = byId.get(p.drop.at)!.box;
      placed.drop = { at: p.drop.at, x: b.x + b.w - 4, y: b.y + 4 };
    }
    return placed;
  });

  // notes under the figure: per path, what it went through and what happened to it
  const width = width0;
  const cols = Math.floor((width - 2 * H.margin - 40) / m.charW);
  const notes: HooksLayout['notes'] = [];
  let y = figureBottom + 30;
  model.paths.forEach((p, i) => {
    const head = `${p.label} (${p.dir === 'reply' ? 'reply' : 'request'}): ${p.nodes.map((n) => nodeText(n, p)).join(' → ')}`;
    const lines: string[] = wrap(head, cols);
    const detail: string[] = [];
    for (const r of p.rewrites) detail.push(`${r.hook}: ${r.target} ${r.field === 'source' ? 'src' : 'dst'} ${r.before} → ${r.after}`);
    for (const r of p.routes) detail.push(`route ${r}`);
    if (p.drop) detail.push(`DROPPED at ${TITLES[p.drop.at]}: ${p.drop.reason}`);
    for (const d of detail) lines.push(...wrap(d, cols - 2).map((l) => `  ${l}`));
    const labels = lines.map((t, j) => ({ text: t, x: H.margin + 40, y: y + j * m.lineH + 4, anchor: 'start' as const }));
    notes.push({ path: i, lines: labels, swatch: { x: H.margin, y } });
    y += lines.length * m.lineH + 10;
  });
  const remarks = model.paths.length ? (model.remark ? [model.remark] : []) : [`no packet of this trace passed ${model.host}'s hooks`];
  for (const r of remarks) {
    const ls = wrap(r, cols);
    notes.push({ lines: ls.map((t, j) => ({ text: t, x: H.margin, y: y + 4 + j * m.lineH, anchor: 'start' as const })) });
    y += ls.length * m.lineH + 10;
  }
  // the chip legend
  const legend = 'table chips: dark = its base chain ran · amber = NAT rewrote the packet · red = the verdict that dropped it · grey = no base chain there, or not reached';
  const legendLines = wrap(legend, Math.floor((width - 2 * H.margin) / small));
  notes.push({ lines: legendLines.map((t, j) => ({ text: t, x: H.margin, y: y + 6 + j * m.lineH, anchor: 'start' as const })) });
  y += legendLines.length * m.lineH + 10;

  return {
    width: Math.ceil(width),
    height: Math.ceil(y + H.margin),
    title: { text: `${model.host}: netfilter hooks${model.subtitle ? ` · ${model.subtitle}` : ''}`, x: H.margin, y: 26, anchor: 'start' },
    nodes,
    edges,
    paths,
    notes,
  };
}

function nodeText(n: HookNode, p: HookPath): string {
  // a looped-back packet leaves and arrives by lo; the first pass is the real device
  if (n === 'in') return `in ${p.inIface ?? ''}`.trim();
  if (n === 'out') return `out ${p.outIface ?? ''}`.trim();
  return TITLES[n];
}
