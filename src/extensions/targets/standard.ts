/**
 * The standard target: ACCEPT, DROP, RETURN and QUEUE are verdicts, not extensions with options.
 * (Jumps to user chains are handled by the core.)
 */
import type { TargetExtension } from '../types.js';

export const standard: TargetExtension<Record<string, never>> = {
  kind: 'target',
  name: 'standard',
  aliases: ['ACCEPT', 'DROP', 'RETURN', 'QUEUE'],
  options: [],
  init: () => ({}),
  print: () => '',
  save: () => '',
};
