/**
 * AUDIT target (libxt_AUDIT.c, xt_AUDIT): writes an audit record (NETFILTER_PKT) of the given type
 * and lets the packet go on. Measured: fixtures/cli/ext-more.case.
 */
import { paramProblem } from '../../errors.js';
import type { TargetExtension } from '../types.js';

export interface AuditData {
  type: 'accept' | 'drop' | 'reject';
}

export const AUDIT: TargetExtension<AuditData> = {
  kind: 'target',
  name: 'AUDIT',
  // audit_help() of libxt_AUDIT.c
  help: 'AUDIT target options\n  --type TYPE\t\tAction type to be recorded.\n',
  options: [{ name: 'type', id: 0, type: 'string', mandatory: true }],
  init: () => ({ type: 'accept' }),
  parse({ arg, data }) {
    const t = arg!.toLowerCase();
    if (t !== 'accept' && t !== 'drop' && t !== 'reject') throw paramProblem(`Bad action type value "${arg}"`);
    data.type = t;
  },
  print: (d) => ` AUDIT ${d.type}`,
  save: (d) => ` --type ${d.type}`,
  apply: (d) => ({ verdict: 'CONTINUE', note: `AUDIT: an audit record of type ${d.type} (when the kernel's audit is on); the packet goes on` }),
};
