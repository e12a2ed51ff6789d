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
import { conntrack, state } from './conntrack.js';
import { mark } from './mark.js';
import { connmark } from './connmark.js';
import { helper } from './helper.js';
import { connlimit } from './connlimit.js';
import { connbytes } from './connbytes.js';
// imports: rates
import { limit } from './limit.js';
import { statistic } from './statistic.js';
import { recent } from './recent.js';
import { time } from './time.js';
import { hashlimit } from './hashlimit.js';
import { set } from './set.js';
import { quota } from './quota.js';
import { string } from './string.js';
// imports: addresses
import { addrtype } from './addrtype.js';
import { iprange } from './iprange.js';
import { mac } from './mac.js';
import { pkttype } from './pkttype.js';
import { owner } from './owner.js';
import { length } from './length.js';
import { tcpmss } from './tcpmss.js';
import { physdev } from './physdev.js';
import { policy } from './policy.js';
import { rpfilter } from './rpfilter.js';
import { tos } from './tos.js';
import { hl, ttl } from './ttl.js';
import { rt } from './rt.js';
import { frag } from './frag.js';
import { dst, hbh } from './ip6opts.js';
import { ipv6header } from './ipv6header.js';
import { mh } from './mh.js';
import { eui64 } from './eui64.js';
import { srh } from './srh.js';
import { cpu } from './cpu.js';
import { realm } from './realm.js';
import { devgroup } from './devgroup.js';
import { cluster } from './cluster.js';
import { nfacct } from './nfacct.js';
import { dccp } from './dccp.js';
import { dscp } from './dscp.js';
import { ecn } from './ecn.js';
import { icmp, icmp6 } from './icmp.js';
import { multiport } from './multiport.js';
import { sctp } from './sctp.js';
import { socket } from './socket.js';
import { ah, esp, ipcomp } from './ipsec.js';
import { u32 } from './u32.js';
import { ipvs } from './ipvs.js';
import { osf } from './osf.js';

export const MATCHES: MatchExtension[] = [
  tcp,
  udp,
  comment,
  // group: protocols
  // group: conntrack
  conntrack,
  state,
  mark,
  connmark,
  helper,
  connlimit,
  connbytes,
  // group: rates
  limit,
  statistic,
  recent,
  time,
  hashlimit,
  set,
  quota,
  string,
  // group: addresses
  addrtype,
  iprange,
  mac,
  pkttype,
  owner,
  length,
  tcpmss,
  physdev,
  policy,
  rpfilter,
  tos,
  ttl,
  hl,
  rt,
  frag,
  hbh,
  dst,
  ipv6header,
  mh,
  eui64,
  srh,
  cpu,
  realm,
  devgroup,
  cluster,
  nfacct,
  dccp,
  dscp,
  ecn,
  icmp,
  icmp6,
  multiport,
  sctp,
  socket,
  esp,
  ipcomp,
  ah,
  u32,
  ipvs,
  osf,
];
