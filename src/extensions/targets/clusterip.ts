/**
 * CLUSTERIP target (libipt_CLUSTERIP.c of iptables 1.8.9, IPv4 only). iptables still ships the
 * extension, but its kernel module (ipt_CLUSTERIP) was removed in Linux 6.3: iptables warns when
 * it loads the target, parses and checks the options as usual, and the kernel refuses every rule
 * using it with ENOENT (measured, fixtures/cli/ext-clusterip.case). print/save are kept as the C
 * code writes them although no rule can carry CLUSTERIP.
 */
import { paramProblem } from '../../errors.js';
import type { TargetExtension } from '../types.js';

const O_NEW = 0;
const O_HASHMODE = 1;
const O_CLUSTERMAC = 2;
const O_TOTAL_NODES = 3;
const O_LOCAL_NODE = 4;
const O_HASH_INIT = 5;
/** every option but --hash-init: a rule with any option must have them all */
const F_FULL = (1 << O_NEW) | (1 << O_HASHMODE) | (1 << O_CLUSTERMAC) | (1 << O_TOTAL_NODES) | (1 << O_LOCAL_NODE);

/** ipt_CLUSTERIP.h */
const CLUSTERIP_MAX_NODES = 16;
const HASHMODES = ['sourceip', 'sourceip-sourceport', 'sourceip-sourceport-destport'];

/** struct ipt_clusterip_tgt_info */
export interface ClusteripData {
  /** CLUSTERIP_FLAG_NEW */
  isNew: boolean;
  /** CLUSTERIP_HASHMODE_SIP (1) and on; 0: none given */
  hashMode: number;
  /** the six bytes */
  clusterMac: number[];
  totalNodes: number;
  localNode: number;
  hashInit: number;
}

/** mac2str(): upper-case hex */
const macText = (mac: number[]): string => mac.map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(':');

const hashModeText = (m: number): string => HASHMODES[m - 1] ?? 'unknown-error';

export const CLUSTERIP: TargetExtension<ClusteripData> = {
  kind: 'target',
  name: 'CLUSTERIP',
  // IPv4 only (libipt_*)
  family: 4,
  revision: 0,
  missingKernelModule: "CLUSTERIP's kernel module (ipt_CLUSTERIP) was removed in Linux 6.3; the cluster match spreads connections over nodes instead",
  // CLUSTERIP_help() of libipt_CLUSTERIP.c
  help:
    'CLUSTERIP target options:\n' +
    '  --new\t\t\t Create a new ClusterIP\n' +
    '  --hashmode <mode>\t\t Specify hashing mode\n' +
    '\t\t\t\t\tsourceip\n' +
    '\t\t\t\t\tsourceip-sourceport\n' +
    '\t\t\t\t\tsourceip-sourceport-destport\n' +
    '  --clustermac <mac>\t\t Set clusterIP MAC address\n' +
    '  --total-nodes <num>\t\t Set number of total nodes in cluster\n' +
    '  --local-node <num>\t\t Set the local node number\n' +
    '  --hash-init <num>\t\t Set init value of the Jenkins hash\n',
  options: [
    { name: 'new', id: O_NEW, type: 'none' },
    { name: 'hashmode', id: O_HASHMODE, type: 'string', also: [O_NEW] },
    { name: 'clustermac', id: O_CLUSTERMAC, type: 'ethermac', also: [O_NEW] },
    { name: 'total-nodes', id: O_TOTAL_NODES, type: 'uint16', also: [O_NEW], max: CLUSTERIP_MAX_NODES },
    { name: 'local-node', id: O_LOCAL_NODE, type: 'uint16', also: [O_NEW], max: CLUSTERIP_MAX_NODES },
    { name: 'hash-init', id: O_HASH_INIT, type: 'uint32', also: [O_NEW], max: 0xffffffff },
  ],
  init: () => ({ isNew: false, hashMode: 0, clusterMac: [0, 0, 0, 0, 0, 0], totalNodes: 0, localNode: 0, hashInit: 0 }),
  parse({ entry, arg, val, data }) {
    switch (entry.id) {
      case O_NEW:
        data.isNew = true;
        break;
      case O_HASHMODE: {
        const m = HASHMODES.indexOf(arg!);
        if (m < 0) throw paramProblem(`Unknown hashmode "${arg}"`);
        data.hashMode = m + 1;
        break;
      }
      case O_CLUSTERMAC:
        data.clusterMac = val.mac!;
        if (!(data.clusterMac[0]! & 0x01)) throw paramProblem('MAC has to be a multicast ethernet address');
        break;
      case O_TOTAL_NODES:
        data.totalNodes = val.num!;
        break;
      case O_LOCAL_NODE:
        data.localNode = val.num!;
        break;
      case O_HASH_INIT:
        data.hashInit = val.num!;
        break;
    }
  },
  // CLUSTERIP_check(): no option at all (a rule of a cluster IP made before), or every one but --hash-init
  finalCheck({ xflags }) {
    if (xflags !== 0 && (xflags & F_FULL) !== F_FULL) throw paramProblem('CLUSTERIP target: Invalid parameter combination');
  },
  print(d) {
    if (!d.isNew) return ' CLUSTERIP';
    return ` CLUSTERIP hashmode=${hashModeText(d.hashMode)} clustermac=${macText(d.clusterMac)} total_nodes=${d.totalNodes} local_node=${d.localNode} hash_init=${d.hashInit}`;
  },
  save(d) {
    if (!d.isNew) return '';
    return ` --new --hashmode ${hashModeText(d.hashMode)} --clustermac ${macText(d.clusterMac)} --total-nodes ${d.totalNodes} --local-node ${d.localNode} --hash-init ${d.hashInit}`;
  },
};
