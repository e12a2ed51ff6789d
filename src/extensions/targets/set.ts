/**
 * SET target (libxt_SET revision 3, xt_set's set_target_v3): adds the packet's element to one of
 * the host's sets and/or deletes it from another (src/net/ipset.ts), then lets the packet go on.
 * --add-set with --exist renews an element already there (its timeout starts again); --timeout
 * overrides the set's default. Parsing, listing and saving are libxt_SET's, measured in
 * fixtures/cli/ext-set-target.case; the kernel's side in fixtures/kernel/118-set-target.scn.
 * --map-set (an skbinfo set's mark, priority or queue) is refused by name: the lab's sets have no
 * skbinfo.
 */
import { paramProblem } from '../../errors.js';
import { ipToString } from '../../net/ipv4.js';
import { addElem, delElem, elemKeyText, IPSET_MAX_TIMEOUT, isBitmap, type AnySet, type BitmapMember, type BitmapSet, type IpSet, type ListSet } from '../../net/ipset.js';
import { addBit, delBit } from '../../net/ipset-bitmap.js';
import { liveMembers } from '../../net/ipset-list.js';
import type { PacketView } from '../../engine/ext-api.js';
import { xtStrtoul } from '../../util/strtoul.js';
import { packetBit, packetElem, parseSetRef, setRefText } from '../matches/set.js';
import type { TargetExtension } from '../types.js';

/** a set the target names: as xt_set_info (the name standing for the kernel's index) */
interface SetRef {
  name: string;
  dim: number;
  setFlags: number;
}

export interface SetTargetData {
  add: SetRef;
  del: SetRef;
  exist: boolean;
  /** seconds; absent: the set's own default (UINT32_MAX in C) */
  timeout?: number;
}

const ADD = 1 << 0;
const DEL = 1 << 1;
const EXIST = 1 << 2;
const TIMEOUT = 1 << 3;
const MAP = 1 << 4;
const MAP_MARK = 1 << 5;
const MAP_PRIO = 1 << 6;
const MAP_QUEUE = 1 << 7;

const ref = (): SetRef => ({ name: '', dim: 0, setFlags: 0 });

function text(d: SetTargetData, sep: string): string {
  let s = '';
  if (d.add.dim) s += ` ${sep}add-set${setRefText(d.add.name, d.add.dim, d.add.setFlags)}`;
  if (d.exist) s += ` ${sep}exist`;
  if (d.timeout !== undefined) s += ` ${sep}timeout ${d.timeout}`;
  if (d.del.dim) s += ` ${sep}del-set${setRefText(d.del.name, d.del.dim, d.del.setFlags)}`;
  return s;
}

export const SET: TargetExtension<SetTargetData> = {
  kind: 'target',
  name: 'SET',
  revision: 3,
  // set_target_help_v3() of libxt_SET.c
  help:
    'SET target options:\n' +
    ' --add-set name flags [--exist] [--timeout n]\n' +
    ' --del-set name flags\n' +
    ' --map-set name flags [--map-mark] [--map-prio] [--map-queue]\n' +
    '\t\tadd/del src/dst IP/port from/to named sets,\n' +
    '\t\twhere flags are the comma separated list of\n' +
    "\t\t'src' and 'dst' specifications.\n",
  options: [
    { name: 'add-set', id: 0, type: 'raw', hasArg: 1, extraArgs: 1 },
    { name: 'del-set', id: 1, type: 'raw', hasArg: 1, extraArgs: 1 },
    { name: 'exist', id: 2, type: 'raw', hasArg: 0 },
    { name: 'timeout', id: 3, type: 'raw', hasArg: 1 },
    { name: 'map-set', id: 4, type: 'raw', hasArg: 1, extraArgs: 1 },
    { name: 'map-mark', id: 5, type: 'raw', hasArg: 0 },
    { name: 'map-prio', id: 6, type: 'raw', hasArg: 0 },
    { name: 'map-queue', id: 7, type: 'raw', hasArg: 0 },
  ],
  init: () => ({ add: ref(), del: ref(), exist: false }),
  parse(call) {
    const { entry, arg, data } = call;
    switch (entry.name) {
      case 'add-set':
        parseSetRef(call, 'add-set', data.add);
        break;
      case 'del-set':
        parseSetRef(call, 'del-set', data.del);
        break;
      case 'exist':
        data.exist = true;
        break;
      case 'timeout': {
        const r = xtStrtoul(arg!, 0, 0xfffffffe);
        if (!r.ok) throw paramProblem('Invalid value for option --timeout or out of range 0-4294967294');
        data.timeout = Number(r.value);
        break;
      }
      case 'map-set':
        throw paramProblem("iptables-sim does not model the SET target's --map-set (the lab's sets have no skbinfo); the rule was not added");
    }
  },
  // set_target_check_v3() on the options given (the C flags)
  finalCheck({ xflags }) {
    const has = (ids: number): boolean => (xflags & ids) !== 0;
    if (!has(ADD | DEL | MAP)) throw paramProblem("You must specify either `--add-set' or `--del-set' or `--map-set'");
    if (!has(ADD)) {
      if (has(EXIST)) throw paramProblem("Flag `--exist' can be used with `--add-set' only");
      if (has(TIMEOUT)) throw paramProblem("Option `--timeout' can be used with `--add-set' only");
    }
    if (!has(MAP)) {
      if (has(MAP_MARK)) throw paramProblem("Flag `--map-mark' can be used with `--map-set' only");
      if (has(MAP_PRIO)) throw paramProblem("Flag `--map-prio' can be used with `--map-set' only");
      if (has(MAP_QUEUE)) throw paramProblem("Flag `--map-queue' can be used with `--map-set' only");
    }
  },
  print: (d) => text(d, ''),
  save: (d) => text(d, '--'),
  apply(d, pkt, ctx) {
    const notes: string[] = [];
    const now = ctx.now();
    // (through a list:set, list_set_kadd() and list_set_kdel() try its members in turn)
    const run = (name: string, one: (s: IpSet | BitmapSet) => Outcome): void => {
      const set = ctx.changeIpset(name);
      if (set) notes.push(set.type === 'list:set' ? throughList(set, (n) => ctx.changeIpset(n), now, one) : one(set).text);
    };
    if (d.add.dim) run(d.add.name, (s) => addTo(s, d, pkt, now));
    if (d.del.dim) run(d.del.name, (s) => delFrom(s, d, pkt, now));
    return { verdict: 'CONTINUE', note: `SET: ${notes.join('; ')}` };
  },
};

