/**
 * SECMARK and CONNSECMARK targets (libxt_SECMARK.c, libxt_CONNSECMARK.c of iptables 1.8.9, both
 * families; the kernel takes them in the mangle and security tables only). SECMARK sets a packet's
 * security mark from an SELinux context, which the kernel resolves when the rule is added: the
 * kernel the lab models has no SELinux policy, so every SECMARK rule is refused with ENOENT, as on
 * the measured Linux 6.18 (fixtures/cli/ext-secmark.case). Security marks in the lab are therefore
 * always 0, and CONNSECMARK, which copies them between a packet and its connection, changes
 * nothing; its rules are kept, listed and saved as iptables does.
 */
import { paramProblem } from '../../errors.js';
import type { TargetExtension } from '../types.js';

const SECMARK_TABLES = ['mangle', 'security'];

/** struct xt_secmark_target_info (SECMARK_MODE_SEL) */
export interface SecmarkData {
  selctx: string;
}

export const SECMARK: TargetExtension<SecmarkData> = {
  kind: 'target',
  name: 'SECMARK',
  tables: SECMARK_TABLES,
  // SECMARK_help() of libxt_SECMARK.c
  help: 'SECMARK target options:\n  --selctx value                     Set the SELinux security context\n',
  options: [{ name: 'selctx', id: 0, type: 'string', mandatory: true }],
  init: () => ({ selctx: '' }),
  parse({ arg, data }) {
    data.selctx = arg!;
  },
  // secmark_tg_check(): security_secctx_to_secid() finds no LSM to ask
  kernelCheck: () => ({ errno: 'No such file or directory', why: 'the kernel the lab models has no SELinux policy to turn the context into a security mark (Linux 6.18 here: measured)' }),
  print: (d) => ` SECMARK selctx ${d.selctx}`,
  save: (d) => ` --selctx ${d.selctx}`,
};

const O_SAVE = 0;
const O_RESTORE = 1;

/** struct xt_connsecmark_target_info: CONNSECMARK_SAVE (1) or CONNSECMARK_RESTORE (2) */
export interface ConnsecmarkData {
  mode: 'save' | 'restore';
}

export const CONNSECMARK: TargetExtension<ConnsecmarkData> = {
  kind: 'target',
  name: 'CONNSECMARK',
  tables: SECMARK_TABLES,
  // CONNSECMARK_help() of libxt_CONNSECMARK.c
  help:
    'CONNSECMARK target options:\n' +
    '  --save                   Copy security mark from packet to conntrack\n' +
    '  --restore                Copy security mark from connection to packet\n',
  options: [
    { name: 'save', id: O_SAVE, type: 'none', excl: [O_RESTORE] },
    { name: 'restore', id: O_RESTORE, type: 'none', excl: [O_SAVE] },
  ],
  init: () => ({ mode: 'save' }),
  parse({ entry, data }) {
    data.mode = entry.id === O_SAVE ? 'save' : 'restore';
  },
  finalCheck({ xflags }) {
    if (xflags === 0) throw paramProblem('CONNSECMARK target: parameter required');
  },
  print: (d) => ` CONNSECMARK ${d.mode}`,
  save: (d) => ` --${d.mode}`,
  apply: (d) => ({
    verdict: 'CONTINUE',
    note: `CONNSECMARK --${d.mode}: security marks are 0 in the lab (its kernel has no SELinux policy, so no SECMARK rule can set one): nothing changes`,
  }),
};
