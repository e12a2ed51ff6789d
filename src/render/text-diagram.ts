/**
 * The terminal writer: paints a sequence layout computed with TERMINAL metrics onto a grid of
 * character cells with box-drawing characters, then prints it row by row (colour only when the
 * terminal wants it).
 */
import type { ChalkInstance } from 'chalk';
import { chars } from './geometry.js';
import type { ArrowStyle, MarkerKind, SequenceLayout } from './sequence-layout.js';

type Ink = 'plain' | 'lane' | 'host' | ArrowStyle | MarkerKind;

const MARK: Record<MarkerKind, string> = { rewrite: '◆', drop: '✗', deliver: '●', reject: '✗', note: '·' };

class Grid {
  readonly cells: { ch: string; ink: Ink }[][];
  constructor(
    readonly w: number,
    readonly h: number,
  ) {
    this.cells = Array.from({ length: h }, () => Array.from({ length: w }, () => ({ ch: ' ', ink: 'plain' as Ink })));
  }
  put(x: number, y: number, ch: string, ink: Ink): void {
    const row = this.cells[y];
    if (!row || x < 0) return;
    while (row.length <= x) row.push({ ch: ' ', ink: 'plain' });
    row[x] = { ch, ink };
  }
  get(x: number, y: number): string {
    return this.cells[y]?.[x]?.ch ?? ' ';
  }
  text(x: number, y: number, s: string, ink: Ink): void {
    [...s].forEach((c, i) => this.put(x + i, y, c, ink));
  }
}

export function renderTextDiagram(layout: SequenceLayout, color: ChalkInstance): string {
  const g = new Grid(layout.width + 1, layout.height);
  for (const l of layout.lanes) {
    g.text(l.headerLines[0]!.x, 0, l.host, 'host');
    for (let y = l.lifeline.y1; y < l.lifeline.y2; y++) g.put(l.x, y, '│', 'lane');
  }
  const laneXs = new Set(layout.lanes.map((l) => l.x));
  for (const it of layout.items) {
    switch (it.kind) {
      case 'arrow': {
        const right = it.x2 > it.x1;
        const [a, b] = right ? [it.x1, it.x2] : [it.x2, it.x1];
        for (let x = a + 1; x < b; x++) g.put(x, it.y, laneXs.has(x) ? '┼' : '─', it.style);
        g.put(it.x1, it.y, right ? '├' : '┤', it.style);
        g.put(right ? it.x2 - 1 : it.x2 + 1, it.y, right ? '▶' : '◀', it.style);
        // the label hides the lifelines it runs over, with a blank cell either side
        g.put(it.label.x - 1, it.label.y, ' ', 'plain');
        g.text(it.label.x, it.label.y, it.label.text, it.style);
        g.put(it.label.x + chars(it.label.text), it.label.y, ' ', 'plain');
        break;
      }
      case 'loop':
        g.put(it.x, it.y, '↻', it.style);
        g.put(it.label.x - 1, it.label.y, ' ', 'plain');
        g.text(it.label.x, it.label.y, it.label.text, it.style);
        break;
      case 'marker':
        g.put(it.x, it.y, MARK[it.marker], it.marker);
        for (const l of it.lines) {
          g.put(l.x - 1, l.y, ' ', 'plain');
          g.text(l.x, l.y, l.text, it.marker === 'note' ? 'plain' : it.marker);
          g.put(l.x + chars(l.text), l.y, ' ', 'plain');
        }
        break;
      case 'transmission':
        break;
    }
  }
  const paint = (ink: Ink, s: string): string => {
    switch (ink) {
      case 'lane':
        return color.gray(s);
      case 'host':
        return color.bold(s);
      case 'original':
        return color.blue(s);
      case 'reply':
      case 'deliver':
        return color.green(s);
      case 'rejected':
      case 'drop':
      case 'reject':
        return color.red(s);
      case 'rewrite':
        return color.yellow(s);
      default:
        return s;
    }
  };
  const lines = g.cells.map((row) => {
    let end = row.length;
    while (end > 0 && row[end - 1]!.ch === ' ') end--;
    let out = '';
    let run = '';
    let ink: Ink = 'plain';
    for (let i = 0; i < end; i++) {
      const c = row[i]!;
      if (c.ink !== ink && run) {
        out += paint(ink, run);
        run = '';
      }
      ink = c.ink;
      run += c.ch;
    }
    if (run) out += paint(ink, run);
    return out;
  });
  return lines.join('\n') + '\n';
}
