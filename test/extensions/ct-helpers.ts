/** A conntrack view builder for the conntrack-family match tests. */
import type { ConntrackView, Tuple } from '../../src/engine/ext-api.js';
import { ip } from '../helpers/ext.js';

export function tuple(src: string, dst: string, proto: number, sport: number, dport: number): Tuple {
  return { src: ip(src), dst: ip(dst), proto, sport, dport };
}

/** an established TCP connection 10.0.0.1:40000 -> 10.0.0.2:22, seen from the original direction */
export function ctView(over: Partial<ConntrackView> = {}): ConntrackView {
  return {
    state: 'ESTABLISHED',
    reply: false,
    status: ['SEEN_REPLY', 'ASSURED', 'CONFIRMED'],
    mark: 0,
    zone: 0,
    orig: tuple('10.0.0.1', '10.0.0.2', 6, 40000, 22),
    replyTuple: tuple('10.0.0.2', '10.0.0.1', 6, 22, 40000),
    packets: [3, 2],
    bytes: [180, 120],
    expires: 431999,
    ...over,
  };
}
