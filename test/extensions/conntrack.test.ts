import { describe, expect, it } from 'vitest';
import type { ConntrackView } from '../../src/engine/ext-api.js';
import { matches, packet, ruleFrom } from '../helpers/ext.js';
import { ctView, tuple } from './ct-helpers.js';

const est = ctView();
const newConn = ctView({ state: 'NEW', status: [], packets: [1, 0], bytes: [60, 0], expires: 0 });
const related = ctView({ state: 'RELATED', status: ['EXPECTED'], orig: tuple('10.0.0.2', '10.0.0.1', 6, 20, 50000), replyTuple: tuple('10.0.0.1', '10.0.0.2', 6, 50000, 20) });
const replyDir = ctView({ reply: true });
// a DNATed connection: original to 203.0.113.5:80, answered by 192.168.1.10:8080
const dnat = ctView({
  status: ['SEEN_REPLY', 'CONFIRMED', 'DNAT'],
  orig: tuple('198.51.100.7', '203.0.113.5', 6, 51000, 80),
  replyTuple: tuple('192.168.1.10', '198.51.100.7', 6, 8080, 51000),
});
const snat = ctView({ status: ['CONFIRMED', 'SNAT'] });
const invalid: ConntrackView = { ...est, state: 'INVALID' };
const untracked: ConntrackView = { ...est, state: 'UNTRACKED' };
const udp = ctView({ state: 'NEW', status: [], orig: tuple('10.0.0.1', '10.0.0.53', 17, 5353, 53), replyTuple: tuple('10.0.0.53', '10.0.0.1', 17, 53, 5353) });

type Row = [string, ConntrackView | undefined, boolean];

