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

/** ip6tables' (libxt_*, libip6t_*): the IPv4-only icmp, ttl, realm and osf are not among them (measured) */
export const IP6TABLES_MATCH_NAMES = new Set(
  ('addrtype ah bpf cgroup cluster comment connbytes connlabel connlimit connmark conntrack cpu dccp devgroup dscp ' +
    'dst ecn esp eui64 frag hashlimit hbh helper hl icmp6 ipcomp iprange ipv6header ipvs length limit mac mark mh ' +
    'multiport nfacct owner physdev pkttype policy quota rateest recent rpfilter rt sctp set socket srh state ' +
    'statistic string tcp tcpmss time tos u32 udp').split(' '),
);
/** ... and targets: no CLUSTERIP, ECN, TTL or ULOG (`-j TTL` is a jump to a chain TTL, measured) */
export const IP6TABLES_TARGET_NAMES = new Set(
  ('AUDIT CHECKSUM CLASSIFY CONNMARK CONNSECMARK CT DNAT DNPT DSCP HL HMARK IDLETIMER LED LOG MARK ' +
    'MASQUERADE NETMAP NFLOG NFQUEUE NOTRACK RATEEST REDIRECT REJECT SECMARK SET SNAT SNPT SYNPROXY TCPMSS ' +
    'TCPOPTSTRIP TEE TOS TPROXY TRACE ACCEPT DROP QUEUE RETURN').split(' '),
);

/** 4: iptables, 6: ip6tables */
export type Family = 4 | 6;

export function matchNames(family: Family): ReadonlySet<string> {
  return family === 6 ? IP6TABLES_MATCH_NAMES : IPTABLES_MATCH_NAMES;
}

export function targetNames(family: Family): ReadonlySet<string> {
  return family === 6 ? IP6TABLES_TARGET_NAMES : IPTABLES_TARGET_NAMES;
}

/** extensions by name and alias: matches, targets (made at the first lookup) */
let byName: readonly [Map<string, MatchExtension>, Map<string, TargetExtension>] | undefined;

function maps(): readonly [Map<string, MatchExtension>, Map<string, TargetExtension>] {
  if (!byName) {
    // (indexed loops: made once, in a young process, where a for-of loop allocates a result object
    // for every element)
    const byNames = <E extends { name: string; aliases?: readonly string[] }>(list: readonly E[]): Map<string, E> => {
      const m = new Map<string, E>();
      for (let i = 0; i < list.length; i++) {
        const e = list[i]!;
        m.set(e.name, e);
        const aliases = e.aliases ?? [];
        for (let j = 0; j < aliases.length; j++) m.set(aliases[j]!, e);
      }
      return m;
    };
    byName = [byNames(MATCHES), byNames(TARGETS)];
  }
  return byName;
}

/**
 * The extension called `name`. With a family: only one that iptables (4) or ip6tables (6) can
 * load; without: any (a stored rule names the extension it was made with).
 */
export function findMatch(name: string, family?: Family): MatchExtension | undefined {
  const m = maps()[0].get(name);
  return m && (family === undefined || m.family === undefined || m.family === family) ? m : undefined;
}

export function findTarget(name: string, family?: Family): TargetExtension | undefined {
  const t = maps()[1].get(name);
  return t && (family === undefined || t.family === undefined || t.family === family) ? t : undefined;
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

/**
 * `-j NAME` of a target iptables 1.8.9 has that the emulator does not model: refused by name (iptables
 * would load it; taken as a chain it would only be "Chain 'NAME' does not exist")
 */
export function targetLoadError(name: string): Error {
  return paramProblem(`iptables-sim does not model the \`${name}' target of iptables 1.8.9 (yet); the rule was not added`);
}

/** The error iptables gives for `-m NAME` it cannot load. */
export function matchLoadError(name: string, family: Family = 4): Error {
  if (matchNames(family).has(name)) {
    return paramProblem(`iptables-sim does not model the \`${name}' match of iptables 1.8.9 (yet); the rule was not added`);
  }
  return paramProblem(`Couldn't load match \`${name}':No such file or directory\n`);
}
