/**
 * Every modelled target extension. Adding one: write its module, import it here and list it
 * under its group.
 */
import type { TargetExtension } from '../types.js';
import { standard } from './standard.js';
// imports: nat
import { DNAT, MASQUERADE, REDIRECT, SNAT } from './nat.js';
import { NETMAP } from './netmap.js';
// imports: other
import { CHECKSUM } from './checksum.js';
import { CLASSIFY } from './classify.js';
import { CONNMARK } from './connmark.js';
import { CT, NOTRACK } from './ct.js';
import { DSCP } from './dscp.js';
import { HMARK } from './hmark.js';
import { IDLETIMER } from './idletimer.js';
import { ECN } from './ecn.js';
import { LOG } from './log.js';
import { MARK } from './mark.js';
import { NFLOG } from './nflog.js';
import { NFQUEUE } from './nfqueue.js';
import { REJECT } from './reject.js';
import { SYNPROXY } from './synproxy.js';
import { TCPMSS } from './tcpmss.js';
import { TOS } from './tos.js';
import { TPROXY } from './tproxy.js';
import { TRACE } from './trace.js';
import { HL, TTL } from './ttl.js';
import { DNPT, SNPT } from './npt.js';
import { AUDIT } from './audit.js';
import { SET } from './set.js';
import { TCPOPTSTRIP } from './tcpoptstrip.js';
import { ULOG } from './ulog.js';
import { LED } from './led.js';
import { CLUSTERIP } from './clusterip.js';
import { CONNSECMARK, SECMARK } from './secmark.js';
import { TEE } from './tee.js';

export const TARGETS: TargetExtension[] = [
  standard,
  // group: nat
  SNAT,
  DNAT,
  MASQUERADE,
  REDIRECT,
  NETMAP,
  // group: other
  REJECT,
  LOG,
  NFLOG,
  MARK,
  HMARK,
  IDLETIMER,
  CONNMARK,
  CT,
  NOTRACK,
  TRACE,
  TCPMSS,
  SYNPROXY,
  TPROXY,
  CHECKSUM,
  CLASSIFY,
  DSCP,
  ECN,
  TOS,
  TTL,
  HL,
  DNPT,
  SNPT,
  AUDIT,
  SET,
  TCPOPTSTRIP,
  NFQUEUE,
  ULOG,
  LED,
  CLUSTERIP,
  SECMARK,
  CONNSECMARK,
  TEE,
];