const rows: Row[] = [
  // --ctstate
  ['-m conntrack --ctstate NEW', newConn, true],
  ['-m conntrack --ctstate NEW', est, false],
  ['-m conntrack --ctstate RELATED,ESTABLISHED', est, true],
  ['-m conntrack --ctstate RELATED,ESTABLISHED', related, true],
  ['-m conntrack --ctstate RELATED,ESTABLISHED', newConn, false],
  ['-m conntrack --ctstate ESTABLISHED', replyDir, true],
  ['-m conntrack --ctstate INVALID', invalid, true],
  ['-m conntrack --ctstate INVALID', est, false],
  // no conntrack information at all (raw table): the kernel's statebit is INVALID
  ['-m conntrack --ctstate INVALID', undefined, true],
  ['-m conntrack --ctstate UNTRACKED', undefined, false],
  ['-m conntrack --ctstate UNTRACKED', untracked, true],
  ['-m conntrack --ctstate INVALID', untracked, false],
  ['-m conntrack ! --ctstate INVALID', est, true],
  ['-m conntrack ! --ctstate INVALID', invalid, false],
  ['-m conntrack ! --ctstate NEW', invalid, true],
  ['-m conntrack ! --ctstate NEW', untracked, true],
  // SNAT/DNAT are extra bits beside the real state
  ['-m conntrack --ctstate DNAT', dnat, true],
  ['-m conntrack --ctstate DNAT', snat, false],
  ['-m conntrack --ctstate SNAT', snat, true],
  ['-m conntrack --ctstate SNAT', est, false],
  ['-m conntrack ! --ctstate DNAT', est, true],
  ['-m conntrack ! --ctstate DNAT', dnat, false],
  ['-m conntrack --ctstate ESTABLISHED', dnat, true],
  // without an entry, any other option makes the rule fail, inverted or not
  ['-m conntrack ! --ctproto tcp', invalid, false],
  ['-m conntrack ! --ctstatus ASSURED', undefined, false],
  ['-m conntrack --ctstate INVALID --ctproto tcp', invalid, true],
  ['-m conntrack ! --ctstate NEW --ctdir ORIGINAL', untracked, true],
  // --ctproto (original tuple protocol)
  ['-m conntrack --ctproto tcp', est, true],
  ['-m conntrack --ctproto udp', est, false],
  ['-m conntrack --ctproto udp', udp, true],
  ['-m conntrack ! --ctproto tcp', udp, true],
  ['-m conntrack ! --ctproto tcp', est, false],
  ['-m conntrack --ctproto 0', est, false],
  // addresses: tuple & mask against the address & mask (the address is not masked when parsed)
  ['-m conntrack --ctorigsrc 10.0.0.1', est, true],
  ['-m conntrack --ctorigsrc 10.0.0.9', est, false],
  ['-m conntrack --ctorigsrc 10.9.9.9/8', est, true],
  ['-m conntrack ! --ctorigsrc 10.0.0.0/8', est, false],
  ['-m conntrack --ctorigdst 203.0.113.5', dnat, true],
  ['-m conntrack --ctreplsrc 192.168.1.10', dnat, true],
  ['-m conntrack --ctreplsrc 203.0.113.5', dnat, false],
  ['-m conntrack --ctrepldst 198.51.100.0/24', dnat, true],
  ['-m conntrack ! --ctrepldst 198.51.100.0/24', dnat, false],
  ['-m conntrack --ctorigsrc 1.2.3.4/0', est, true],
  // ports: original and reply tuple, ranges, inversion
  ['-m conntrack --ctorigdstport 80', dnat, true],
  ['-m conntrack --ctrepldstport 51000', dnat, true],
  ['-m conntrack --ctreplsrcport 8080', dnat, true],
  ['-m conntrack --ctreplsrcport 80', dnat, false],
  ['-m conntrack --ctorigsrcport 1024:65535', est, true],
  ['-m conntrack --ctorigsrcport :1023', est, false],
  ['-m conntrack ! --ctorigsrcport :1023', est, true],
  ['-m conntrack --ctorigdstport 22', est, true],
  ['-m conntrack ! --ctorigdstport 22', est, false],
  // a reversed range never matches (not reordered)
  ['-m conntrack --ctorigdstport 30:20', est, false],
  ['-m conntrack ! --ctorigdstport 30:20', est, true],
  // --ctstatus: any listed bit; NONE is no bit
  ['-m conntrack --ctstatus ASSURED', est, true],
  ['-m conntrack --ctstatus ASSURED', newConn, false],
  ['-m conntrack --ctstatus EXPECTED,ASSURED', related, true],
  ['-m conntrack --ctstatus NONE', newConn, false],
  ['-m conntrack ! --ctstatus NONE', newConn, true],
  ['-m conntrack ! --ctstatus SEEN_REPLY', newConn, true],
  ['-m conntrack ! --ctstatus SEEN_REPLY', est, false],
  ['-m conntrack --ctstatus CONFIRMED', dnat, true],
  // --ctexpire (seconds left)
  ['-m conntrack --ctexpire 431999', est, true],
  ['-m conntrack --ctexpire 0:100', est, false],
  ['-m conntrack --ctexpire 400000:', est, true],
  ['-m conntrack ! --ctexpire 400000:', est, false],
  ['-m conntrack --ctexpire 0', newConn, true],
  ['-m conntrack --ctexpire 5:4', est, false],
  // --ctdir
  ['-m conntrack --ctdir ORIGINAL', est, true],
  ['-m conntrack --ctdir ORIGINAL', replyDir, false],
  ['-m conntrack --ctdir REPLY', replyDir, true],
  ['-m conntrack --ctdir REPLY', est, false],
  // several options: all must hold
  ['-m conntrack --ctstate NEW --ctproto udp --ctorigdstport 53', udp, true],
  ['-m conntrack --ctstate NEW --ctproto udp --ctorigdstport 54', udp, false],
  ['-m conntrack --ctstate ESTABLISHED --ctdir REPLY', est, false],
  // the state match
  ['-m state --state NEW', newConn, true],
  ['-m state --state NEW', est, false],
  ['-m state --state ESTABLISHED,RELATED', related, true],
  ['-m state ! --state INVALID', est, true],
  ['-m state ! --state INVALID', invalid, false],
  ['-m state --state INVALID', undefined, true],
  ['-m state --state UNTRACKED', untracked, true],
  ['-m state ! --state NEW', untracked, true],
];

describe('conntrack / state match', () => {
  it.each(rows)('%s on %j -> %s', (spec, ct, want) => {
    expect(matches(ruleFrom(spec), packet({ ct }))).toBe(want);
  });

  it('state rules are stored as conntrack data with the state alias flag', () => {
    const r = ruleFrom('-m state --state NEW,ESTABLISHED');
    expect(r.matches[0]!.name).toBe('state');
    expect(r.matches[0]!.data).toEqual({ flags: 1 | (1 << 13), inv: 0, state: (1 << 3) | (1 << 1) });
  });

  it('refuses --ctproto 0 only after an inverted --ctstatus (the C tests the wrong bit)', () => {
    expect(() => ruleFrom('-m conntrack ! --ctstatus NONE --ctproto 0')).toThrow('conntrack: rule would never match protocol');
    expect(() => ruleFrom('-m conntrack ! --ctproto 0')).not.toThrow();
  });
});
