/**
 * NFLOG target (libxt_NFLOG.c of iptables 1.8.9). iptables-nft does not send it to the kernel as
 * an xt target: nft.c add_log() turns it into a native nft `log` expression (group, prefix,
 * snaplen, queue threshold) and nft-shared.c nft_parse_log() rebuilds the NFLOG target from it
 * when listing. What does not fit the expression is lost on the way:
 *  - --nflog-range (a length without XT_NFLOG_F_COPY_LEN) is never sent, so it reads back as 0;
 *  - the prefix comes from the 128-byte user data (NF_LOG_PREFIXLEN), not from the 64-byte
 *    xt_nflog_info field, so up to 127 characters survive.
 */
import { paramProblem } from '../../errors.js';
import type { TargetExtension } from '../types.js';
import { saveString } from '../util/save-string.js';

const O_GROUP = 0;
const O_PREFIX = 1;
const O_RANGE = 2;
const O_SIZE = 3;
const O_THRESHOLD = 4;

export interface NflogData {
  group: number;
  prefix: string;
  /** --nflog-size (copyLen) or --nflog-range (not copyLen) */
  len: number;
  /** XT_NFLOG_F_COPY_LEN */
  copyLen: boolean;
  threshold: number;
}

/** XT_NFLOG_DEFAULT_THRESHOLD */
const DEFAULT_THRESHOLD = 0;

function nflogPrint(d: NflogData, dashes: string): string {
  let s = '';
  if (d.prefix !== '') s += ` ${dashes}nflog-prefix${saveString(d.prefix)}`;
  if (d.group) s += ` ${dashes}nflog-group ${d.group}`;
  if (d.copyLen) s += ` ${dashes}nflog-size ${d.len}`;
  else if (d.len) s += ` ${dashes}nflog-range ${d.len}`;
  if (d.threshold !== DEFAULT_THRESHOLD) s += ` ${dashes}nflog-threshold ${d.threshold}`;
  return s;
}

export const NFLOG: TargetExtension<NflogData> = {
  kind: 'target',
  name: 'NFLOG',
  revision: 0,
  // NFLOG_help() of libxt_NFLOG.c, byte for byte as iptables 1.8.9 prints it
  help:
    'NFLOG target options:\n' +
    ' --nflog-group NUM\t\tNETLINK group used for logging\n' +
    ' --nflog-range NUM\t\tThis option has no effect, use --nflog-size\n' +
    ' --nflog-size NUM\t\tNumber of bytes to copy\n' +
    ' --nflog-threshold NUM\t\tMessage threshold of in-kernel queue\n' +
    ' --nflog-prefix STRING\t\tPrefix string for log messages\n',
  options: [
    { name: 'nflog-group', id: O_GROUP, type: 'uint16' },
    // the prefix kept is the one NFLOG_parse() copies into the NF_LOG_PREFIXLEN (128) user data
    { name: 'nflog-prefix', id: O_PREFIX, type: 'string', min: 1, size: 128 },
    { name: 'nflog-range', id: O_RANGE, type: 'uint32', excl: [O_SIZE] },
    { name: 'nflog-size', id: O_SIZE, type: 'uint32', excl: [O_RANGE] },
    { name: 'nflog-threshold', id: O_THRESHOLD, type: 'uint16' },
  ],
  init: () => ({ group: 0, prefix: '', len: 0, copyLen: false, threshold: DEFAULT_THRESHOLD }),
  parse({ entry, arg, val, data }) {
    switch (entry.id) {
      case O_GROUP:
        data.group = val.num!;
        break;
      case O_PREFIX:
        if (arg!.includes('\n')) throw paramProblem('Newlines not allowed in --log-prefix');
        data.prefix = val.str!;
        break;
      case O_RANGE:
      case O_SIZE:
        data.len = val.num!;
        break;
      case O_THRESHOLD:
        data.threshold = val.num!;
        break;
    }
  },
  finalCheck({ data, xflags, warn }) {
    if (xflags & (1 << O_RANGE)) {
      warn?.('warn: --nflog-range has never worked and is no longer supported, please use --nflog-size instead\n');
    }
    if (xflags & (1 << O_SIZE)) data.copyLen = true;
  },
  print: (d) => nflogPrint(d, ''),
  save: (d) => nflogPrint(d, '--'),
  // add_log() sends group, prefix, snaplen (with COPY_LEN only) and threshold (when non-zero);
  // nft_parse_log() reads back exactly those
  canonicalize(d) {
    return { ...d, len: d.copyLen ? d.len : 0 };
  },
  // nft_log_eval(): nf_log_packet() to the nfnetlink_log group, then the rule goes on
  apply: (d) => ({ verdict: 'CONTINUE', log: { kind: 'NFLOG', prefix: d.prefix, group: d.group } }),
};
