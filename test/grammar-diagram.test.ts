import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { DIAGRAM_FILE, diagramHtml } from '../grammar/generate-diagram.js';

describe('grammar railroad diagram', () => {
  it(`${DIAGRAM_FILE} is drawn from the parser as it is now (npm run diagram rewrites it)`, () => {
    expect(readFileSync(DIAGRAM_FILE, 'utf8')).toBe(diagramHtml());
  });

  it('names every production the command semantics are fed by', () => {
    const html = diagramHtml();
    for (const rule of ['commandLine', 'command', 'ruleOption', 'flagOption', 'extensionOption', 'negation']) {
      expect(html).toContain(`"name": "${rule}"`);
    }
  });
});
