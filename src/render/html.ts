/**
 * An HTML page around the pictures: the SVGs inline, then the text the command prints, in a page
 * with no script and no external resource (it opens the same from a mail attachment as from disk).
 */
import { esc } from './svg.js';

export function page(title: string, sections: { heading: string; html: string }[], text: { heading: string; body: string }, summary?: string): string {
  const body = sections.map((s) => `<section>\n<h2>${esc(s.heading)}</h2>\n<figure>\n${s.html}</figure>\n</section>`).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
body { font-family: 'DejaVu Sans', 'Liberation Sans', Arial, sans-serif; color: #1f2933; margin: 24px; background: #ffffff; }
h1 { font-size: 20px; margin: 0 0 8px; }
h2 { font-size: 16px; margin: 28px 0 8px; }
p.summary { margin: 0 0 8px; max-width: 72em; }
figure { margin: 0; overflow-x: auto; }
figure svg { display: block; }
pre { font-family: 'DejaVu Sans Mono', 'Liberation Mono', monospace; font-size: 12px; background: #f6f8fa; border: 1px solid #e4e7ec; padding: 12px; overflow-x: auto; }
</style>
</head>
<body>
<h1>${esc(title)}</h1>
${summary ? `<p class="summary">${esc(summary)}</p>\n` : ''}${body}
<section>
<h2>${esc(text.heading)}</h2>
<pre>${esc(text.body)}</pre>
</section>
</body>
</html>
`;
}
