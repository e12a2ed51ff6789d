/**
 * SVG writers for the layouts: they only draw what the layout placed. Every picture is one
 * self-contained SVG: presentation attributes instead of a style sheet (so several can share an
 * HTML page without their styles leaking into each other), the viewer's own monospace font, no
 * external reference of any kind. Colours follow the seed post: requests and replies apart
 * (blue and green here, so that red can mean dropped or rejected).
 */
import type { Label } from './geometry.js';
import type { ChipState, HooksLayout } from './hooks-layout.js';
import type { ArrowStyle, MarkerKind, SequenceLayout } from './sequence-layout.js';
import type { TopologyLayout } from './topology-layout.js';
import type { Direction } from './story.js';

export const COLORS = {
  original: '#1f5fbf',
  reply: '#1e8a3c',
  rejected: '#c62828',
  ink: '#1f2933',
  muted: '#667085',
  lane: '#98a2b3',
  headerFill: '#eef2f7',
  rewriteFill: '#fff4d6',
  rewriteStroke: '#b26a00',
  dropFill: '#fdecea',
  deliverFill: '#e9f6ec',
  noteFill: '#f2f4f7',
  chipRan: '#344054',
  white: '#ffffff',
};

/** second and later paths of one direction in a hook diagram */
const SHADES: Record<Direction, string[]> = {
  original: [COLORS.original, '#6941c6', '#0e7090'],
  reply: [COLORS.reply, '#7a5af8', '#93370d'],
};

const FONT = `'DejaVu Sans Mono', 'Liberation Mono', Menlo, Consolas, monospace`;

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const n = (v: number) => (Math.round(v * 10) / 10).toString();

function text(l: Label, attrs: Record<string, string | number> = {}): string {
  const a = Object.entries(attrs)
    .map(([k, v]) => ` ${k}="${esc(String(v))}"`)
    .join('');
  const anchor = l.anchor === 'start' ? '' : ` text-anchor="${l.anchor}"`;
  return `<text x="${n(l.x)}" y="${n(l.y)}"${anchor}${a}>${esc(l.text)}</text>`;
}

function open(width: number, height: number, title: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${esc(FONT)}" font-size="12" fill="${COLORS.ink}">\n` +
    `<title>${esc(title)}</title>\n<rect x="0" y="0" width="${width}" height="${height}" fill="${COLORS.white}"/>\n`
  );
}

function arrowHead(id: string, color: string): string {
  return `<marker id="${id}" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="11" markerHeight="11" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${color}"/></marker>`;
}

const STYLE_COLOR: Record<ArrowStyle, string> = { original: COLORS.original, reply: COLORS.reply, rejected: COLORS.rejected };

const MARKER_FILL: Record<MarkerKind, [string, string]> = {
  rewrite: [COLORS.rewriteFill, COLORS.rewriteStroke],
  drop: [COLORS.dropFill, COLORS.rejected],
  reject: [COLORS.dropFill, COLORS.rejected],
  deliver: [COLORS.deliverFill, COLORS.reply],
  note: [COLORS.noteFill, COLORS.muted],
};

/** a small drawn symbol: X for drops and rejections, a tick for deliveries, a diamond for rewrites, i for notes */
function icon(kind: MarkerKind, cx: number, cy: number): string {
  const [, stroke] = MARKER_FILL[kind];
  switch (kind) {
    case 'drop':
    case 'reject':
      return `<circle cx="${n(cx)}" cy="${n(cy)}" r="6" fill="${stroke}"/><path d="M${n(cx - 3)},${n(cy - 3)} L${n(cx + 3)},${n(cy + 3)} M${n(cx + 3)},${n(cy - 3)} L${n(cx - 3)},${n(cy + 3)}" stroke="${COLORS.white}" stroke-width="1.8"/>`;
    case 'deliver':
      return `<circle cx="${n(cx)}" cy="${n(cy)}" r="6" fill="${stroke}"/><path d="M${n(cx - 3)},${n(cy)} L${n(cx - 1)},${n(cy + 2.5)} L${n(cx + 3.5)},${n(cy - 2.5)}" stroke="${COLORS.white}" stroke-width="1.8" fill="none"/>`;
    case 'rewrite':
      return `<path d="M${n(cx)},${n(cy - 6)} L${n(cx + 6)},${n(cy)} L${n(cx)},${n(cy + 6)} L${n(cx - 6)},${n(cy)} z" fill="${stroke}"/>`;
    case 'note':
      return `<circle cx="${n(cx)}" cy="${n(cy)}" r="6" fill="${stroke}"/><path d="M${n(cx)},${n(cy - 1)} L${n(cx)},${n(cy + 3.5)}" stroke="${COLORS.white}" stroke-width="1.8"/><circle cx="${n(cx)}" cy="${n(cy - 3.3)}" r="1" fill="${COLORS.white}"/>`;
  }
}

