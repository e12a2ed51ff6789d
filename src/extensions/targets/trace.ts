/**
 * TRACE target (libxt_TRACE.c of iptables 1.8.9, net/netfilter/xt_TRACE.c): no options; it sets
 * skb->nf_trace so that every rule the packet meets from here on is reported. The kernel the
 * fixtures were recorded on accepts it in every table, not only raw.
 */
import type { TargetExtension } from '../types.js';

export const TRACE: TargetExtension<Record<string, never>> = {
  kind: 'target',
  name: 'TRACE',
  revision: 0,
  options: [],
  init: () => ({}),
  print: () => '',
  save: () => '',
  // trace_tg(): skb->nf_trace = 1, XT_CONTINUE
  apply: () => ({ verdict: 'CONTINUE', trace: true }),
};
