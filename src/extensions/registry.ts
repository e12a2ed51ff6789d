/**
 * Which extensions exist. Adding one means writing its module and listing it in
 * ./matches/index.ts or ./targets/index.ts; nothing else changes.
 */
import { paramProblem } from '../errors.js';
import { protocolByNumber } from '../net/netdb.js';
import { parseUint } from '../util/strtoul.js';
import { MATCHES } from './matches/index.js';
import { TARGETS } from './targets/index.js';
import type { MatchExtension, TargetExtension } from './types.js';

/** Every IPv4 match and target iptables 1.8.9 ships (libxt_*, libipt_*), modelled here or not. */
export const IPTABLES_MATCH_NAMES = new Set(
  ('addrtype ah bpf cgroup cluster comment connbytes connlabel connlimit connmark conntrack cpu dccp devgroup dscp ' +
    'ecn esp hashlimit helper icmp ipcomp iprange ipvs length limit mac mark multiport nfacct osf owner physdev ' +
    'pkttype policy quota rateest realm recent rpfilter sctp set socket state statistic string tcp tcpmss time tos ' +
    'ttl u32 udp').split(' '),
);
export const IPTABLES_TARGET_NAMES = new Set(
  ('AUDIT CHECKSUM CLASSIFY CLUSTERIP CONNMARK CONNSECMARK CT DNAT DSCP ECN HMARK IDLETIMER LED LOG MARK ' +
    'MASQUERADE NETMAP NFLOG NFQUEUE NOTRACK RATEEST REDIRECT REJECT SECMARK SET SNAT SYNPROXY TCPMSS ' +
    'TCPOPTSTRIP TEE TOS TPROXY TRACE TTL ULOG ACCEPT DROP QUEUE RETURN').split(' '),
);

let matchMap: Map<string, MatchExtension> | undefined;
let targetMap: Map<string, TargetExtension> | undefined;

function maps(): [Map<string, MatchExtension>, Map<string, TargetExtension>] {
  if (!matchMap || !targetMap) {
    matchMap = new Map();
    targetMap = new Map();
    for (const m of MATCHES) for (const n of [m.name, ...(m.aliases ?? [])]) matchMap.set(n, m);
    for (const t of TARGETS) for (const n of [t.name, ...(t.aliases ?? [])]) targetMap.set(n, t);
  }
  return [matchMap, targetMap];
}

export function findMatch(name: string): MatchExtension | undefined {
  return maps()[0].get(name);
}

export function findTarget(name: string): TargetExtension | undefined {
  return maps()[1].get(name);
}

/**
 * The match `-p PROTO` loads implicitly (find_proto): a number is turned into the chain-protocol
 * name (tcp, udp, icmp, ...) or the /etc/protocols name.
 */
export function protoMatchName(protocol: string): string | undefined {
  const n = parseUint(protocol, 0, 255);
  if (n === undefined) return protocol;
  const chainProtos: Record<number, string> = { 6: 'tcp', 132: 'sctp', 17: 'udp', 136: 'udplite', 1: 'icmp', 58: 'ipv6-icmp', 50: 'esp', 51: 'ah', 135: 'mobility-header', 0: 'all' };
  return chainProtos[n] ?? protocolByNumber(n);
}

/** The error iptables gives for `-m NAME` it cannot load. */
export function matchLoadError(name: string): Error {
  if (IPTABLES_MATCH_NAMES.has(name)) {
    return paramProblem(`iptables-sim does not model the \`${name}' match of iptables 1.8.9 (yet); the rule was not added`);
  }
  return paramProblem(`Couldn't load match \`${name}':No such file or directory\n`);
}
