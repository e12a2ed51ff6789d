/**
 * frag match (libip6t_frag.c, ip6t_frag): the IPv6 fragment header's id (range), length, reserved
 * field, first / more / last fragment. ip6tables only; the lab keeps such rules but runs no IPv6
 * packets (no match()). What ip6tables says instead of `-f` ("use -m frag instead").
 */
import { rangeOf } from '../xtoptions.js';
import type { MatchExtension } from '../types.js';

const O_ID = 0;
const O_LEN = 1;
const O_RES = 2;
const O_FIRST = 3;
const O_MORE = 4;
const O_LAST = 5;

export interface FragData {
  /** ids[0..1]; 0:0xffffffff when not given */
  ids: [number, number];
  invIds?: boolean;
  len?: number;
  invLen?: boolean;
  res?: boolean;
  first?: boolean;
  more?: boolean;
  last?: boolean;
}

/** skip_ids_match(): the full range, not inverted, is not shown */
const allIds = (d: FragData): boolean => d.ids[0] === 0 && d.ids[1] === 0xffffffff && !d.invIds;

const idText = (d: FragData): string => (d.ids[0] === d.ids[1] ? `${d.ids[0]}` : `${d.ids[0]}:${d.ids[1]}`);

export const frag: MatchExtension<FragData> = {
  kind: 'match',
  name: 'frag',
  family: 6,
  // frag_help() of libip6t_frag.c
  help:
    'frag match options:\n' +
    '[!] --fragid id[:id]           match the id (range)\n' +
    '[!] --fraglen length           total length of this header\n' +
    ' --fragres                     check the reserved field too\n' +
    ' --fragfirst                   matches on the first fragment\n' +
    ' [--fragmore|--fraglast]       there are more fragments or this\n' +
    '                               is the last one\n',
  options: [
    { name: 'fragid', id: O_ID, type: 'uint32rc', invert: true },
    { name: 'fraglen', id: O_LEN, type: 'uint32', invert: true },
    { name: 'fragres', id: O_RES, type: 'none' },
    { name: 'fragfirst', id: O_FIRST, type: 'none' },
    { name: 'fragmore', id: O_MORE, type: 'none', excl: [O_LAST] },
    { name: 'fraglast', id: O_LAST, type: 'none', excl: [O_MORE] },
  ],
  // frag_init(): the id range starts full
  init: () => ({ ids: [0, 0xffffffff] }),
  parse({ entry, val, invert, data }) {
    switch (entry.id) {
      case O_ID:
        data.ids = rangeOf(val);
        if (invert) data.invIds = true;
        break;
      case O_LEN:
        data.len = val.num!;
        if (invert) data.invLen = true;
        break;
      case O_RES:
        data.res = true;
        break;
      case O_FIRST:
        data.first = true;
        break;
      case O_MORE:
        data.more = true;
        break;
      case O_LAST:
        data.last = true;
        break;
    }
  },
  // frag_print(): " frag " and then each part with its own leading space
  print(d) {
    let s = ' frag ';
    if (!allIds(d)) s += d.ids[0] === d.ids[1] ? `id:${d.invIds ? '!' : ''}${d.ids[0]}` : `ids:${d.invIds ? '!' : ''}${d.ids[0]}:${d.ids[1]}`;
    if (d.len !== undefined) s += ` length:${d.invLen ? '!' : ''}${d.len}`;
    if (d.res) s += ' reserved';
    if (d.first) s += ' first';
    if (d.more) s += ' more';
    if (d.last) s += ' last';
    return s;
  },
  save(d) {
    let s = '';
    if (!allIds(d)) s += `${d.invIds ? ' !' : ''} --fragid ${idText(d)}`;
    if (d.len !== undefined) s += `${d.invLen ? ' !' : ''} --fraglen ${d.len}`;
    if (d.res) s += ' --fragres';
    if (d.first) s += ' --fragfirst';
    if (d.more) s += ' --fragmore';
    if (d.last) s += ' --fraglast';
    return s;
  },
};
