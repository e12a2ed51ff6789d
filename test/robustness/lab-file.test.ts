/**
 * Lab files that are truncated, hand-edited into nonsense, from a newer version or not ours: every
 * command refuses with a message naming the file and what to do, exits non-zero, and leaves the
 * file byte for byte as it was. A file reformatted by hand but still correct keeps working.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LAB_VERSION } from '../../src/net/lab.js';
import { builtinLab } from '../../src/net/builtin-lab.js';
import { labText, parseLabText } from '../../src/state/store.js';
import { Sandbox } from '../helpers/cli.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CORPUS } from './inputs.js';

/** a lab with rules, chains, a NAT binding and conntrack entries to damage */
async function populated(): Promise<Sandbox> {
  const sb = new Sandbox();
  for (const c of [
    'iptables -N A',
    'iptables -A INPUT -p tcp --dport 22 -j A',
    'iptables -A A -m mark --mark 0x1/0xff -j ACCEPT',
    'iptables -t nat -A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 192.168.1.2:80',
    'trace --from internet -p tcp -d 50.60.70.80 --dport 8080',
  ]) {
    const r = await sb.sh(c);
    expect(r.rc, `${c}: ${r.stderr}`).toBe(0);
  }
  return sb;
}

/** commands that read the lab and commands that change it */
const COMMANDS = [
  'iptables -S',
  'iptables -L -n -v',
  'iptables -A INPUT -j ACCEPT',
  'iptables -D A 1',
  'iptables-save',
  'sysctl net.ipv4.ip_forward',
  'sysctl -w net.ipv4.ip_forward=0',
  'conntrack -L',
  'lab show',
  'trace -i eth0 -p tcp -s 50.60.70.1 -d 50.60.70.80 --dport 22',
  'trace --from pc1 -p tcp -d 50.60.70.1 --dport 80',
];

/**
 * `ours`: the file is (what is left of) a lab, which `lab reset` may replace; a file that is no lab
 * (it does not name the lab format) is not replaced by `lab reset` or `lab init` either
 */
async function expectRefused(sb: Sandbox, content: string | Buffer, what: RegExp, ours = true): Promise<void> {
  writeFileSync(sb.state, content);
  const before = readFileSync(sb.state);
  const commands = ours ? COMMANDS : [...COMMANDS, 'lab reset', 'lab init'];
  for (const c of commands) {
    const r = await sb.sh(c);
    expect(r.rc, `${c}: ${r.stderr}`).not.toBe(0);
    expect(r.rc, c).not.toBe(70);
    expect(r.stderr, c).toContain(sb.state);
    expect(r.stderr, c).toMatch(what);
    expect(r.stderr, c).toMatch(ours ? /lab reset|upgrade iptables-sim/ : /move it away or name another file with --state/);
    expect(readFileSync(sb.state).equals(before), `${c} changed the file`).toBe(true);
  }
  if (!ours) return;
  // and the way out works: lab reset replaces the file without reading it
  const reset = await sb.sh('lab reset');
  expect(reset.rc).toBe(0);
  expect((await sb.sh('iptables -S')).rc).toBe(0);
}

type Edit = (lab: any) => void;

