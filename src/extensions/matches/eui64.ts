/**
 * eui64 match (libip6t_eui64.c, ip6t_eui64): the packet's source address ends in the EUI-64
 * interface identifier made from its source MAC. No options, nothing printed; the kernel takes it
 * only where a packet has come in from Ethernet (PREROUTING, INPUT, FORWARD). ip6tables only; the
 * lab keeps such rules but runs no IPv6 packets (no match()). Measured:
 * fixtures/cli/ip6tables-ext-headers.case.
 */
import type { MatchExtension } from '../types.js';

export const eui64: MatchExtension<Record<string, never>> = {
  kind: 'match',
  name: 'eui64',
  family: 6,
  options: [],
  init: () => ({}),
  print: () => '',
  save: () => '',
  // eui64_mt6_reg: .hooks = PRE_ROUTING | LOCAL_IN | FORWARD
  hooks: ['PREROUTING', 'INPUT', 'FORWARD'],
};
