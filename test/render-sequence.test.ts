/**
 * The sequence diagram's layout model, on connections the engine really traced through the
 * built-in lab: lanes per host in first-appearance order, one arrow per wire crossing with the
 * header as it was on that wire, NAT rewrites on the lane of the host that did them between the
 * arrow that brought the packet and the one that took it on, replies styled apart, drops and
 * rejections marked with their reason; then the coordinates (pictures and terminal).
 */
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../src/engine/events.js';
import { makeColors } from '../src/trace/text.js';
import { PICTURE, TERMINAL, textWidth } from '../src/render/geometry.js';
import { layoutSequence, sequenceModel, type Placed, type Row } from '../src/render/sequence-layout.js';
import { hostsInOrder, readConnection } from '../src/render/story.js';
import { renderTextDiagram } from '../src/render/text-diagram.js';
import { Sandbox } from './helpers/cli.js';

const DNAT = 'iptables -t nat -A PREROUTING -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.168.1.2:80';
const HAIRPIN_MASQ = 'iptables -t nat -A POSTROUTING -s 192.168.1.0/24 -o eth1 -p tcp --dport 80 -j MASQUERADE';

interface Traced {
  verdict: string;
  explanation: string;
  events: TraceEvent[];
}

async function connection(setup: string[], trace: string): Promise<Traced> {
  const sb = new Sandbox();
  for (const line of setup) expect((await sb.sh(line)).rc).toBe(0);
  const r = await sb.sh(`--json trace ${trace}`);
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as Traced;
}

const arrows = (rows: Row[]) => rows.filter((r): r is Extract<Row, { kind: 'arrow' }> => r.kind === 'arrow');
const markers = (rows: Row[]) => rows.filter((r): r is Extract<Row, { kind: 'marker' }> => r.kind === 'marker');
const links = (ev: TraceEvent[]) => ev.filter((e): e is Extract<TraceEvent, { kind: 'link' }> => e.kind === 'link');

describe('sequence model: hairpin NAT without the MASQUERADE', async () => {
  const t = await connection([DNAT], '--from pc2 -p tcp -d 50.60.70.80 --dport 8080 --sport 40801');
  const m = sequenceModel(t.events, { verdict: t.verdict, explanation: t.explanation });

  it('has one lane per host, in the order the hosts first appear', () => {
    expect(m.lanes.map((l) => l.host)).toEqual(['pc2', 'router', 'pc1']);
    expect(m.lanes.map((l) => l.host)).toEqual(hostsInOrder(t.events));
  });

  it('draws one arrow per wire crossing, between the lanes of its two ends, labelled with the header on that wire', () => {
    const ls = links(t.events);
    const as = arrows(m.rows);
    expect(as).toHaveLength(ls.length);
    as.forEach((a, i) => {
      const l = ls[i]!;
      expect(m.lanes[a.from]!.host).toBe(l.from);
      expect(m.lanes[a.to]!.host).toBe(l.to);
      expect(a.fromIface).toBe(l.iface);
      expect(a.toIface).toBe(l.peerIface);
      expect(a.label).toContain(`${l.pkt!.src}:${l.pkt!.sport} → ${l.pkt!.dst}:${l.pkt!.dport}`);
    });
    // the request before and after the router's DNAT
    expect(as[0]!.label).toBe('SYN 192.168.1.3:40801 → 50.60.70.80:8080');
    expect(as[1]!.label).toBe('SYN 192.168.1.3:40801 → 192.168.1.2:80');
  });

  it("marks the DNAT on the router's lane, after the arrow that brought the packet and before the one that took it on", () => {
    const i = m.rows.findIndex((r) => r.kind === 'marker' && r.marker === 'rewrite');
    const rw = m.rows[i] as Extract<Row, { kind: 'marker' }>;
    expect(m.lanes[rw.lane]!.host).toBe('router');
    expect(rw.title).toBe('DNAT in nat:PREROUTING');
    expect(rw.text).toBe('dst 50.60.70.80:8080 → 192.168.1.2:80');
    expect(rw.detail).toBe('PREROUTING rule 1: -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.168.1.2:80');
    const before = m.rows.slice(0, i).filter((r) => r.kind === 'arrow');
    const after = m.rows.slice(i + 1).filter((r) => r.kind === 'arrow');
    expect(before.at(-1)).toMatchObject({ from: 0, to: 1 });
    expect(after[0]).toMatchObject({ from: 1, to: 2 });
  });

  it('styles the reply apart, and the answer the client would not take as rejected, with the reason', () => {
    const as = arrows(m.rows);
    expect(as.map((a) => a.style)).toEqual(['original', 'original', 'rejected', 'original']);
    const story = readConnection(t.events);
    expect(story.transmissions.map((x) => [x.what, x.dir, x.end])).toEqual([
      ['SYN', 'original', 'delivered'],
      ['SYN-ACK', 'reply', 'rejected'],
      ['RST', 'original', 'delivered'],
    ]);
    const reject = markers(m.rows).find((r) => r.marker === 'reject')!;
    expect(m.lanes[reject.lane]!.host).toBe('pc2');
    expect(reject.text).toContain('has no socket expecting tcp 192.168.1.2:80 -> 192.168.1.3:40801');
  });

  it('ends with the verdict', () => {
    expect(m.verdict).toMatchObject({ verdict: 'timeout', ok: false });
  });
});