/** hand edits with wrong types or values inside hosts, tables, chains and rules */
const EDITS: [string, Edit, RegExp][] = [
  ['hosts is a list', (l) => (l.hosts = []), /hosts: expected an object/],
  ['no default host', (l) => (l.defaultHost = 'nope'), /defaultHost/],
  ['interfaces missing', (l) => delete l.hosts.router.interfaces, /hosts\.router\.interfaces: expected a list/],
  ['address is not one', (l) => (l.hosts.router.interfaces[1].addrs[0] = '50.60.70.800/24'), /interfaces\[1\]\.addrs\[0\]/],
  ['broadcast is not an address', (l) => (l.hosts.router.interfaces[1].brd = { [l.hosts.router.interfaces[1].addrs[0]]: '50.60.70.300' }), /interfaces\[1\]\.brd\["50\.60\.70\.80\/24"\]: expected an IPv4 address/],
  ['broadcast of an address the interface lacks', (l) => (l.hosts.router.interfaces[1].brd = { '10.9.9.9/24': '10.9.9.255' }), /interfaces\[1\]\.brd: "10\.9\.9\.9\/24" is none of the interface's addresses/],
  ['address order naming an address the interface lacks', (l) => (l.hosts.router.addrRoutes = ['eth1 10.9.9.9/24']), /hosts\.router\.addrRoutes\[0\]: expected "DEVICE ADDRESS" of one of the interfaces' addresses, got "eth1 10\.9\.9\.9\/24"/],
  ['removed kernel route of no shape', (l) => (l.hosts.router.removedRoutes = ['192.168.1.0/24']), /hosts\.router\.removedRoutes\[0\]: expected "TABLE TYPE ADDRESS\/LEN DEVICE"/],
  ['mtu below IPv4 minimum', (l) => (l.hosts.router.interfaces[1].mtu = 40), /interfaces\[1\]\.mtu/],
  ['label of an address the interface lacks', (l) => (l.hosts.router.interfaces[1].labels = { '10.9.9.9/24': 'eth0:1' }), /interfaces\[1\]\.labels: "10\.9\.9\.9\/24" is none of the interface's addresses/],
  ['route without destination', (l) => delete l.hosts.pc1.routes[0].dst, /routes\[0\]\.dst/],
  ['route mtu above what the kernel keeps', (l) => (l.hosts.pc1.routes[0].mtu = 65521), /routes\[0\]\.mtu/],
  ['route mtu of zero', (l) => (l.hosts.pc1.routes[0].mtu = 0), /routes\[0\]\.mtu/],
  ['failed neighbour entry of no shape', (l) => (l.hosts.pc1.neighbours = [{ dev: 'eth0', addr: '192.168.1.1', failed: 'yes' }]), /neighbours\[0\]\.failed: expected true/],
  ['neighbour entry without its host', (l) => (l.hosts.pc1.neighbours = [{ dev: 'eth0', addr: '192.168.1.1' }]), /neighbours\[0\]\.host/],
  ['route onlink is a number', (l) => (l.hosts.pc1.routes[0].onlink = 1), /routes\[0\]\.onlink/],
  ['route mtu lock is text', (l) => (l.hosts.pc1.routes[0].mtuLock = 'yes'), /routes\[0\]\.mtuLock/],
  ['route advmss above what the kernel keeps', (l) => (l.hosts.pc1.routes[0].advmss = 65496), /routes\[0\]\.advmss/],
  ['sysctl value is a number', (l) => (l.hosts.router.sysctls['net.ipv4.ip_forward'] = 1), /sysctls\.net\.ipv4\.ip_forward: expected a string/],
  ['service port too big', (l) => (l.hosts.pc1.services[0].port = 70000), /services\[0\]\.port/],
  ['tables is a string', (l) => (l.hosts.router.tables = 'filter'), /tables: expected an object/],
  ['unknown table', (l) => (l.hosts.router.tables.bogus = { chains: [] }), /no table called "bogus"/],
  ['chains is an object', (l) => (l.hosts.router.tables.filter.chains = {}), /filter\.chains: expected a list/],
  ['built-in chain missing', (l) => l.hosts.router.tables.filter.chains.splice(1, 1), /built-in chain FORWARD is missing/],
  ['bad policy', (l) => (l.hosts.router.tables.filter.chains[0].policy = 'MAYBE'), /INPUT\.policy/],
  ['counter is text', (l) => (l.hosts.router.tables.filter.chains[0].pkts = '12'), /INPUT\.pkts/],
  ['duplicate chain', (l) => l.hosts.router.tables.filter.chains.push(structuredClone(l.hosts.router.tables.filter.chains[3])), /chain A appears twice/],
  ['rules is null', (l) => (l.hosts.router.tables.filter.chains[0].rules = null), /INPUT\.rules: expected a list/],
  ['rule is a string', (l) => (l.hosts.router.tables.filter.chains[0].rules[0] = '-j ACCEPT'), /INPUT\.rules\[0\]: expected an object/],
  ['address is text', (l) => (l.hosts.router.tables.filter.chains[0].rules[0].src = { addr: '10.0.0.1', mask: 0xffffffff }), /rules\[0\]\.src\.addr/],
  ['protocol 300', (l) => (l.hosts.router.tables.filter.chains[0].rules[0].proto = 300), /rules\[0\]\.proto/],
  ['unknown match', (l) => (l.hosts.router.tables.filter.chains[0].rules[0].matches[0].name = 'nope'), /no match extension called "nope"/],
  ['match data of the wrong shape', (l) => (l.hosts.router.tables.filter.chains[0].rules[0].matches[0].data = 'x'), /INPUT\.rules\[0\]: the tcp match's data is "x", expected a set of fields/],
  ['match data with a wrong type inside', (l) => (l.hosts.router.tables.filter.chains[3].rules[0].matches[0].data = { mark: 'one', mask: [] }), /A\.rules\[0\]: the mark match's mark is "one", expected a number/],
  ['jump to a missing chain', (l) => (l.hosts.router.tables.filter.chains[0].rules[0].target.chain = 'GONE'), /jumps to "GONE"/],
  ['unknown target kind', (l) => (l.hosts.router.tables.filter.chains[3].rules[0].target = { kind: 'teleport' }), /target\.kind/],
  ['target data null', (l) => (l.hosts.router.tables.nat.chains[0].rules[0].target.data = null), /PREROUTING\.rules\[0\]: the DNAT target's data is null/],
  ['jump loop reached from INPUT', (l) => l.hosts.router.tables.filter.chains[3].rules.push({ matches: [], target: { kind: 'goto', chain: 'A' }, pkts: 0, bytes: 0 }), /jump in a loop \(INPUT -> A -> A\)/],
  ['conntrack tuple short', (l) => (l.hosts.router.conntrack[0].orig = ['1.2.3.4']), /conntrack\[0\]\.orig/],
  ['rng missing', (l) => delete l.rng, /rng: expected an object/],
];

describe('a damaged lab file is refused, named, and left untouched', () => {
  it('truncated at many points', async () => {
    const sb = await populated();
    const full = readFileSync(sb.state, 'utf8');
    for (const at of [0, full.indexOf('iptables-sim-lab') + 20, Math.floor(full.length / 3), full.length - 2]) {
      await expectRefused(sb, full.slice(0, at), /cannot be read as a lab|damaged/);
      writeFileSync(sb.state, full);
    }
    // cut before it says what it is: no longer told from a file that is no lab
    for (const at of [1, 10]) {
      await expectRefused(sb, full.slice(0, at), /is not an iptables-sim lab file/, false);
      writeFileSync(sb.state, full);
    }
  });

  it('not JSON, not a lab, not ours', async () => {
    const sb = await populated();
    // (nor does lab reset or lab init overwrite them: a --state naming someone's rules by mistake)
    await expectRefused(sb, Buffer.from([0xff, 0xfe, 0x00, 0x41]), /not an iptables-sim lab file/, false);
    await expectRefused(sb, '*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n', /not an iptables-sim lab file/, false);
    await expectRefused(sb, '[]', /not an iptables-sim lab file/, false);
    await expectRefused(sb, 'null', /not an iptables-sim lab file/, false);
    await expectRefused(sb, '{"name":"someone else\'s settings"}', /not an iptables-sim lab file/, false);
    await expectRefused(sb, readFileSync(join(__dirname, '..', '..', 'package.json')), /not an iptables-sim lab file/, false);
  });

  it('from a newer iptables-sim, or with no version', async () => {
    const sb = await populated();
    const lab = sb.lab() as any;
    await expectRefused(sb, JSON.stringify({ ...lab, version: LAB_VERSION + 1 }), new RegExp(`newer iptables-sim \\(lab format ${LAB_VERSION + 1}, this one reads ${LAB_VERSION}\\)`));
    await expectRefused(sb, JSON.stringify({ ...lab, version: '1' }), /version is "1"/);
    const { version: _v, ...noVersion } = lab;
    await expectRefused(sb, JSON.stringify(noVersion), /version is missing/);
  });

  it.each(EDITS.map(([name, edit, msg]) => [name, edit, msg] as const))('hand-edited: %s', async (_name, edit, msg) => {
    const sb = await populated();
    const lab = sb.lab() as any;
    edit(lab);
    await expectRefused(sb, JSON.stringify(lab, null, 2), msg);
  });

  it('a hand-edited file that is still right keeps working (and is signed again when written)', async () => {
    const sb = await populated();
    const lab = sb.lab() as any;
    lab.hosts.router.tables.filter.chains[0].rules[0].pkts = 42;
    writeFileSync(sb.state, JSON.stringify(lab, null, 4));
    const s = await sb.sh('iptables -L INPUT -v -x -n');
    expect(s.rc, s.stderr).toBe(0);
    expect(s.stdout).toMatch(/^\s+42\s/m);
    expect((await sb.sh('iptables -A INPUT -j DROP')).rc).toBe(0);
    expect(readFileSync(sb.state, 'utf8').startsWith('{"checksum":"crc32:')).toBe(true);
  });

  it('the checksum tells our files from edited ones; edited ones are checked in full', () => {
    const text = labText(builtinLab());
    expect(text.startsWith('{"checksum":"crc32:')).toBe(true);
    expect(parseLabText(text, 'x.json').name).toBe(builtinLab().name);
    const edited = text.replace('"name":"home network (seed post)"', '"name":"mine"');
    expect(parseLabText(edited, 'x.json').name).toBe('mine');
    const bad = JSON.parse(JSON.stringify(parseLabText(text, 'x.json')));
    bad.hosts.pc1.services[0].port = -1;
    expect(() => parseLabText(JSON.stringify(bad), 'x.json')).toThrow(/x\.json: the lab file is damaged \(hosts\.pc1\.services\[0\]\.port/);
  });

  const index = join(CORPUS, 'expected', 'index.json');
  const corpus = existsSync(index) ? Object.keys(JSON.parse(readFileSync(index, 'utf8')) as object) : [];
  it.skipIf(!corpus.length)('every corpus rule set, stored then reformatted by hand, passes the full check unchanged', async () => {
    let checked = 0;
    for (const path of corpus) {
      const sb = new Sandbox();
      const r = await sb.run(['iptables-restore'], readFileSync(join(CORPUS, path), 'latin1').replace(/\r\n?/g, '\n'));
      if (r.rc !== 0 || !existsSync(sb.state)) continue;
      const signed = await sb.run(['iptables-save', '-c']);
      // no checksum any more: every rule's data goes through the full check
      writeFileSync(sb.state, JSON.stringify(sb.lab(), null, 2));
      const edited = await sb.run(['iptables-save', '-c']);
      expect(edited.stderr, path).toBe('');
      expect(edited.stdout.replace(/^# .*\n/gm, ''), path).toBe(signed.stdout.replace(/^# .*\n/gm, ''));
      checked++;
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('a lab path that cannot be a file: a message, not a crash', async () => {
    const sb = new Sandbox();
    for (const [state, msg] of [
      ['/dev/null/lab.json', /cannot (use|read) \/dev\/null\/lab\.json/],
      [sb.dir, /is a directory, not a lab file/],
    ] as const) {
      for (const c of [['iptables', '-A', 'INPUT', '-j', 'ACCEPT'], ['iptables', '-S'], ['lab', 'show'], ['sysctl', '-w', 'net.ipv4.ip_forward=0']]) {
        const r = await sb.run(['--state', state, ...c]);
        expect(r.rc, `${c.join(' ')}: ${r.stderr}`).not.toBe(0);
        expect(r.rc).not.toBe(70);
        expect(r.stderr, c.join(' ')).toMatch(msg);
      }
    }
  });
});