/** The connection as a sequence diagram. `id` keeps marker ids apart when pages hold several pictures. */
export function sequenceSvg(l: SequenceLayout, title: string, id = 'seq'): string {
  let s = open(l.width, l.height, title);
  s += '<defs>' + (['original', 'reply', 'rejected'] as ArrowStyle[]).map((st) => arrowHead(`${id}-head-${st}`, STYLE_COLOR[st])).join('') + '</defs>\n';
  for (const lane of l.lanes) {
    s += `<line x1="${n(lane.x)}" y1="${n(lane.lifeline.y1)}" x2="${n(lane.x)}" y2="${n(lane.lifeline.y2)}" stroke="${COLORS.lane}" stroke-width="1" stroke-dasharray="4 4"/>\n`;
    const b = lane.header;
    s += `<rect x="${n(b.x)}" y="${n(b.y)}" width="${n(b.w)}" height="${n(b.h)}" rx="6" fill="${COLORS.headerFill}" stroke="${COLORS.ink}" stroke-width="1.2"/>\n`;
    lane.headerLines.forEach((t, i) => {
      s += text(t, i === 0 ? { 'font-weight': 'bold', 'font-size': 14 } : { 'font-size': 10, fill: COLORS.muted }) + '\n';
    });
  }
  for (const it of l.items) {
    switch (it.kind) {
      case 'transmission':
        s += `<line x1="${n(it.rule.x1)}" y1="${n(it.rule.y)}" x2="${n(it.rule.x2)}" y2="${n(it.rule.y)}" stroke="#e4e7ec" stroke-width="1"/>\n`;
        s += `<rect x="${n(it.bg.x)}" y="${n(it.bg.y)}" width="${n(it.bg.w)}" height="${n(it.bg.h)}" fill="${COLORS.white}"/>\n`;
        s += text(it.label, { 'font-size': 10, fill: it.dir === 'reply' ? COLORS.reply : COLORS.original, 'font-weight': 'bold' }) + '\n';
        break;
      case 'arrow': {
        const c = STYLE_COLOR[it.style];
        const end = it.x2 > it.x1 ? it.x2 - 2 : it.x2 + 2;
        s += `<line x1="${n(it.x1)}" y1="${n(it.y)}" x2="${n(end)}" y2="${n(it.y)}" stroke="${c}" stroke-width="2"${it.style === 'rejected' ? ' stroke-dasharray="6 3"' : ''} marker-end="url(#${id}-head-${it.style})"/>\n`;
        s += `<circle cx="${n(it.x1)}" cy="${n(it.y)}" r="2.5" fill="${c}"/>\n`;
        s += text(it.label, { fill: c }) + '\n';
        for (const f of it.ifaces) s += text(f, { 'font-size': 10, fill: COLORS.muted }) + '\n';
        break;
      }
      case 'loop': {
        const c = STYLE_COLOR[it.style];
        s += `<path d="M${n(it.x)},${n(it.y)} h${n(it.w)} v${n(it.h)} h${n(-it.w + 2)}" fill="none" stroke="${c}" stroke-width="2" marker-end="url(#${id}-head-${it.style})"/>\n`;
        s += text(it.label, { fill: c }) + '\n';
        break;
      }
      case 'marker': {
        const [fill, stroke] = MARKER_FILL[it.marker];
        const b = it.box;
        s += `<rect x="${n(b.x)}" y="${n(b.y)}" width="${n(b.w)}" height="${n(b.h)}" rx="4" fill="${fill}" stroke="${stroke}" stroke-width="${it.marker === 'drop' || it.marker === 'reject' ? 1.6 : 1}"/>\n`;
        if (it.title) {
          s += icon(it.marker, it.title.x - 10, it.title.y - 4) + '\n';
          s += text(it.title, { 'font-size': 10, 'font-weight': 'bold', fill: stroke }) + '\n';
        }
        it.lines.forEach((t, i) => {
          const attrs: Record<string, string | number> = i >= it.detailFrom ? { 'font-size': 10, fill: COLORS.muted } : it.marker === 'drop' || it.marker === 'reject' ? { fill: COLORS.rejected } : {};
          s += text(t, attrs) + '\n';
        });
        break;
      }
    }
  }
  for (const g of l.legend) {
    const c = g.style === 'rewrite' ? COLORS.rewriteStroke : STYLE_COLOR[g.style];
    if (g.style === 'rewrite') s += `<rect x="${n(g.x)}" y="${n(g.y - 9)}" width="30" height="12" rx="3" fill="${COLORS.rewriteFill}" stroke="${c}"/>`;
    else s += `<line x1="${n(g.x)}" y1="${n(g.y - 3)}" x2="${n(g.x + 28)}" y2="${n(g.y - 3)}" stroke="${c}" stroke-width="2"${g.style === 'rejected' ? ' stroke-dasharray="6 3"' : ''} marker-end="url(#${id}-head-${g.style})"/>`;
    s += text({ text: g.text, x: g.x + 40, y: g.y, anchor: 'start' }, { 'font-size': 10, fill: COLORS.muted }) + '\n';
  }
  if (l.footer) {
    const f = l.footer;
    s += `<rect x="${n(f.box.x)}" y="${n(f.box.y)}" width="${n(f.box.w)}" height="${n(f.box.h)}" rx="6" fill="${f.ok ? COLORS.deliverFill : COLORS.dropFill}" stroke="${f.ok ? COLORS.reply : COLORS.rejected}"/>\n`;
    s += text(f.verdict, { 'font-weight': 'bold', fill: f.ok ? COLORS.reply : COLORS.rejected }) + '\n';
    for (const t of f.lines) s += text(t) + '\n';
  }
  return s + '</svg>\n';
}

