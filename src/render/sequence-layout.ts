/**
 * The connection as a sequence diagram: one lane per host (in the order the hosts appear in the
 * trace), time going down. Every wire crossing is an arrow labelled with the packet and its
 * addresses as they were on the wire; NAT rewrites are boxes on the lane of the host that did them,
 * between the arrow that brought the packet and the one that took it on; drops, rejections and
 * deliveries end a transmission. Requests (conntrack's original direction) and replies are styled
 * apart, as the seed post colours them.
 *
 * Two steps: `sequenceModel` reads the events into lanes and rows (no geometry), and
 * `layoutSequence` gives every lane, arrow, label and box its coordinates for a set of metrics
 * (pixels for the SVG writer, character cells for the terminal writer). Writers only draw.
 */
import type { TraceEvent } from '../engine/events.js';
import { chars, wrap, type Box, type Label, type Metrics } from './geometry.js';
import { addressesText, readConnection, type Direction } from './story.js';

export type ArrowStyle = 'original' | 'reply' | 'rejected';
export type MarkerKind = 'rewrite' | 'drop' | 'deliver' | 'reject' | 'note';

export type Row =
  | { kind: 'transmission'; n: number; dir: Direction; what: string; sender: string }
  | { kind: 'arrow'; n: number; from: number; to: number; style: ArrowStyle; label: string; fromIface: string; toIface: string }
  | { kind: 'loop'; n: number; lane: number; style: ArrowStyle; label: string }
  | { kind: 'marker'; n: number; lane: number; marker: MarkerKind; dir: Direction; title: string; text: string; /** small print under the text (pictures only): the rule behind a rewrite */ detail?: string };

export interface SequenceModel {
  lanes: { host: string; lines: string[] }[];
  rows: Row[];
  verdict?: { verdict: string; explanation: string; ok: boolean };
}

export interface SequenceOptions {
  /** extra lines under each host's name (its addresses) */
  hostLines?: Record<string, string[]>;
  verdict?: string;
  explanation?: string;
}

/** Reads the events into lanes and rows. */
export function sequenceModel(events: TraceEvent[], opts: SequenceOptions = {}): SequenceModel {
  const story = readConnection(events);
  const lane = (h: string) => story.hosts.indexOf(h);
  const rows: Row[] = [];
  for (const t of story.transmissions) {
    rows.push({ kind: 'transmission', n: t.n, dir: t.dir, what: t.what, sender: t.sender });
    const style: ArrowStyle = t.dir === 'reply' ? 'reply' : 'original';
    const lastCross = t.steps.reduce((a, s, i) => (s.kind === 'cross' || s.kind === 'loopback' ? i : a), -1);
    t.steps.forEach((s, i) => {
      const st: ArrowStyle = t.end === 'rejected' && i === lastCross ? 'rejected' : style;
      switch (s.kind) {
        case 'cross':
          rows.push({ kind: 'arrow', n: t.n, from: lane(s.from), to: lane(s.to), style: st, label: `${t.what} ${addressesText(s.header)}`, fromIface: s.iface, toIface: s.peerIface });
          break;
        case 'loopback':
          rows.push({ kind: 'loop', n: t.n, lane: lane(s.host), style: st, label: `${t.what} ${addressesText(s.header)} via lo` });
          break;
        case 'rewrite':
          rows.push({
            kind: 'marker',
            n: t.n,
            lane: lane(s.host),
            marker: 'rewrite',
            dir: t.dir,
            title: `${s.target} in ${s.table}:${s.chain}`,
            text: `${s.field === 'source' ? 'src' : 'dst'} ${s.before} → ${s.after}`,
            ...(s.rule ? { detail: s.rule } : {}),
          });
          break;
        case 'drop':
          rows.push({ kind: 'marker', n: t.n, lane: lane(s.host), marker: 'drop', dir: t.dir, title: `${t.what} dropped by ${s.host}`, text: s.reason });
          break;
        case 'deliver':
          rows.push({ kind: 'marker', n: t.n, lane: lane(s.host), marker: 'deliver', dir: t.dir, title: `delivered on ${s.host}`, text: s.socket });
          break;
        case 'reject':
          rows.push({ kind: 'marker', n: t.n, lane: lane(s.host), marker: 'reject', dir: t.dir, title: `rejected by ${s.host}`, text: s.text });
          break;
        case 'note':
          rows.push({ kind: 'marker', n: t.n, lane: lane(s.host), marker: 'note', dir: t.dir, title: s.host, text: s.text });
          break;
      }
    });
  }
  const model: SequenceModel = { lanes: story.hosts.map((host) => ({ host, lines: opts.hostLines?.[host] ?? [] })), rows };
  if (opts.verdict) model.verdict = { verdict: opts.verdict, explanation: opts.explanation ?? '', ok: opts.verdict === 'established' };
  return model;
}

