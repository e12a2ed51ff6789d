/**
 * The picture options on the command line: `trace ... --diagram FILE.svg|.html`, `--hooks HOST`,
 * the text diagram under a connection's events and `--no-diagram`, `lab show --diagram`; bad
 * names refused before anything runs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Sandbox } from './helpers/cli.js';

const DNAT = 'iptables -t nat -A PREROUTING -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.168.1.2:80';
const HAIRPIN = '--from pc2 -p tcp -d 50.60.70.80 --dport 8080 --sport 40900';

async function lab(...setup: string[]): Promise<Sandbox> {
  const sb = new Sandbox();
  for (const line of setup) expect((await sb.sh(line)).rc).toBe(0);
  return sb;
}

/** a picture that needs nothing from anywhere: no URL but the SVG namespace, no script, no style sheet link */
function selfContained(doc: string): void {
  const urls = doc.match(/\b(?:https?|ftp):\/\/[^\s"'<>)]*/g) ?? [];
  expect(urls.filter((u) => u !== 'http://www.w3.org/2000/svg')).toEqual([]);
  expect(doc).not.toMatch(/<script|<link|@import|@font-face|xlink:href|\shref=/i);
}

describe('trace --from --diagram', () => {
  it('FILE.svg: the sequence diagram of the connection, self-contained', async () => {
    const sb = await lab(DNAT);
    const r = await sb.sh(`trace ${HAIRPIN} --diagram conn.svg`);
    expect(r.rc).toBe(0);
    const svg = readFileSync(join(sb.dir, 'conn.svg'), 'utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    selfContained(svg);
    for (const t of ['>pc2<', '>router<', '>pc1<', 'SYN 192.168.1.3:40900 → 50.60.70.80:8080', 'DNAT in nat:PREROUTING', 'rejected by pc2', 'verdict: timeout']) expect(svg).toContain(t);
  });

  it('FILE.html: the pictures and the text trace in one page', async () => {
    const sb = await lab(DNAT);
    const r = await sb.sh(`trace ${HAIRPIN} --diagram conn.html`);
    expect(r.rc).toBe(0);
    const html = readFileSync(join(sb.dir, 'conn.html'), 'utf8');
    selfContained(html);
    expect(html.match(/<svg /g)).toHaveLength(4); // the connection, then the hooks of pc2, router, pc1
    expect(html).toContain('Netfilter hooks on router');
    expect(html).toContain('rule 1: -A PREROUTING -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.168.1.2:80  =&gt; ACCEPT');
    expect(html).not.toContain('\u001b[');
  });

  it("--hooks HOST: that host's hooks with the paths the packets took there", async () => {
    const sb = await lab(DNAT);
    const r = await sb.sh(`trace ${HAIRPIN} --hooks router --diagram hooks.svg`);
    expect(r.rc).toBe(0);
    const svg = readFileSync(join(sb.dir, 'hooks.svg'), 'utf8');
    expect(svg).toContain('router: netfilter hooks');
    expect(svg).toContain('#1 SYN (request): in eth1 → PREROUTING → routing decision → FORWARD → POSTROUTING → out eth1');
    expect(svg).toContain("no reply passed router's hooks");
  });

  it('the text diagram comes under the events, before the verdict; --no-diagram leaves it out', async () => {
    const sb = await lab(DNAT);
    const r = await sb.sh(`trace ${HAIRPIN}`);
    const diagram = r.stdout.indexOf(' pc2         router          pc1');
    expect(diagram).toBeGreaterThan(r.stdout.indexOf('[pc2]'));
    expect(diagram).toBeLessThan(r.stdout.indexOf('verdict: timeout'));
    expect(r.stdout).toContain('  ├────────────▶│             │');
    const sb2 = await lab(DNAT);
    const plain = await sb2.sh(`trace ${HAIRPIN} --no-diagram`);
    expect(plain.stdout).not.toMatch(/[│├┤▶◀]/);
    expect(plain.stdout).toBe(r.stdout.slice(0, diagram - 1) + r.stdout.slice(r.stdout.indexOf('verdict: timeout')));
  });

  it('--diagram FILE and --no-diagram together: the file, and no text diagram', async () => {
    const sb = await lab(DNAT);
    const r = await sb.sh(`trace ${HAIRPIN} --diagram a.svg --no-diagram`);
    expect(r.rc).toBe(0);
    expect(r.stdout).not.toMatch(/[│├┤▶◀]/);
    expect(existsSync(join(sb.dir, 'a.svg'))).toBe(true);
  });

  it('never in --json or --format xtables output', async () => {
    const sb = await lab(DNAT);
    for (const f of ['--json trace', 'trace --format xtables']) {
      const r = await sb.sh(`${f} ${HAIRPIN.replace('40900', String(40901 + f.length))}`);
      expect(r.rc).toBe(0);
      expect(r.stdout).not.toMatch(/[│├┤▶◀]/);
    }
  });
});

describe('trace (one packet) --diagram', () => {
  it("draws the host's hooks with the path taken", async () => {
    const sb = await lab(DNAT);
    const r = await sb.sh('trace -i eth0 -p tcp -s 50.60.70.1 -d 50.60.70.80 --dport 8080 --diagram one.svg');
    expect(r.rc).toBe(0);
    const svg = readFileSync(join(sb.dir, 'one.svg'), 'utf8');
    expect(svg).toContain('#1 SYN (request): in eth0 → PREROUTING → routing decision → FORWARD → POSTROUTING → out eth1');
    // no text diagram under a one-packet trace
    expect(r.stdout).not.toMatch(/[│├┤▶◀]/);
  });

  it('--hooks must be the traced host', async () => {
    const sb = await lab();
    const r = await sb.sh('trace -p tcp -d 50.60.70.1 --dport 80 --hooks pc1 --diagram x.svg');
    expect(r.rc).toBe(2);
    expect(r.stderr).toContain('a one-packet trace only crosses router');
    expect(existsSync(join(sb.dir, 'x.svg'))).toBe(false);
  });
});

describe('refused before anything runs', () => {
  const cases: [string, number, RegExp][] = [
    [`trace ${HAIRPIN} --diagram conn.png`, 2, /--diagram writes an \.svg or \.html file; `conn\.png' is neither/],
    [`trace ${HAIRPIN} --hooks router`, 2, /give --diagram too/],
    [`trace ${HAIRPIN} --hooks nosuch --diagram x.svg`, 2, /--hooks: no host `nosuch'/],
    [`trace ${HAIRPIN} --diagram nodir/x.svg`, 1, /cannot write nodir\/x\.svg: no such directory/],
    [`trace ${HAIRPIN} --all-paths --diagram x.svg`, 2, /--diagram draws one connection/],
    ['lab reset --diagram x.svg', 2, /--diagram draws the lab with `lab show'/],
    ['lab show --diagram x.txt', 2, /`x\.txt' is neither/],
  ];
  for (const [line, rc, msg] of cases) {
    it(line, async () => {
      const sb = await lab(DNAT);
      const before = readFileSync(sb.state, 'utf8');
      const r = await sb.sh(line);
      expect(r.rc).toBe(rc);
      expect(r.stderr).toMatch(msg);
      expect(r.stdout).toBe('');
      // the lab (counters, conntrack, the generator) is as it was
      expect(readFileSync(sb.state, 'utf8')).toBe(before);
    });
  }
});

describe('lab show --diagram', () => {
  it('FILE.svg: the topology; the text output is unchanged', async () => {
    const sb = await lab();
    const plain = await sb.sh('lab show');
    const r = await sb.sh('lab show --diagram lab.svg');
    expect(r.rc).toBe(0);
    expect(r.stdout).toBe(plain.stdout);
    const svg = readFileSync(join(sb.dir, 'lab.svg'), 'utf8');
    selfContained(svg);
    for (const t of ['router (default host)', 'eth1 192.168.1.1/24', 'default via 50.60.70.1 dev eth0', 'lan (switch)', 'forwards (ip_forward=1)']) expect(svg).toContain(t);
  });

  it('FILE.html: the picture and `lab show` text', async () => {
    const sb = await lab();
    expect((await sb.sh('lab show --diagram lab.html')).rc).toBe(0);
    const html = readFileSync(join(sb.dir, 'lab.html'), 'utf8');
    selfContained(html);
    expect(html).toContain('<svg ');
    expect(html).toContain('internet:wan 50.60.70.1/24');
  });
});
