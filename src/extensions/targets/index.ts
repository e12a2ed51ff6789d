/**
 * Every modelled target extension. Adding one: write its module, import it here and list it
 * under its group.
 */
import type { TargetExtension } from '../types.js';
import { standard } from './standard.js';
// imports: nat
// imports: other

export const TARGETS: TargetExtension[] = [
  standard,
  // group: nat
  // group: other
];
