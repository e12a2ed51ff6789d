/**
 * helper match (libxt_helper.c, xt_helper): [!] --helper NAME, the conntrack helper of the
 * connection this one was expected by. The name is cut to 29 characters (char name[30]).
 */
import type { MatchExtension } from '../types.js';
import { saveString } from '../util/save-string.js';

export interface HelperData {
  name: string;
  invert?: boolean;
}

export const helper: MatchExtension<HelperData> = {
  kind: 'match',
  name: 'helper',
  // helper_help() of libxt_helper.c, byte for byte as iptables 1.8.9 prints it
  help:
    'helper match options:\n' +
    '[!] --helper string        Match helper identified by string\n',
  options: [{ name: 'helper', id: 0, type: 'string', invert: true, mandatory: true, size: 30 }],
  init: () => ({ name: '' }),
  parse({ val, invert, data }) {
    data.name = val.str!;
    if (invert) data.invert = true;
  },
  print: (d) => ` helper match ${d.invert ? '! ' : ''}"${d.name}"`,
  save: (d) => `${d.invert ? ' !' : ''} --helper${saveString(d.name)}`,
  /**
   * helper_mt(): no ct, no master or a master without helper gives `invert`; an empty name
   * matches any helper; otherwise strncmp(helper->name, name, strlen(helper->name)), so the
   * rule's name only has to start with the helper's name ("ftp-21" matches helper "ftp").
   * Only connections created from an expectation (status EXPECTED) have a master; the view's
   * `helper` of such a connection is taken as its master's helper.
   */
  match(d, pkt) {
    const inv = !!d.invert;
    const ct = pkt.ct;
    if (!ct || ct.state === 'INVALID' || ct.state === 'UNTRACKED') return inv;
    if (!ct.status.includes('EXPECTED') || ct.helper === undefined) return inv;
    if (d.name === '') return !inv;
    return d.name.startsWith(ct.helper) !== inv;
  },
};