describe('sequence model: hairpin NAT fixed', async () => {
  const t = await connection([DNAT, HAIRPIN_MASQ], '--from pc2 -p tcp -d 50.60.70.80 --dport 8080 --sport 40802');
  const m = sequenceModel(t.events);

  it('every reply arrow is a reply, every request arrow a request', () => {
    const story = readConnection(t.events);
    const dirOf = new Map(story.transmissions.map((x) => [x.n, x.dir]));
    for (const a of arrows(m.rows)) expect(a.style).toBe(dirOf.get(a.n) === 'reply' ? 'reply' : 'original');
    expect(new Set(arrows(m.rows).map((a) => a.style))).toEqual(new Set(['original', 'reply']));
  });

  it('the router rewrites both ways: DNAT then SNAT on the request, their reverses on the reply', () => {
    const first = markers(m.rows).filter((r) => r.marker === 'rewrite' && (r.n === 0 || r.n === 1));
    expect(first.map((r) => `${r.n} ${m.lanes[r.lane]!.host} ${r.title}`)).toEqual([
      '0 router DNAT in nat:PREROUTING',
      '0 router SNAT in nat:POSTROUTING',
      '1 router reverse SNAT in nat:PREROUTING',
      '1 router reverse DNAT in nat:POSTROUTING',
    ]);
    // MASQUERADE chose the SNAT binding: the rule says so, the rewrite is the binding's kind
    expect(first[1]!.detail).toContain('-j MASQUERADE');
  });
});

describe('sequence model: a REJECT in FORWARD', async () => {
  const t = await connection([DNAT, 'iptables -A FORWARD -j REJECT'], '--from internet -p tcp -d 50.60.70.80 --dport 8080 --sport 40803');
  const m = sequenceModel(t.events);

  it('marks the drop on the lane where it happened, with the reason, and nothing of that packet goes further', () => {
    const drop = markers(m.rows).find((r) => r.marker === 'drop')!;
    expect(m.lanes[drop.lane]!.host).toBe('router');
    expect(drop.text).toBe('rule 1 of filter FORWARD rejected it (icmp-port-unreachable)');
    expect(arrows(m.rows).filter((a) => a.n === drop.n)).toHaveLength(1);
  });

  it('the ICMP error the router sends back is a reply of its own', () => {
    const story = readConnection(t.events);
    expect(story.transmissions.map((x) => [x.what, x.dir, x.sender, x.end])).toEqual([
      ['SYN', 'original', 'internet', 'dropped'],
      ['ICMP port unreachable', 'reply', 'router', 'delivered'],
    ]);
    const back = arrows(m.rows).filter((a) => a.n === 1);
    expect(back).toHaveLength(1);
    expect(back[0]).toMatchObject({ style: 'reply', label: 'ICMP port unreachable 50.60.70.80 → 50.60.70.1' });
  });
});

