/**
 * nfacct match (libxt_nfacct.c of iptables 1.8.9, net/netfilter/xt_nfacct.c): every packet that
 * reaches it is counted into the host's accounting object --nfacct-name (made with `nfacct add`,
 * which the kernel requires: ENOENT otherwise); it matches always, or with a quota once the counter
 * is past it. -S and -L write the name after two spaces, as iptables 1.8.9 does. Measured:
 * fixtures/cli/nfacct.case, fixtures/kernel/130-nfacct.scn.
 */
import { findNfacct, NFACCT_NAME_MAX } from '../../net/nfacct.js';
import type { MatchExtension } from '../types.js';

export interface NfacctData {
  name: string;
}

export const nfacct: MatchExtension<NfacctData> = {
  kind: 'match',
  name: 'nfacct',
  // nfacct_help() of libxt_nfacct.c, byte for byte as iptables 1.8.9 prints it
  help: 'nfacct match options:\n --nfacct-name STRING\t\tName of accouting area\n',
  options: [{ name: 'nfacct-name', id: 0, type: 'string', mandatory: true, min: 1, size: NFACCT_NAME_MAX }],
  init: () => ({ name: '' }),
  parse({ val, data }) {
    data.name = val.str!;
  },
  print: (d) => ` nfacct-name  ${d.name}`,
  save: (d) => ` --nfacct-name  ${d.name}`,
  // nfacct_mt_checkentry(): nfnl_acct_find_get()
  kernelCheck: (d, { nfacct }) =>
    nfacct && !findNfacct(nfacct as never, d.name) ? { errno: 'No such file or directory', why: `no accounting object called "${d.name}" on this host: make it first with \`nfacct add ${d.name}\`` } : undefined,
  // nfacct_mt(): count, then the quota
  match: (d, pkt, ctx) => ctx.countNfacct(d.name, pkt.len),
};
