/**
 * quota match (libxt_quota, xt_quota): a per-rule byte budget. Listings show the configured quota,
 * not what is left (the kernel counts down a private copy).
 */
import type { MatchExtension } from '../types.js';

export interface QuotaData {
  /** u64 as a decimal string */
  quota: string;
  invert: boolean;
}

export const quota: MatchExtension<QuotaData> = {
  kind: 'match',
  name: 'quota',
  // quota_help() of libxt_quota.c, byte for byte as iptables 1.8.9 prints it
  help:
    'quota match options:\n' +
    '[!] --quota quota\t\tquota (bytes)\n',
  options: [{ name: 'quota', id: 0, type: 'uint64', mandatory: true, invert: true }],
  init: () => ({ quota: '0', invert: false }),
  parse({ invert, val, data }) {
    data.quota = val.big!.toString();
    if (invert) data.invert = true;
  },
  // quota_print() does not show the inversion
  print: (d) => ` quota: ${d.quota} bytes`,
  save: (d) => `${d.invert ? ' !' : ''} --quota ${d.quota}`,
  /** quota_mt(): packets fitting in what is left use it up; the first that does not empties it */
  match(d, pkt, ctx) {
    const st = ctx.state(() => ({ left: d.quota }));
    const left = BigInt(st.left);
    let ret = d.invert;
    if (left >= BigInt(pkt.len)) {
      st.left = (left - BigInt(pkt.len)).toString();
      ret = !ret;
    } else {
      st.left = '0';
    }
    return ret;
  },
};
