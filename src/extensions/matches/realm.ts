/**
 * realm match (libipt_realm.c, xt_realm): the routing realm of the packet's route (`ip route ...
 * realm N`), value[/mask] or a name from /etc/iproute2/rt_realms. IPv4 only; the kernel takes it
 * after routing (not in PREROUTING). The lab's routes have no realms: every route's is 0.
 * Measured: fixtures/cli/ext-more.case.
 */
import { parseValMask, printValMask } from '../util/val-mask.js';
import type { MatchExtension } from '../types.js';

export interface RealmData {
  id: number;
  mask: number;
  invert: boolean;
}

/**
 * /etc/iproute2/rt_realms of the recording machine (iproute2 6.1, Debian 12): only "0 cosmos" is
 * not commented out (xtables_lmap_init())
 */
const REALMS = new Map<number, string>([[0, 'cosmos']]);

export const realm: MatchExtension<RealmData> = {
  kind: 'match',
  name: 'realm',
  family: 4,
  // realm_help() of libipt_realm.c
  help: 'realm match options:\n[!] --realm value[/mask]\n\t\t\t\tMatch realm\n',
  options: [{ name: 'realm', id: 0, type: 'string', invert: true, mandatory: true }],
  init: () => ({ id: 0, mask: 0xffffffff, invert: false }),
  parse({ arg, invert, data }) {
    const { value, mask } = parseValMask('realm', 'realm', arg!, REALMS);
    data.id = value;
    data.mask = mask;
    if (invert) data.invert = true;
  },
  // realm_print(): the name only when not numeric; realm_save() always uses it
  print: (d, { numeric }) => `${d.invert ? ' !' : ''} realm${printValMask(d.id, d.mask, numeric ? undefined : REALMS)}`,
  save: (d) => `${d.invert ? ' !' : ''} --realm${printValMask(d.id, d.mask, REALMS)}`,
  // xt_realm: .hooks = POST_ROUTING | FORWARD | LOCAL_OUT | LOCAL_IN
  hooks: ['POSTROUTING', 'FORWARD', 'OUTPUT', 'INPUT'],
  // realm_mt(): (id == (dst->tclassid & mask)) ^ invert; no lab route has a realm (tclassid 0)
  match: (d) => (d.id === 0) !== d.invert,
};
