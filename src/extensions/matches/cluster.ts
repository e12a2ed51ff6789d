/**
 * cluster match (libxt_cluster.c of iptables 1.8.9, net/netfilter/xt_cluster.c): for gateways
 * and servers that share the load without a balancer, every node seeing every packet. A
 * connection belongs to node hash + 1, hash = reciprocal_scale(jhash_1word(the original source
 * address as the kernel holds it, --cluster-hash-seed), --cluster-total-nodes); the rule matches
 * when that node is in the local node mask (--cluster-local-node N is the mask 1 << (N - 1)), or
 * is not with `!`. A packet without a connection (INVALID, UNTRACKED) never matches. A unicast
 * packet that came to a multicast link address is made a packet for this host, as the kernel's
 * match does. -S and iptables-save write the node as its mask. Measured:
 * fixtures/cli/ext-cluster.case, fixtures/kernel/128-cluster.scn.
 */
import { SimError, paramProblem } from '../../errors.js';
import { jhash1, rawBe32, reciprocalScale } from '../../net/jhash.js';
import type { MatchExtension } from '../types.js';

const O_TOTAL_NODES = 0;
const O_LOCAL_NODE = 1;
const O_LOCAL_NODEMASK = 2;
const O_HASH_SEED = 3;
/** XT_CLUSTER_NODES_MAX */
const NODES_MAX = 32;

export interface ClusterData {
  totalNodes: number;
  nodeMask: number;
  hashSeed: number;
  invert: boolean;
}

const hex8 = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
const bit = (id: number): number => 1 << id;

export const cluster: MatchExtension<ClusterData> = {
  kind: 'match',
  name: 'cluster',
  // cluster_help() of libxt_cluster.c, byte for byte as iptables 1.8.9 prints it
  help:
    'cluster match options:\n' +
    '  --cluster-total-nodes <num>\t\tSet number of total nodes in cluster\n' +
    '  [!] --cluster-local-node <num>\tSet the local node number\n' +
    '  [!] --cluster-local-nodemask <num>\tSet the local node mask\n' +
    '  --cluster-hash-seed <num>\t\tSet seed value of the Jenkins hash\n',
  options: [
    { name: 'cluster-total-nodes', id: O_TOTAL_NODES, type: 'uint32', min: 1, max: NODES_MAX, mandatory: true },
    { name: 'cluster-local-node', id: O_LOCAL_NODE, type: 'uint32', min: 1, max: NODES_MAX, invert: true, excl: [O_LOCAL_NODEMASK] },
    // (the mask has the node number's range too: 1-32, measured)
    { name: 'cluster-local-nodemask', id: O_LOCAL_NODEMASK, type: 'uint32', min: 1, max: NODES_MAX, invert: true, excl: [O_LOCAL_NODE] },
    { name: 'cluster-hash-seed', id: O_HASH_SEED, type: 'uint32', mandatory: true },
  ],
  init: () => ({ totalNodes: 0, nodeMask: 0, hashSeed: 0, invert: false }),
  parse({ entry, val, invert, data }) {
    const v = val.num!;
    if (entry.id === O_TOTAL_NODES) data.totalNodes = v;
    else if (entry.id === O_HASH_SEED) data.hashSeed = v;
    else {
      data.nodeMask = entry.id === O_LOCAL_NODE ? (1 << (v - 1)) >>> 0 : v;
      if (invert) data.invert = true;
    }
  },
  // cluster_check(): the node against the number of nodes once all three are given
  finalCheck({ xflags, data }) {
    const given = (...ids: number[]): boolean => ids.every((id) => xflags & bit(id));
    const tooBig = data.nodeMask >= 2 ** data.totalNodes;
    if (given(O_TOTAL_NODES, O_LOCAL_NODE, O_HASH_SEED)) {
      if (tooBig) throw paramProblem("cluster match: `--cluster-local-node' must be <= `--cluster-total-nodes'");
      return;
    }
    if (given(O_TOTAL_NODES, O_LOCAL_NODEMASK, O_HASH_SEED)) {
      if (tooBig) throw paramProblem("cluster match: `--cluster-local-nodemask' too big for `--cluster-total-nodes'");
      return;
    }
    if (!(xflags & (bit(O_LOCAL_NODE) | bit(O_LOCAL_NODEMASK)))) throw paramProblem("cluster match: `--cluster-local-node' or`--cluster-local-nodemask' is missing");
  },
  print: (d) => ` cluster ${d.invert ? '!' : ''}node_mask=${hex8(d.nodeMask)} total_nodes=${d.totalNodes} hash_seed=${hex8(d.hashSeed)}`,
  save: (d) => `${d.invert ? ' !' : ''} --cluster-local-nodemask ${hex8(d.nodeMask)} --cluster-total-nodes ${d.totalNodes} --cluster-hash-seed ${hex8(d.hashSeed)}`,
  // xt_cluster_mt()
  match(d, pkt) {
    if (pkt.pktType === 'multicast' && (pkt.dst >>> 28) !== 0xe) pkt.pktType = 'unicast';
    const ct = pkt.ct;
    if (!ct || ct.state === 'INVALID' || ct.state === 'UNTRACKED') return false;
    // an expected connection is hashed by its master's address, which the lab's entries do not keep
    if (ct.status.includes('EXPECTED')) throw new SimError("cannot trace through the cluster match for an expected connection: the emulator does not keep its master connection's address, which the kernel hashes", 3);
    const node = reciprocalScale(jhash1(rawBe32(ct.orig.src), d.hashSeed), d.totalNodes);
    return ((2 ** node) & d.nodeMask) !== 0 ? !d.invert : d.invert;
  },
};