interface Outcome {
  /** the kernel's 0: added (or there already, with --exist), or deleted */
  ok: boolean;
  text: string;
}

/** a list:set's members in turn, until one returns 0 */
function throughList(list: ListSet, find: (name: string) => AnySet | undefined, now: number, one: (s: IpSet | BitmapSet) => Outcome): string {
  const tried: string[] = [];
  for (const m of liveMembers(list, now)) {
    const member = find(m.name);
    if (!member || member.type === 'list:set') continue;
    const res = one(member);
    tried.push(res.text);
    if (res.ok) break;
  }
  return `list ${list.name}: ${tried.length ? tried.join(', ') : 'no members'}`;
}

/** why packetElem() found no element */
function noElement(set: IpSet): string {
  return set.family === 'inet6' ? 'a set of family inet6' : 'the packet has no element for it';
}

/** a bitmap member as ipset prints it */
function bitText(set: BitmapSet, id: number): string {
  return set.type === 'bitmap:ip' ? ipToString(id) : `port ${id}`;
}

/** ip_set_add() of one hash or bitmap set */
function addTo(set: IpSet | BitmapSet, d: SetTargetData, pkt: PacketView, now: number): Outcome {
  // the element gets the set's extensions: the target's or the set's timeout, and counters that
  // already count this packet (IP_SET_INIT_KEXT: 1 packet, its length; measured)
  const timeout = set.timeout === undefined ? undefined : d.timeout === undefined ? set.timeout : Math.min(d.timeout, IPSET_MAX_TIMEOUT);
  if (isBitmap(set)) {
    const id = packetBit(set, d.add.setFlags, pkt);
    if (id === undefined) return { ok: false, text: `nothing added to set ${set.name} (${set.type === 'bitmap:ip' ? 'an address' : 'no TCP or UDP port'} outside its range)` };
    const m: BitmapMember = { id };
    if (timeout) m.expires = now + timeout;
    if (set.counters) [m.packets, m.bytes] = [1, pkt.len];
    const ok = addBit(set, m, d.exist, now) === 'added';
    return { ok, text: `${bitText(set, id)} ${ok ? 'added to' : 'already in'} set ${set.name}` };
  }
  const e = packetElem(set, d.add.dim, d.add.setFlags, pkt, now, false);
  if (!e) return { ok: false, text: `nothing added to set ${set.name} (${noElement(set)})` };
  if (timeout) e.expires = now + timeout;
  if (set.counters) [e.packets, e.bytes] = [1, pkt.len];
  const res = addElem(set, e, d.exist, now);
  return { ok: res === 'added', text: res === 'added' ? `${elemKeyText(set, e)} added to set ${set.name}` : res === 'exists' ? `${elemKeyText(set, e)} already in set ${set.name}` : `set ${set.name} is full` };
}

/** ip_set_del() of one hash or bitmap set */
function delFrom(set: IpSet | BitmapSet, d: SetTargetData, pkt: PacketView, now: number): Outcome {
  if (isBitmap(set)) {
    const id = packetBit(set, d.del.setFlags, pkt);
    if (id === undefined) return { ok: false, text: `nothing deleted from set ${set.name} (${set.type === 'bitmap:ip' ? 'an address' : 'no TCP or UDP port'} outside its range)` };
    const ok = delBit(set, id, now);
    return { ok, text: `${bitText(set, id)} ${ok ? 'deleted from' : 'not in'} set ${set.name}` };
  }
  const e = packetElem(set, d.del.dim, d.del.setFlags, pkt, now, false);
  if (!e) return { ok: false, text: `nothing deleted from set ${set.name} (${noElement(set)})` };
  const ok = delElem(set, e, now);
  return { ok, text: ok ? `${elemKeyText(set, e)} deleted from set ${set.name}` : `${elemKeyText(set, e)} not in set ${set.name}` };
}
