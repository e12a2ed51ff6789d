/**
 * Every modelled match extension. Adding one: write its module, import it here and list it
 * under its group (groups only keep the list readable).
 */
import type { MatchExtension } from '../types.js';
import { comment } from './comment.js';
import { tcp } from './tcp.js';
import { udp } from './udp.js';
// imports: protocols
// imports: conntrack
// imports: rates
// imports: addresses

export const MATCHES: MatchExtension[] = [
  tcp,
  udp,
  comment,
  // group: protocols
  // group: conntrack
  // group: rates
  // group: addresses
];