const CHIP: Record<ChipState, { fill: string; stroke: string; ink: string; dash?: string }> = {
  ran: { fill: COLORS.chipRan, stroke: COLORS.chipRan, ink: COLORS.white },
  rewrote: { fill: COLORS.rewriteFill, stroke: COLORS.rewriteStroke, ink: COLORS.rewriteStroke },
  dropped: { fill: COLORS.rejected, stroke: COLORS.rejected, ink: COLORS.white },
  idle: { fill: COLORS.white, stroke: COLORS.lane, ink: COLORS.lane, dash: '3 2' },
};

function pathColor(dir: Direction, tone: number): string {
  const list = SHADES[dir];
  return list[tone % list.length]!;
}

/** One host's hooks with the packets' paths drawn over them. */
export function hooksSvg(l: HooksLayout, title: string, id = 'hooks'): string {
  let s = open(l.width, l.height, title);
  const heads = l.paths.map((p) => arrowHead(`${id}-head-${p.index}`, pathColor(p.dir, p.tone)));
  s += `<defs>${arrowHead(`${id}-head-idle`, COLORS.lane)}${heads.join('')}</defs>\n`;
  s += text(l.title, { 'font-size': 15, 'font-weight': 'bold' }) + '\n';
  const pts = (p: [number, number][]) => p.map(([x, y]) => `${n(x)},${n(y)}`).join(' ');
  for (const e of l.edges) {
    s += `<polyline points="${pts(e.points)}" fill="none" stroke="${COLORS.lane}" stroke-width="1.2"${e.from === 'out' ? ' stroke-dasharray="4 3"' : ''} marker-end="url(#${id}-head-idle)"/>\n`;
    if (e.label) s += text(e.label, { 'font-size': 10, fill: COLORS.muted }) + '\n';
  }
  for (const nd of l.nodes) {
    const b = nd.box;
    const used = nd.used.length > 0;
    const stroke = nd.dropped ? COLORS.rejected : used ? (nd.used.length > 1 ? COLORS.ink : nd.used[0] === 'reply' ? COLORS.reply : COLORS.original) : COLORS.lane;
    const rx = nd.kind === 'iface' ? 18 : nd.kind === 'step' ? 20 : 6;
    s += `<rect x="${n(b.x)}" y="${n(b.y)}" width="${n(b.w)}" height="${n(b.h)}" rx="${rx}" fill="${nd.kind === 'hook' ? COLORS.headerFill : COLORS.white}" stroke="${stroke}" stroke-width="${used || nd.dropped ? 2.2 : 1}"/>\n`;
    nd.labels.forEach((t, i) => {
      s += text(t, i === 0 ? { 'font-weight': nd.kind === 'hook' ? 'bold' : 'normal', fill: used ? COLORS.ink : COLORS.muted } : { 'font-size': 10, fill: COLORS.muted }) + '\n';
    });
    for (const c of nd.chips) {
      const st = CHIP[c.state];
      s += `<rect x="${n(c.box.x)}" y="${n(c.box.y)}" width="${n(c.box.w)}" height="${n(c.box.h)}" rx="3" fill="${st.fill}" stroke="${st.stroke}"${st.dash ? ` stroke-dasharray="${st.dash}"` : ''}/>`;
      s += text(c.label, { 'font-size': 10, fill: st.ink }) + '\n';
    }
  }
  for (const p of l.paths) {
    const c = pathColor(p.dir, p.tone);
    const dash = p.tone > 0 ? ' stroke-dasharray="8 4"' : '';
    for (const seg of p.segments) {
      s += `<polyline points="${pts(seg.points)}" fill="none" stroke="${c}" stroke-width="3" stroke-linejoin="round"${dash} marker-end="url(#${id}-head-${p.index})"/>\n`;
    }
    if (p.drop) s += icon('drop', p.drop.x, p.drop.y) + '\n';
  }
  for (const note of l.notes) {
    if (note.swatch && note.path !== undefined) {
      const p = l.paths[note.path]!;
      const c = pathColor(p.dir, p.tone);
      s += `<line x1="${n(note.swatch.x)}" y1="${n(note.swatch.y)}" x2="${n(note.swatch.x + 30)}" y2="${n(note.swatch.y)}" stroke="${c}" stroke-width="3"${p.tone > 0 ? ' stroke-dasharray="8 4"' : ''}/>`;
    }
    note.lines.forEach((t, i) => {
      const attrs: Record<string, string | number> = note.path === undefined ? { 'font-size': 10, fill: COLORS.muted } : i === 0 ? { 'font-weight': 'bold' } : /^\s*DROPPED/.test(t.text) ? { fill: COLORS.rejected } : { fill: COLORS.muted };
      s += text(t, attrs) + '\n';
    });
  }
  return s + '</svg>\n';
}

