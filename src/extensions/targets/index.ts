/** Every modelled target extension. Adding one: write its module, list it here. */
import type { TargetExtension } from '../types.js';
import { standard } from './standard.js';

export const TARGETS: TargetExtension[] = [standard];
