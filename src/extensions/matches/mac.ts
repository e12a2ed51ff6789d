/**
 * mac match (libxt_mac, xt_mac): --mac-source of a received Ethernet frame. The kernel registers
 * it for PREROUTING, INPUT and FORWARD only.
 */
import type { MatchExtension } from '../types.js';

export interface MacData {
  mac: number[];
  invert?: boolean;
}

/** xtables_print_mac(): lower-case, two digits per octet */
export const macText = (mac: number[]): string => mac.map((b) => b.toString(16).padStart(2, '0')).join(':');

const MAC_HOOKS = ['PREROUTING', 'INPUT', 'FORWARD'];

export const mac: MatchExtension<MacData> = {
  kind: 'match',
  name: 'mac',
  // mac_help() of libxt_mac.c, byte for byte as iptables 1.8.9 prints it
  help:
    'mac match options:\n' +
    '[!] --mac-source XX:XX:XX:XX:XX:XX\n' +
    '\t\t\t\tMatch source MAC address\n',
  options: [{ name: 'mac-source', id: 0, type: 'ethermac', mandatory: true, invert: true }],
  init: () => ({ mac: [0, 0, 0, 0, 0, 0] }),
  parse({ val, invert, data }) {
    data.mac = val.mac!;
    if (invert) data.invert = true;
  },
  print: (d) => ` MAC ${d.invert ? '! ' : ''}${macText(d.mac)}`,
  save: (d) => `${d.invert ? ' !' : ''} --mac-source ${macText(d.mac)}`,
  // xt_mac's .hooks: nf_tables refuses the rule in any other base chain
  // xt_mac's .hooks
  hooks: MAC_HOOKS,
  // mac_mt(): no Ethernet header (locally generated, loopback) never matches, whatever the '!'
  match(d, pkt) {
    if (pkt.srcMac === undefined) return false;
    const same = pkt.srcMac.toLowerCase() === macText(d.mac);
    return same !== !!d.invert;
  },
};