// ------------------------------------------------------------------ geometry

export interface LaneLayout {
  host: string;
  index: number;
  /** the lifeline's x */
  x: number;
  header: Box;
  headerLines: Label[];
  lifeline: { y1: number; y2: number };
}

export type Placed =
  | { kind: 'transmission'; n: number; dir: Direction; label: Label; bg: Box; rule: { x1: number; x2: number; y: number } }
  | { kind: 'arrow'; n: number; from: number; to: number; style: ArrowStyle; x1: number; x2: number; y: number; label: Label; ifaces: Label[] }
  | { kind: 'loop'; n: number; lane: number; style: ArrowStyle; x: number; y: number; w: number; h: number; label: Label }
  | { kind: 'marker'; n: number; lane: number; marker: MarkerKind; dir: Direction; x: number; y: number; box: Box; title?: Label; lines: Label[]; /** lines from this index on are small print */ detailFrom: number };

export interface SequenceLayout {
  metrics: Metrics;
  width: number;
  height: number;
  lanes: LaneLayout[];
  items: Placed[];
  legend: { style: ArrowStyle | 'rewrite'; text: string; x: number; y: number }[];
  footer?: { box: Box; verdict: Label; lines: Label[]; ok: boolean };
}

/** picture constants, in pixels */
const P = {
  margin: 20,
  minGap: 170,
  /** characters per line in a marker box */
  wrapCols: 48,
  pad: 8,
  arrowRow: 46,
  loopRow: 50,
  txRow: 26,
};

/** room for the marker's symbol before its title */
const ICON = 16;

/** terminal constants, in cells */
const T = {
  minGap: 14,
  /** the terminal width marker text wraps to */
  cols: 100,
};

function markerLines(r: Extract<Row, { kind: 'marker' }>, cols: number): string[] {
  return wrap(r.text, cols);
}

/** the small print is smaller: more characters fit the same width */
function detailLines(r: Extract<Row, { kind: 'marker' }>, cols: number): string[] {
  return r.detail ? wrap(r.detail, cols) : [];
}

/** Gives every lane, row, label and box its coordinates. */
export function layoutSequence(model: SequenceModel, m: Metrics): SequenceLayout {
  return m.mode === 'terminal' ? layoutTerminal(model, m) : layoutPicture(model, m);
}

