/**
 * The kernel's reference count of a set: one for every set match and every --add-set and
 * --del-set of a SET target that names it (xt_set's checkentry takes a reference, the rule's
 * deletion gives it back), over all of the host's tables, and one for every list:set holding it.
 * `ipset list` prints it; destroy and rename refuse a set that has any.
 */
import { rulesOnce, type Tables } from '../ruleset/tables.js';
import type { Host } from './lab.js';

function count(tables: Tables | undefined, name: string): number {
  let n = 0;
  for (const t of Object.values(tables ?? {})) {
    for (const c of t!.chains) {
      for (const r of rulesOnce(c)) {
        for (const m of r.matches) if (m.name === 'set' && (m.data as { name: string }).name === name) n++;
        const target = r.target;
        if (target?.kind === 'ext' && target.name === 'SET') {
          const d = target.data as { add: { name: string; dim: number }; del: { name: string; dim: number } };
          if (d.add.dim && d.add.name === name) n++;
          if (d.del.dim && d.del.name === name) n++;
        }
      }
    }
  }
  return n;
}

export function ipsetReferences(host: Host, name: string): number {
  // and one for every list:set it is a member of (timed-out members hold theirs until they go)
  let members = 0;
  for (const s of host.ipsets ?? []) if (s?.type === 'list:set') for (const m of s.members) if (m.name === name) members++;
  return count(host.tables, name) + count(host.tables6, name) + members;
}