describe('sequence model: a locally destined connection goes round the loopback device', async () => {
  const t = await connection([], '--from router -p tcp -d 127.0.0.1 --dport 80 --sport 40804');
  const m = sequenceModel(t.events);
  it('one lane, loops instead of arrows, with the header as routing made it', () => {
    expect(m.lanes.map((l) => l.host)).toEqual(['router']);
    expect(arrows(m.rows)).toEqual([]);
    const loops = m.rows.filter((r) => r.kind === 'loop');
    expect(loops.map((r) => (r.kind === 'loop' ? r.label : ''))).toEqual([
      'SYN 127.0.0.1:40804 → 127.0.0.1:80 via lo',
      'SYN-ACK 127.0.0.1:80 → 127.0.0.1:40804 via lo',
      'data 127.0.0.1:40804 → 127.0.0.1:80 via lo',
      'data 127.0.0.1:80 → 127.0.0.1:40804 via lo',
    ]);
  });
});

describe('picture geometry', async () => {
  const t = await connection([DNAT], '--from pc2 -p tcp -d 50.60.70.80 --dport 8080 --sport 40805');
  const l = layoutSequence(sequenceModel(t.events, { verdict: t.verdict, explanation: t.explanation, hostLines: { router: ['eth0 50.60.70.80/24', 'eth1 192.168.1.1/24'] } }), PICTURE);
  const byKind = <K extends Placed['kind']>(k: K) => l.items.filter((i): i is Extract<Placed, { kind: K }> => i.kind === k);

  it('lanes left to right in model order, lifelines under their headers', () => {
    const xs = l.lanes.map((x) => x.x);
    expect([...xs].sort((a, b) => a - b)).toEqual(xs);
    for (const lane of l.lanes) {
      expect(lane.header.x + lane.header.w / 2).toBeCloseTo(lane.x);
      expect(lane.lifeline.y1).toBe(lane.header.y + lane.header.h);
    }
  });

  it('arrows run from lane to lane, with their label centred above and fitting between the lanes', () => {
    for (const a of byKind('arrow')) {
      expect(a.x1).toBe(l.lanes[a.from]!.x);
      expect(a.x2).toBe(l.lanes[a.to]!.x);
      expect(a.label.x).toBeCloseTo((a.x1 + a.x2) / 2);
      expect(a.label.y).toBeLessThan(a.y);
      expect(Math.abs(a.x2 - a.x1)).toBeGreaterThan(textWidth(a.label.text, PICTURE.fontSize));
    }
  });

  it('the rewrite box sits on its lane, between the arrows before and after it', () => {
    const i = l.items.findIndex((x) => x.kind === 'marker' && x.marker === 'rewrite');
    const rw = l.items[i] as Extract<Placed, { kind: 'marker' }>;
    expect(rw.box.x + rw.box.w / 2).toBeCloseTo(l.lanes[rw.lane]!.x);
    const prev = l.items[i - 1] as Extract<Placed, { kind: 'arrow' }>;
    const next = l.items[i + 1] as Extract<Placed, { kind: 'arrow' }>;
    expect(prev.kind).toBe('arrow');
    expect(next.kind).toBe('arrow');
    expect(rw.box.y).toBeGreaterThan(prev.y);
    expect(rw.box.y + rw.box.h).toBeLessThan(next.label.y - 10);
    // the text, then the rule behind it in small print
    expect(rw.detailFrom).toBe(1);
    rw.lines.forEach((line, k) => expect(line.x + textWidth(line.text, k >= rw.detailFrom ? PICTURE.smallSize : PICTURE.fontSize)).toBeLessThanOrEqual(rw.box.x + rw.box.w));
  });

  it('time goes down: every item starts below the one before, and everything is inside the picture', () => {
    let last = 0;
    for (const it of l.items) {
      const top = it.kind === 'marker' ? it.box.y : it.kind === 'arrow' ? it.label.y - 12 : it.kind === 'loop' ? it.y : it.label.y - 12;
      expect(top).toBeGreaterThanOrEqual(last);
      last = it.kind === 'marker' ? it.box.y + it.box.h : it.kind === 'arrow' ? it.y : it.kind === 'loop' ? it.y + it.h : it.label.y;
      if (it.kind === 'marker') {
        expect(it.box.x).toBeGreaterThanOrEqual(0);
        expect(it.box.x + it.box.w).toBeLessThanOrEqual(l.width);
      }
    }
    expect(l.footer!.box.y + l.footer!.box.h).toBeLessThanOrEqual(l.height);
    expect(l.footer!.verdict.text).toBe('verdict: timeout');
  });
});

