/**
 * owner match, revision 1 (libxt_owner, xt_owner): the sending socket's file credentials.
 * --uid-owner / --gid-owner take a name or "id[-id]", --socket-exists, --suppl-groups.
 * The kernel registers it for OUTPUT and POSTROUTING only.
 */
import { paramProblem } from '../../errors.js';
import { xtStrtoul } from '../../util/strtoul.js';
import { groupById, groupByName, userById, userByName } from '../util/passwd.js';
import { paramAct } from '../xtoptions.js';
import type { MatchExtension, OptionEntry } from '../types.js';

export interface OwnerData {
  uid?: [number, number];
  gid?: [number, number];
  socket?: boolean;
  supplGroups?: boolean;
  invUid?: boolean;
  invGid?: boolean;
  invSocket?: boolean;
}

const O_USER = 0;
const O_GROUP = 1;
const O_SOCK_EXISTS = 2;
const O_SUPPL_GROUPS = 6;

const opts: OptionEntry[] = [
  { name: 'uid-owner', id: O_USER, type: 'string', invert: true },
  { name: 'gid-owner', id: O_GROUP, type: 'string', invert: true },
  { name: 'socket-exists', id: O_SOCK_EXISTS, type: 'none', invert: true },
  { name: 'suppl-groups', id: O_SUPPL_GROUPS, type: 'none' },
];

/** UINT32_MAX is the kernel's invalid id, so ids stop one below it */
const ID_MAX = 0xfffffffe;

/** owner_parse_range(): "a", "a-b" or "a:b", numbers with base 0 */
function parseRange(s: string, opt: string): [number, number] {
  const bad = () => paramAct.badValue('owner', opt, s);
  const from = xtStrtoul(s, 0, ID_MAX, true);
  if (!from.ok) throw bad();
  let end = from.end;
  let to = Number(from.value);
  if (s[end] === '-' || s[end] === ':') {
    const rest = s.slice(end + 1);
    const r = xtStrtoul(rest, 0, ID_MAX, true);
    if (!r.ok) throw bad();
    to = Number(r.value);
    end += 1 + r.end;
  }
  if (end !== s.length) throw bad();
  return [Number(from.value), to];
}

function idText(r: [number, number], numeric: boolean, name: (id: number) => string | undefined): string {
  if (r[0] !== r[1]) return `${r[0]}-${r[1]}`;
  return (numeric ? undefined : name(r[0])) ?? String(r[0]);
}

/** owner_mt_print_item() for each flag in the order the C code prints them */
function items(d: OwnerData, labels: [string, string, string, string], numeric: boolean): string {
  let s = '';
  if (d.socket) s += `${d.invSocket ? ' !' : ''} ${labels[0]}`;
  if (d.uid) s += `${d.invUid ? ' !' : ''} ${labels[1]} ${idText(d.uid, numeric, userById)}`;
  if (d.gid) s += `${d.invGid ? ' !' : ''} ${labels[2]} ${idText(d.gid, numeric, groupById)}`;
  if (d.supplGroups) s += ` ${labels[3]}`;
  return s;
}

const inRange = (id: number, r: [number, number]) => id >= r[0] && id <= r[1];

export const owner: MatchExtension<OwnerData> = {
  kind: 'match',
  name: 'owner',
  revision: 1,
  // owner_mt_help() of libxt_owner.c, byte for byte as iptables 1.8.9 prints it
  help:
    'owner match options:\n' +
    '[!] --uid-owner userid[-userid]      Match local UID\n' +
    '[!] --gid-owner groupid[-groupid]    Match local GID\n' +
    '[!] --socket-exists                  Match if socket exists\n' +
    '    --suppl-groups                   Also match supplementary groups set with --gid-owner\n',
  options: opts,
  init: () => ({}),
  parse({ entry, arg, invert, data }) {
    switch (entry.id) {
      case O_USER: {
        const uid = userByName(arg!);
        data.uid = uid !== undefined ? [uid, uid] : parseRange(arg!, '--uid-owner');
        if (invert) data.invUid = true;
        break;
      }
      case O_GROUP: {
        const gid = groupByName(arg!);
        data.gid = gid !== undefined ? [gid, gid] : parseRange(arg!, '--gid-owner');
        if (invert) data.invGid = true;
        break;
      }
      case O_SOCK_EXISTS:
        data.socket = true;
        if (invert) data.invSocket = true;
        break;
      case O_SUPPL_GROUPS:
        if (!data.gid) throw paramAct.badValue('owner', '--suppl-groups', 'you need to use --gid-owner first');
        data.supplGroups = true;
        break;
    }
  },
  finalCheck({ xflags }) {
    if (xflags === 0) throw paramProblem('owner: At least one of --uid-owner, --gid-owner or --socket-exists is required');
  },
  print: (d, { numeric }) => items(d, ['owner socket exists', 'owner UID match', 'owner GID match', 'incl. suppl. groups'], numeric),
  save: (d) => items(d, ['--socket-exists', '--uid-owner', '--gid-owner', '--suppl-groups'], true),
  // xt_owner's .hooks and owner_check(): ranges must not be reversed
  // xt_owner's .hooks
  hooks: ['OUTPUT', 'POSTROUTING'],
  kernelCheck(d) {
    if (d.uid && d.uid[1] < d.uid[0]) return `owner: reversed uid range ${d.uid[0]}-${d.uid[1]}`;
    if (d.gid && d.gid[1] < d.gid[0]) return `owner: reversed gid range ${d.gid[0]}-${d.gid[1]}`;
    return undefined;
  },
  /**
   * owner_mt(). Without a local socket (forwarded packets, replies the kernel sends itself) the
   * rule matches only when every given test is inverted. Sockets always have a file here: the
   * lab has no sockets detached from their file (time-wait, RST replies).
   */
  match(d, pkt) {
    const o = pkt.owner;
    // (match ^ invert) == 0: --suppl-groups is a match bit that is never inverted
    if (!o) return !!d.socket === !!d.invSocket && !!d.uid === !!d.invUid && !!d.gid === !!d.invGid && !d.supplGroups;
    if (d.socket && d.invSocket) return false;
    if (d.uid && inRange(o.uid, d.uid) === !!d.invUid) return false;
    if (d.gid) {
      let hit = inRange(o.gid, d.gid);
      if (!hit && d.supplGroups) hit = (o.supplementaryGids ?? []).some((g) => inRange(g, d.gid!));
      if (hit === !!d.invGid) return false;
    }
    return true;
  },
};
