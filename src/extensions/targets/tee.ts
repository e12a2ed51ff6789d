/**
 * TEE target (libxt_TEE.c of iptables 1.8.9 revision 1, both families; xt_TEE): sends a copy of
 * the packet to --gateway (out of --oif when given) and lets the original go on. The kernel takes
 * it in every table and refuses only the all-zero gateway (measured, fixtures/cli/ext-tee.case).
 * The copy's journey (another host receiving a packet not addressed to it, answering or
 * forwarding it, conntrack entries on the way) is not modelled: a trace that reaches a TEE rule
 * stops there and says so.
 */
import { ipToAnyName, ipToString } from '../../net/ipv4.js';
import type { TargetExtension } from '../types.js';

const O_GATEWAY = 0;
const O_OIF = 1;

/** struct xt_tee_tginfo: the gateway (IPv4, or IPv6 as inet_ntop() writes it) and oif[IFNAMSIZ] */
export interface TeeData {
  gw: number;
  gw6?: string;
  oif: string;
}

export const TEE: TargetExtension<TeeData> = {
  kind: 'target',
  name: 'TEE',
  revision: 1,
  v6Addresses: true,
  // tee_tg_help() of libxt_TEE.c
  help: 'TEE target options:\n  --gateway IPADDR    Route packet via the gateway given by address\n  --oif NAME          Include oif in route calculation\n\n',
  options: [
    { name: 'gateway', id: O_GATEWAY, type: 'host', mandatory: true },
    { name: 'oif', id: O_OIF, type: 'string', size: 16 },
  ],
  init: () => ({ gw: 0, oif: '' }),
  parse({ entry, val, data }) {
    if (entry.id === O_OIF) data.oif = val.str!;
    else if (val.haddr6 !== undefined) data.gw6 = val.haddr6;
    else data.gw = val.haddr!;
  },
  // tee_tg_check(): 0.0.0.0 and :: are not gateways
  kernelCheck: (d) => ((d.gw6 !== undefined ? d.gw6 === '::' : d.gw === 0) ? 'TEE needs a gateway address other than 0.0.0.0 (::)' : undefined),
  print: (d, { numeric }) => ` TEE gw:${d.gw6 ?? (numeric ? ipToString(d.gw) : ipToAnyName(d.gw))}${d.oif ? ` oif=${d.oif}` : ''}`,
  save: (d) => ` --gateway ${d.gw6 ?? ipToString(d.gw)}${d.oif ? ` --oif ${d.oif}` : ''}`,
};
