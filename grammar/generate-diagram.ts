/**
 * The grammar's railroad diagram, grammar/diagram.html, drawn by Chevrotain from the parser's
 * own productions, so it cannot drift from what the parser accepts (test/grammar-diagram.test.ts
 * regenerates it and compares). `npm run diagram` rewrites the file.
 *
 * The page loads Chevrotain's diagram renderer from node_modules (present after `npm install`),
 * so opening it needs no network.
 */
import { createSyntaxDiagramsCode } from 'chevrotain';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IptablesParser } from './parser.js';

export const DIAGRAM_FILE = 'grammar/diagram.html';

export function diagramHtml(): string {
  const productions = new IptablesParser(false).getSerializedGastProductions();
  const base = '../node_modules/chevrotain/diagrams/';
  return createSyntaxDiagramsCode(productions, { resourceBase: base, css: `${base}diagrams.css` });
}

// run as the bundled dist/grammar-diagram.js: write the file next to the sources
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  writeFileSync(join(root, DIAGRAM_FILE), diagramHtml());
  process.stdout.write(`wrote ${DIAGRAM_FILE}\n`);
}
