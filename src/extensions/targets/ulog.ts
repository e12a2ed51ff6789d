/**
 * ULOG target (libipt_ULOG.c of iptables 1.8.9). iptables still ships the extension, but its
 * kernel module (ipt_ULOG) was removed in Linux 3.17: nft_compat answers iptables' revision probe
 * with ENOENT, so iptables warns when it loads the target, parses and checks the options as
 * usual, and the kernel refuses every rule using it with ENOENT (measured, fixtures/cli/ulog.case).
 * -C and -D compare in userspace only: they parse and find no such rule.
 * print/save are kept as the C code writes them although no rule can carry ULOG.
 */
import { paramProblem } from '../../errors.js';
import type { TargetExtension } from '../types.js';
import { saveString } from '../util/save-string.js';

const O_NLGROUP = 0;
const O_PREFIX = 1;
const O_CPRANGE = 2;
const O_QTHR = 3;

/** ipt_ULOG.h */
const ULOG_DEFAULT_NLGROUP = 1;
const ULOG_DEFAULT_QTHRESHOLD = 1;
const ULOG_PREFIX_LEN = 32;
const ULOG_MAX_QLEN = 50;

/** struct ipt_ulog_info */
export interface UlogData {
  /** nl_group: a bit mask, 1 << (group - 1) */
  nlGroup: number;
  /** copy_range: a size_t, kept as decimal text (the full 64 bits count for -C/-D) */
  copyRange: string;
  qthreshold: number;
  prefix: string;
}

/** ffs(): the 1-based index of the lowest set bit, 0 for 0 */
function ffs(v: number): number {
  for (let i = 0; i < 32; i++) if (Math.floor(v / 2 ** i) % 2) return i + 1;
  return 0;
}

/** printf("%u", (unsigned int)x) of a size_t */
function asUint(dec: string): string {
  return String(BigInt(dec) & 0xffffffffn);
}

export const ULOG: TargetExtension<UlogData> = {
  kind: 'target',
  name: 'ULOG',
  // IPv4 only (libipt_*)
  family: 4,
  revision: 0,
  missingKernelModule: "ULOG's kernel module (ipt_ULOG) was removed in Linux 3.17; NFLOG logs to userspace instead",
  // ULOG_help() of libipt_ULOG.c, byte for byte as iptables 1.8.9 prints it
  help:
    'ULOG target options:\n' +
    ' --ulog-nlgroup nlgroup\t\tNETLINK group used for logging\n' +
    ' --ulog-cprange size\t\tBytes of each packet to be passed\n' +
    ' --ulog-qthreshold\t\tThreshold of in-kernel queue\n' +
    ' --ulog-prefix prefix\t\tPrefix log messages with this prefix.\n',
  options: [
    { name: 'ulog-nlgroup', id: O_NLGROUP, type: 'uint8', min: 1, max: 32 },
    { name: 'ulog-prefix', id: O_PREFIX, type: 'string', min: 1, size: ULOG_PREFIX_LEN },
    { name: 'ulog-cprange', id: O_CPRANGE, type: 'uint64' },
    { name: 'ulog-qthreshold', id: O_QTHR, type: 'uint64', min: 1, max: ULOG_MAX_QLEN },
  ],
  init: () => ({ nlGroup: ULOG_DEFAULT_NLGROUP, copyRange: '0', qthreshold: ULOG_DEFAULT_QTHRESHOLD, prefix: '' }),
  parse({ entry, arg, val, data }) {
    switch (entry.id) {
      case O_NLGROUP:
        data.nlGroup = 2 ** (val.num! - 1);
        break;
      case O_PREFIX:
        if (arg!.includes('\n')) throw paramProblem('Newlines not allowed in --ulog-prefix');
        data.prefix = val.str!;
        break;
      case O_CPRANGE:
        data.copyRange = val.big!.toString();
        break;
      case O_QTHR:
        data.qthreshold = val.num!;
        break;
    }
  },
  print(d) {
    let s = ` ULOG copy_range ${asUint(d.copyRange)} nlgroup ${ffs(d.nlGroup)}`;
    if (d.prefix !== '') s += ` prefix "${d.prefix}"`;
    return s + ` queue_threshold ${d.qthreshold}`;
  },
  save(d) {
    let s = '';
    if (d.prefix !== '') s += ` --ulog-prefix${saveString(d.prefix)}`;
    if (d.nlGroup !== ULOG_DEFAULT_NLGROUP) s += ` --ulog-nlgroup ${ffs(d.nlGroup)}`;
    if (d.copyRange !== '0') s += ` --ulog-cprange ${asUint(d.copyRange)}`;
    if (d.qthreshold !== ULOG_DEFAULT_QTHRESHOLD) s += ` --ulog-qthreshold ${d.qthreshold}`;
    return s;
  },
};
