/** Every modelled match extension. Adding one: write its module, list it here. */
import type { MatchExtension } from '../types.js';
import { comment } from './comment.js';
import { tcp } from './tcp.js';
import { udp } from './udp.js';

export const MATCHES: MatchExtension[] = [tcp, udp, comment];
