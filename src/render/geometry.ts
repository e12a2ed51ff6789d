/**
 * Shared pieces of the layout models: boxes, text placed at a point, wrapping, and the metrics
 * that turn characters into coordinates. The pictures use one monospace font (DejaVu Sans Mono
 * or the system's monospace, never a downloaded one), so a line's width is its length times the
 * advance width and layouts can be computed without a browser; the terminal is the same model with
 * one unit per character cell.
 */

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Label {
  text: string;
  x: number;
  /** baseline (pictures) or row (terminal) */
  y: number;
  anchor: 'start' | 'middle' | 'end';
}

export interface Metrics {
  /** 'picture': labels centred on arrows, boxes centred on lanes; 'terminal': text flows right of where it starts, one cell per character */
  mode: 'picture' | 'terminal';
  /** the advance width of one character */
  charW: number;
  /** the height of one line of text */
  lineH: number;
  /** font size of ordinary text (pictures) */
  fontSize: number;
  /** font size of small print: interface names, table names (pictures) */
  smallSize: number;
}

/** DejaVu Sans Mono's advance is 0.602 em; a little more keeps text inside its box whatever monospace the viewer substitutes */
export const ADVANCE_EM = 0.62;

export const PICTURE: Metrics = { mode: 'picture', charW: 12 * ADVANCE_EM, lineH: 16, fontSize: 12, smallSize: 10 };
export const TERMINAL: Metrics = { mode: 'terminal', charW: 1, lineH: 1, fontSize: 1, smallSize: 1 };

/** the width `text` takes in the picture at `size` px */
export function textWidth(text: string, size: number): number {
  return [...text].length * size * ADVANCE_EM;
}

export function chars(text: string): number {
  return [...text].length;
}

/** Wraps at spaces to lines of at most `cols` characters; a longer word is cut. */
export function wrap(text: string, cols: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    let w = word;
    while (chars(w) > cols) {
      if (line) {
        out.push(line);
        line = '';
      }
      out.push([...w].slice(0, cols).join(''));
      w = [...w].slice(cols).join('');
    }
    if (!line) line = w;
    else if (chars(line) + 1 + chars(w) <= cols) line += ` ${w}`;
    else {
      out.push(line);
      line = w;
    }
  }
  if (line) out.push(line);
  return out.length ? out : [''];
}

export function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}
