/**
 * comment match (libxt_comment): --comment TEXT, at most 255 characters (longer is cut, as the
 * C buffer cuts it). Always matches.
 */
import type { MatchExtension } from '../types.js';
import { saveString } from '../util/save-string.js';

export const comment: MatchExtension<{ comment: string }> = {
  kind: 'match',
  name: 'comment',
  // comment_help() of libxt_comment.c, byte for byte as iptables 1.8.9 prints it
  help:
    'comment match options:\n' +
    '--comment COMMENT             Attach a comment to a rule\n',
  options: [{ name: 'comment', id: 0, type: 'string', mandatory: true, size: 256 }],
  init: () => ({ comment: '' }),
  parse({ val, data }) {
    data.comment = val.str!;
  },
  print: (d) => ` /* ${d.comment} */`,
  save: (d) => ` --comment${saveString(d.comment)}`,
  match: () => true,
};