function layoutPicture(model: SequenceModel, m: Metrics): SequenceLayout {
  const n = model.lanes.length;
  const cw = m.charW;
  const small = (m.smallSize / m.fontSize) * cw;
  // half-widths of what is centred on each lane: the header, the marker boxes
  const headerW = model.lanes.map((l) => Math.max(chars(l.host) * cw * 1.15, ...l.lines.map((s) => chars(s) * small)) + 2 * P.pad + 8);
  const half = headerW.map((w) => w / 2);
  const detailCols = Math.floor((P.wrapCols * cw) / small);
  const markerW = (r: Extract<Row, { kind: 'marker' }>) =>
    Math.max(chars(r.title) * small + ICON, ...markerLines(r, P.wrapCols).map((s) => chars(s) * cw), ...detailLines(r, detailCols).map((s) => chars(s) * small)) + 2 * P.pad;
  for (const r of model.rows) if (r.kind === 'marker') half[r.lane] = Math.max(half[r.lane]!, markerW(r) / 2);
  for (const r of model.rows) if (r.kind === 'loop') half[r.lane] = Math.max(half[r.lane]!, 50 + chars(r.label) * cw);
  // lane positions: each lane far enough from the one before, and every arrow label fits between its lanes
  const x: number[] = [];
  for (let i = 0; i < n; i++) {
    let xi = i === 0 ? P.margin + half[0]! : x[i - 1]! + Math.max(P.minGap, headerW[i - 1]! / 2 + headerW[i]! / 2 + 24);
    for (const r of model.rows) {
      if (r.kind !== 'arrow') continue;
      const lo = Math.min(r.from, r.to);
      const hi = Math.max(r.from, r.to);
      if (hi === i && lo < i) xi = Math.max(xi, x[lo]! + chars(r.label) * cw + 36);
    }
    if (i > 0) xi = Math.max(xi, P.margin + half[i]!);
    x.push(xi);
  }
  let width = 0;
  for (let i = 0; i < n; i++) width = Math.max(width, x[i]! + half[i]! + P.margin);
  // the transmission titles sit at the left margin
  for (const r of model.rows) if (r.kind === 'transmission') width = Math.max(width, P.margin + chars(txTitle(r)) * small + P.margin);

  const headerH = (1 + Math.max(0, ...model.lanes.map((l) => l.lines.length))) * m.lineH + 2 * P.pad;
  const top = P.margin;
  const lanes: LaneLayout[] = model.lanes.map((l, i) => {
    const box = { x: x[i]! - headerW[i]! / 2, y: top, w: headerW[i]!, h: headerH };
    const headerLines: Label[] = [{ text: l.host, x: x[i]!, y: top + P.pad + m.lineH - 3, anchor: 'middle' }];
    l.lines.forEach((s, j) => headerLines.push({ text: s, x: x[i]!, y: top + P.pad + m.lineH * (j + 2) - 4, anchor: 'middle' }));
    return { host: l.host, index: i, x: x[i]!, header: box, headerLines, lifeline: { y1: top + headerH, y2: 0 } };
  });

  const items: Placed[] = [];
  let y = top + headerH + 12;
  for (const r of model.rows) {
    switch (r.kind) {
      case 'transmission': {
        const label: Label = { text: txTitle(r), x: P.margin, y: y + 16, anchor: 'start' };
        const bg = { x: P.margin - 4, y: y + 5, w: chars(label.text) * small + 8, h: 15 };
        items.push({ kind: 'transmission', n: r.n, dir: r.dir, label, bg, rule: { x1: P.margin, x2: width - P.margin, y: y + 4 } });
        y += P.txRow;
        break;
      }
      case 'arrow': {
        const x1 = x[r.from]!;
        const x2 = x[r.to]!;
        const ly = y + 28;
        const dirSign = x2 >= x1 ? 1 : -1;
        items.push({
          kind: 'arrow',
          n: r.n,
          from: r.from,
          to: r.to,
          style: r.style,
          x1,
          x2,
          y: ly,
          label: { text: r.label, x: (x1 + x2) / 2, y: ly - 7, anchor: 'middle' },
          ifaces: [
            { text: r.fromIface, x: x1 + dirSign * 6, y: ly + 14, anchor: dirSign > 0 ? 'start' : 'end' },
            { text: r.toIface, x: x2 - dirSign * 10, y: ly + 14, anchor: dirSign > 0 ? 'end' : 'start' },
          ],
        });
        y += P.arrowRow;
        break;
      }
      case 'loop': {
        const lx = x[r.lane]!;
        items.push({ kind: 'loop', n: r.n, lane: r.lane, style: r.style, x: lx, y: y + 10, w: 36, h: 26, label: { text: r.label, x: lx + 46, y: y + 28, anchor: 'start' } });
        y += P.loopRow;
        break;
      }
      case 'marker': {
        const lines = markerLines(r, P.wrapCols);
        const detail = detailLines(r, detailCols);
        const smallH = m.lineH - 3;
        const w = markerW(r);
        const h = (lines.length + 1) * m.lineH + detail.length * smallH + P.pad * 1.5;
        const box = { x: x[r.lane]! - w / 2, y: y + 4, w, h };
        const title: Label = { text: r.title, x: box.x + P.pad + ICON, y: box.y + m.lineH - 2, anchor: 'start' };
        const ls = lines.map((t, j) => ({ text: t, x: box.x + P.pad, y: box.y + m.lineH * (j + 2) - 2, anchor: 'start' as const }));
        const base = box.y + m.lineH * (lines.length + 1) - 2;
        detail.forEach((t, j) => ls.push({ text: t, x: box.x + P.pad, y: base + smallH * (j + 1), anchor: 'start' }));
        items.push({ kind: 'marker', n: r.n, lane: r.lane, marker: r.marker, dir: r.dir, x: x[r.lane]!, y: box.y + h / 2, box, title, lines: ls, detailFrom: lines.length });
        y += h + 12;
        break;
      }
    }
  }
  y += 8;
  for (const l of lanes) l.lifeline.y2 = y;

  // legend
  const legend: SequenceLayout['legend'] = [];
  let lx = P.margin;
  const ly = y + 22;
  for (const [style, text] of [
    ['original', 'request (original direction)'],
    ['reply', 'reply'],
    ['rewrite', 'NAT rewrite'],
    ['rejected', 'dropped / rejected'],
  ] as const) {
    legend.push({ style, text, x: lx, y: ly });
    lx += 40 + chars(text) * small + 24;
  }
  width = Math.max(width, lx + P.margin);
  y = ly + 16;

  let footer: SequenceLayout['footer'];
  if (model.verdict) {
    const cols = Math.max(40, Math.floor((width - 2 * P.margin - 2 * P.pad) / cw));
    const lines = wrap(model.verdict.explanation, cols);
    const box = { x: P.margin, y: y + 4, w: width - 2 * P.margin, h: (lines.length + 1) * m.lineH + 2 * P.pad };
    footer = {
      box,
      ok: model.verdict.ok,
      verdict: { text: `verdict: ${model.verdict.verdict}`, x: box.x + P.pad, y: box.y + P.pad + m.lineH - 3, anchor: 'start' },
      lines: lines.map((t, j) => ({ text: t, x: box.x + P.pad, y: box.y + P.pad + m.lineH * (j + 2) - 3, anchor: 'start' as const })),
    };
    y = box.y + box.h;
  }
  return { metrics: m, width: Math.ceil(width), height: Math.ceil(y + P.margin), lanes, items, legend, footer };
}

