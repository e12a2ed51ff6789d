/**
 * The standard target: ACCEPT, DROP, RETURN and QUEUE are verdicts, not extensions with options.
 * (Jumps to user chains are handled by the core.)
 */
import type { TargetExtension } from '../types.js';

export const standard: TargetExtension<Record<string, never>> = {
  kind: 'target',
  name: 'standard',
  // standard_help() of libxt_standard.c, byte for byte as iptables 1.8.9 prints it
  help:
    'standard match options:\n' +
    '(If target is DROP, ACCEPT, RETURN or nothing)\n',
  aliases: ['ACCEPT', 'DROP', 'RETURN', 'QUEUE'],
  options: [],
  init: () => ({}),
  print: () => '',
  save: () => '',
};