describe('terminal diagram', async () => {
  const t = await connection([DNAT], '--from pc2 -p tcp -d 50.60.70.80 --dport 8080 --sport 40806');
  const l = layoutSequence(sequenceModel(t.events), TERMINAL);
  const text = renderTextDiagram(l, makeColors(false));
  const lines = text.split('\n');

  it('hosts on the first line at their lane, arrows drawn from lane to lane with box-drawing characters', () => {
    expect(lines[0]!.trim().split(/\s+/)).toEqual(['pc2', 'router', 'pc1']);
    for (const a of l.items.filter((i): i is Extract<Placed, { kind: 'arrow' }> => i.kind === 'arrow')) {
      const row = [...lines[a.y]!];
      const right = a.x2 > a.x1;
      expect(row[a.x1]).toBe(right ? '├' : '┤');
      expect(row[right ? a.x2 - 1 : a.x2 + 1]).toBe(right ? '▶' : '◀');
      expect(lines[a.label.y]!.slice(a.label.x)).toContain(a.label.text);
    }
  });

  it('shows the run as a person reads it', () => {
    expect(text).toBe(
      [
        ' pc2         router          pc1',
        '  │ SYN 192.168.1.3:40806 → 50.60.70.80:8080',
        '  ├────────────▶│             │',
        '  │             ◆ DNAT in nat:PREROUTING: dst 50.60.70.80:8080 → 192.168.1.2:80',
        '  │             │ SYN 192.168.1.3:40806 → 192.168.1.2:80',
        '  │             ├────────────▶│',
        '  │             │             ● tcp socket listening on 192.168.1.2:80 (peer 192.168.1.3:40806)',
        '  │ SYN-ACK 192.168.1.2:80 → 192.168.1.3:40806',
        '  │◀────────────┼─────────────┤',
        '  ✗ pc2 has no socket expecting tcp 192.168.1.2:80 -> 192.168.1.3:40806 [SYN,ACK]',
        '  · pc2 answers with a reset to 192.168.1.2:80',
        '  │ RST 192.168.1.3:40806 → 192.168.1.2:80',
        '  ├─────────────┼────────────▶│',
        '',
      ].join('\n'),
    );
  });

  it('wraps long markers within the terminal width, keeping the lifeline', () => {
    const long = layoutSequence(
      sequenceModel([
        { kind: 'packet', host: 'a', pkt: { id: 1, src: '10.0.0.1', dst: '10.0.0.2', proto: 17, sport: 1, dport: 2, ttl: 64, len: 32, mark: 0 }, note: '' },
        { kind: 'drop', host: 'a', reason: 'x '.repeat(80).trim() },
      ]),
      TERMINAL,
    );
    const drawn = renderTextDiagram(long, makeColors(false)).split('\n');
    expect(drawn.length).toBeGreaterThan(3);
    for (const d of drawn) expect([...d].length).toBeLessThanOrEqual(100);
  });
});