function txTitle(r: Extract<Row, { kind: 'transmission' }>): string {
  return `#${r.n + 1} ${r.what} from ${r.sender} (${r.dir === 'reply' ? 'reply' : 'request'})`;
}

/**
 * The terminal's compact form: lanes a few cells apart, an arrow's label on the row above it
 * starting just right of its left end, markers as a symbol on the lane with their text after it.
 * No transmission titles, legend or footer (the event list above says it all).
 */
function layoutTerminal(model: SequenceModel, m: Metrics): SequenceLayout {
  const n = model.lanes.length;
  const gap = Math.max(T.minGap, ...model.lanes.map((l) => chars(l.host) + 4));
  const first = Math.ceil(chars(model.lanes[0]?.host ?? '') / 2);
  const x = model.lanes.map((_, i) => first + i * gap);
  let width = n ? x[n - 1]! + Math.ceil(chars(model.lanes[n - 1]!.host) / 2) + 1 : 0;
  const lanes: LaneLayout[] = model.lanes.map((l, i) => {
    const w = chars(l.host);
    const start = x[i]! - Math.floor(w / 2);
    return { host: l.host, index: i, x: x[i]!, header: { x: start, y: 0, w, h: 1 }, headerLines: [{ text: l.host, x: start, y: 0, anchor: 'start' }], lifeline: { y1: 1, y2: 1 } };
  });
  const items: Placed[] = [];
  let y = 1;
  for (const r of model.rows) {
    switch (r.kind) {
      case 'transmission':
        break;
      case 'arrow': {
        const x1 = x[r.from]!;
        const x2 = x[r.to]!;
        const label: Label = { text: r.label, x: Math.min(x1, x2) + 2, y, anchor: 'start' };
        width = Math.max(width, label.x + chars(r.label));
        items.push({ kind: 'arrow', n: r.n, from: r.from, to: r.to, style: r.style, x1, x2, y: y + 1, label, ifaces: [] });
        y += 2;
        break;
      }
      case 'loop': {
        const label: Label = { text: r.label, x: x[r.lane]! + 2, y, anchor: 'start' };
        width = Math.max(width, label.x + chars(r.label));
        items.push({ kind: 'loop', n: r.n, lane: r.lane, style: r.style, x: x[r.lane]!, y, w: 1, h: 1, label });
        y += 1;
        break;
      }
      case 'marker': {
        const lx = x[r.lane]! + 2;
        // the packet's name before a drop: a drop may come before any arrow of its transmission
        const lead = r.marker === 'rewrite' ? `${r.title}: ` : r.marker === 'drop' ? `${r.title.replace(/ by \S+$/, '')}: ` : '';
        const lines = wrap(`${lead}${r.text}`, Math.max(30, T.cols - lx));
        const ls = lines.map((t, j) => ({ text: t, x: lx, y: y + j, anchor: 'start' as const }));
        for (const l of ls) width = Math.max(width, l.x + chars(l.text));
        items.push({ kind: 'marker', n: r.n, lane: r.lane, marker: r.marker, dir: r.dir, x: x[r.lane]!, y, box: { x: lx, y, w: Math.max(...lines.map(chars)), h: lines.length }, lines: ls, detailFrom: ls.length });
        y += lines.length;
        break;
      }
    }
  }
  for (const l of lanes) l.lifeline.y2 = y;
  return { metrics: m, width, height: y, lanes, items, legend: [] };
}
