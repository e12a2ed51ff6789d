/**
 * Opt-in (npm run test:browser, not part of npm test): draws the seed post's scenarios with the
 * CLI (--diagram FILE.svg / FILE.html, --hooks, lab show --diagram), opens every picture in Debian's
 * headless Chromium (apt-get install -y chromium) and writes a full-page PNG of each to
 * test/browser/screenshots/ (or $IPTABLES_SIM_SCREENSHOTS) for a person to look at.
 *
 * What a browser can judge by itself is asserted too: the page loads nothing from anywhere
 * (no network request, only the file itself), logs no error, every text stays inside the picture
 * and inside the box it is drawn on, and no two texts overlap once the real font has laid them out.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../helpers/cli.js';
import { SCENARIOS, type PictureScenario } from './scenarios.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OUT = process.env.IPTABLES_SIM_SCREENSHOTS ?? join(__dirname, 'screenshots');

let context: BrowserContext;
let profile: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  mkdirSync(OUT, { recursive: true });
  // a fresh profile every run: nothing cached, nothing synced, no first-run dialogs
  profile = mkdtempSync(join(tmpdir(), 'iptsim-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1280, height: 800 },
  });
});

afterAll(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

/** the DOM as far as the in-page checks use it (the project compiles without lib.dom) */
interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}
interface SvgElement {
  textContent: string | null;
  getBBox(): Rect;
}
interface SvgRoot {
  viewBox: { baseVal: Rect };
  querySelectorAll(selector: 'text' | 'rect'): ArrayLike<SvgElement>;
}
declare const document: { querySelectorAll(selector: 'svg'): ArrayLike<SvgRoot>; querySelector(selector: 'svg'): SvgRoot | null };

interface LayoutProblem {
  svg: number;
  problem: string;
}

/** Runs in the page: checks every SVG's texts against the picture, their boxes and each other. */
function layoutProblems(): LayoutProblem[] {
  const problems: LayoutProblem[] = [];
  const svgs = Array.from(document.querySelectorAll('svg'));
  svgs.forEach((svg, si) => {
    const vb = svg.viewBox.baseVal;
    const texts = Array.from(svg.querySelectorAll('text')).map((t) => ({ t: t.textContent ?? '', b: t.getBBox() }));
    const rects = Array.from(svg.querySelectorAll('rect'))
      .map((r) => r.getBBox())
      .filter((b) => !(b.x === 0 && b.y === 0 && b.width >= vb.width && b.height >= vb.height));
    const tol = 1;
    for (const { t, b } of texts) {
      if (b.x < -tol || b.y < -tol || b.x + b.width > vb.width + tol || b.y + b.height > vb.height + tol) problems.push({ svg: si, problem: `text outside the picture: "${t}"` });
      const cx = b.x + b.width / 2;
      const cy = b.y + b.height / 2;
      const holders = rects.filter((r) => cx > r.x && cx < r.x + r.width && cy > r.y && cy < r.y + r.height).sort((a, c) => a.width * a.height - c.width * c.height);
      const r = holders[0];
      if (r && (b.x < r.x - tol || b.x + b.width > r.x + r.width + tol)) problems.push({ svg: si, problem: `text sticks out of its box: "${t}"` });
    }
    for (let i = 0; i < texts.length; i++) {
      for (let j = i + 1; j < texts.length; j++) {
        const a = texts[i]!.b;
        const c = texts[j]!.b;
        const w = Math.min(a.x + a.width, c.x + c.width) - Math.max(a.x, c.x);
        const h = Math.min(a.y + a.height, c.y + c.height) - Math.max(a.y, c.y);
        if (w > 2 && h > 3) problems.push({ svg: si, problem: `texts overlap: "${texts[i]!.t}" / "${texts[j]!.t}"` });
      }
    }
  });
  return problems;
}

async function shoot(file: string, png: string): Promise<{ problems: LayoutProblem[]; requests: string[]; errors: string[] }> {
  const page = await context.newPage();
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(pathToFileURL(file).href);
  if (file.endsWith('.svg')) {
    const size = await page.evaluate(() => {
      const s = document.querySelector('svg')!;
      return { width: Math.ceil(s.viewBox.baseVal.width), height: Math.ceil(s.viewBox.baseVal.height) };
    });
    await page.setViewportSize(size);
  }
  const problems = await page.evaluate(layoutProblems);
  // an SVG document has no scrollable page to measure: its viewport is already the picture's size
  await page.screenshot({ path: png, fullPage: !file.endsWith('.svg') });
  await page.close();
  return { problems, requests: requests.filter((u) => u !== pathToFileURL(file).href), errors };
}

/** Sets the scenario up on a fresh lab and runs its traces with `extra` appended (a fresh lab per variant keeps them identical). */
async function draw(sc: PictureScenario, extra: (i: number) => string): Promise<string[]> {
  const sb = new Sandbox();
  for (const line of sc.setup) {
    const r = await sb.sh(line);
    expect(r.rc, `${line}: ${r.stderr}`).toBe(0);
  }
  const files: string[] = [];
  for (const [i, t] of sc.traces.entries()) {
    const arg = extra(i);
    const r = await sb.sh(`trace ${t} ${arg}`);
    expect(r.rc, `trace ${t} ${arg}: ${r.stderr}`).toBe(0);
    files.push(join(sb.dir, arg.split(' ').pop()!));
  }
  return files;
}

for (const sc of SCENARIOS) {
  describe(`seed scenario ${sc.name}`, () => {
    const variants: [string, (i: number) => string][] = [
      ['html', (i) => `--diagram ${sc.name}-${i + 1}.html`],
      ['svg', (i) => `--diagram ${sc.name}-${i + 1}.svg`],
    ];
    if (sc.hooks) variants.push(['hooks', (i) => `--hooks ${sc.hooks} --diagram ${sc.name}-${i + 1}-hooks-${sc.hooks}.svg`]);
    for (const [variant, extra] of variants) {
      it(`${variant}: renders self-contained, texts inside their boxes, nothing overlapping`, async () => {
        const files = await draw(sc, extra);
        for (const f of files) {
          const base = f.split('/').pop()!.replace(/\.(svg|html)$/, '');
          const png = join(OUT, `${base}${variant === 'html' ? '-page' : ''}.png`);
          const res = await shoot(f, png);
          expect(res.requests, `${f} fetched something`).toEqual([]);
          expect(res.errors, `${f} logged errors`).toEqual([]);
          expect(res.problems.map((p) => `svg ${p.svg}: ${p.problem}`), `${f} layout`).toEqual([]);
        }
      });
    }
  });
}

describe('lab show --diagram', () => {
  for (const ext of ['svg', 'html']) {
    it(`${ext}: the built-in lab's topology`, async () => {
      const sb = new Sandbox();
      const r = await sb.sh(`lab show --diagram lab.${ext}`);
      expect(r.rc, r.stderr).toBe(0);
      const res = await shoot(join(sb.dir, `lab.${ext}`), join(OUT, `lab-${ext}.png`));
      expect(res.requests).toEqual([]);
      expect(res.errors).toEqual([]);
      expect(res.problems.map((p) => `svg ${p.svg}: ${p.problem}`)).toEqual([]);
    });
  }
});
