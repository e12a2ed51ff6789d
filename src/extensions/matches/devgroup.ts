/**
 * devgroup match (libxt_devgroup.c, xt_devgroup): the device group of the interface a packet came
 * in by (--src-group) or goes out by (--dst-group), value[/mask] or a name from
 * /etc/iproute2/group. The lab's interfaces are all in group 0 ("default"), as a new device is.
 * Measured: fixtures/cli/ext-more.case, fixtures/kernel/116-realm-audit.scn.
 */
import { paramProblem } from '../../errors.js';
import { parseValMask, printValMask } from '../util/val-mask.js';
import type { MatchExtension } from '../types.js';

const O_SRC = 0;
const O_DST = 1;

export interface DevgroupData {
  src?: { group: number; mask: number; invert: boolean };
  dst?: { group: number; mask: number; invert: boolean };
}

/** /etc/iproute2/group of the recording machine (iproute2 6.1, Debian 12) */
const GROUPS = new Map<number, string>([[0, 'default']]);

/** every interface of the lab is in group 0 */
const LAB_GROUP = 0;

function show(prefix: string, d: DevgroupData, names: ReadonlyMap<number, string> | undefined): string {
  let s = '';
  for (const [key, t] of [['src', d.src], ['dst', d.dst]] as const) {
    if (t) s += `${t.invert ? ' !' : ''} ${prefix}${key}-group${printValMask(t.group, t.mask, names)}`;
  }
  return s;
}

export const devgroup: MatchExtension<DevgroupData> = {
  kind: 'match',
  name: 'devgroup',
  // devgroup_help() of libxt_devgroup.c
  help:
    'devgroup match options:\n' +
    '[!] --src-group value[/mask]\tMatch device group of incoming device\n' +
    '[!] --dst-group value[/mask]\tMatch device group of outgoing device\n',
  options: [
    { name: 'src-group', id: O_SRC, type: 'string', invert: true },
    { name: 'dst-group', id: O_DST, type: 'string', invert: true },
  ],
  init: () => ({}),
  parse({ entry, arg, invert, data }) {
    const { value, mask } = parseValMask('devgroup', entry.name, arg!, GROUPS);
    data[entry.id === O_SRC ? 'src' : 'dst'] = { group: value, mask, invert: !!invert };
  },
  finalCheck({ xflags }) {
    if (xflags === 0) throw paramProblem("devgroup match: You must specify either '--src-group' or '--dst-group'");
  },
  print: (d, { numeric }) => show('', d, numeric ? undefined : GROUPS),
  save: (d) => show('--', d, GROUPS),
  // devgroup_mt_checkentry(): an incoming device only where there is one, an outgoing one likewise
  kernelCheck(d, { hooks }) {
    if (d.src && hooks.some((h) => h === 'OUTPUT' || h === 'POSTROUTING')) return 'devgroup: --src-group only in PREROUTING, INPUT and FORWARD (no incoming device elsewhere)';
    if (d.dst && hooks.some((h) => h === 'PREROUTING' || h === 'INPUT')) return 'devgroup: --dst-group only in FORWARD, OUTPUT and POSTROUTING (no outgoing device elsewhere)';
    return undefined;
  },
  // devgroup_mt(): ((group ^ dev->group) & mask) != 0, xor invert, fails the match
  match(d) {
    for (const t of [d.src, d.dst]) if (t && (((t.group ^ LAB_GROUP) & t.mask) !== 0) !== t.invert) return false;
    return true;
  },
};