/** The lab's hosts, interfaces, addresses, segments and default routes. */
export function topologySvg(l: TopologyLayout, title: string): string {
  let s = open(l.width, l.height, title);
  s += text(l.title, { 'font-size': 15, 'font-weight': 'bold' }) + '\n';
  for (const seg of l.segments) {
    s += `<line x1="${n(seg.bar.x1)}" y1="${n(seg.bar.y)}" x2="${n(seg.bar.x2)}" y2="${n(seg.bar.y)}" stroke="${COLORS.ink}" stroke-width="${seg.switch ? 5 : 3}" stroke-linecap="round"/>\n`;
    s += text(seg.label, { 'font-size': 10, fill: COLORS.muted }) + '\n';
    for (const d of seg.drops) {
      s += `<line x1="${n(d.x)}" y1="${n(d.y1)}" x2="${n(d.x)}" y2="${n(d.y2)}" stroke="${COLORS.ink}" stroke-width="1.6"/>\n`;
      s += `<circle cx="${n(d.x)}" cy="${n(seg.bar.y)}" r="3.5" fill="${COLORS.ink}"/>\n`;
      for (const t of d.labels) s += text(t, { 'font-size': 10, fill: COLORS.original }) + '\n';
    }
  }
  for (const h of l.hosts) {
    const b = h.box;
    s += `<rect x="${n(b.x)}" y="${n(b.y)}" width="${n(b.w)}" height="${n(b.h)}" rx="8" fill="${COLORS.headerFill}" stroke="${COLORS.ink}" stroke-width="${h.isDefault ? 2.2 : 1.2}"/>\n`;
    h.lines.forEach((t, i) => {
      s += text(t, i === 0 ? { 'font-weight': 'bold', 'font-size': 14 } : { 'font-size': 11, fill: /^default|^route/.test(t.text) ? COLORS.reply : COLORS.ink }) + '\n';
    });
  }
  return s + '</svg>\n';
}
