import { describe, expect, it } from 'vitest';
import type { NatRequest } from '../../src/engine/ext-api.js';
import { applyTarget, context, ip, packet, ruleFrom } from '../helpers/ext.js';

const tcp = (dport: number, sport = 40000) => packet({ proto: 6, sport, dport, src: '192.168.1.5', dst: '203.0.113.9' });

describe('SNAT / DNAT bindings', () => {
  const cases: [string, ReturnType<typeof packet>, NatRequest][] = [
    ['-t nat -A PREROUTING -j DNAT --to-destination 10.0.0.1', tcp(80), { kind: 'DNAT', minIp: ip('10.0.0.1'), maxIp: ip('10.0.0.1') }],
    [
      '-t nat -A PREROUTING -j DNAT --to-destination 10.0.0.1-10.0.0.9',
      tcp(80),
      { kind: 'DNAT', minIp: ip('10.0.0.1'), maxIp: ip('10.0.0.9') },
    ],
    [
      '-t nat -A PREROUTING -p tcp -j DNAT --to-destination 10.0.0.1:8080',
      tcp(80),
      { kind: 'DNAT', minIp: ip('10.0.0.1'), maxIp: ip('10.0.0.1'), minPort: 8080, maxPort: 8080 },
    ],
    // port only: the address is kept (no MAP_IPS)
    ['-t nat -A PREROUTING -p tcp -j DNAT --to-destination :8080', tcp(80), { kind: 'DNAT', minPort: 8080, maxPort: 8080 }],
    // "12:80" counts as port-only too (the C test looks at the colon's position)
    ['-t nat -A PREROUTING -p tcp -j DNAT --to-destination 12:80', tcp(22), { kind: 'DNAT', minPort: 80, maxPort: 80 }],
    [
      '-t nat -A PREROUTING -p tcp -j DNAT --to-destination 10.0.0.1:1000-2000 --random --persistent',
      tcp(80),
      { kind: 'DNAT', minIp: ip('10.0.0.1'), maxIp: ip('10.0.0.1'), minPort: 1000, maxPort: 2000, random: true, persistent: true },
    ],
    // shifted range: port 5003 with base 5000 maps to 6000 + 3
    [
      '-t nat -A PREROUTING -p udp -j DNAT --to-destination 10.0.0.1:6000-6010/5000',
      packet({ proto: 17, sport: 1234, dport: 5003 }),
      { kind: 'DNAT', minIp: ip('10.0.0.1'), maxIp: ip('10.0.0.1'), minPort: 6003, maxPort: 6003 },
    ],
    // off = (u16)(port - base) wraps, then modulo the range size (11): (4999-5000) & 0xffff = 65535 -> 65535 % 11 = 8
    [
      '-t nat -A PREROUTING -p udp -j DNAT --to-destination 10.0.0.1:6000-6010/5000',
      packet({ proto: 17, sport: 1234, dport: 4999 }),
      { kind: 'DNAT', minIp: ip('10.0.0.1'), maxIp: ip('10.0.0.1'), minPort: 6008, maxPort: 6008 },
    ],
    // 5014 - 5000 = 14 -> 14 % 11 = 3
    [
      '-t nat -A PREROUTING -p tcp -j DNAT --to-destination :6000-6010/5000',
      tcp(5014),
      { kind: 'DNAT', minPort: 6003, maxPort: 6003 },
    ],
    ['-t nat -A POSTROUTING -j SNAT --to-source 198.51.100.1', tcp(80), { kind: 'SNAT', minIp: ip('198.51.100.1'), maxIp: ip('198.51.100.1') }],
    [
      '-t nat -A POSTROUTING -p tcp -j SNAT --to-source 198.51.100.1-198.51.100.4:1024-2047 --random-fully',
      tcp(80),
      { kind: 'SNAT', minIp: ip('198.51.100.1'), maxIp: ip('198.51.100.4'), minPort: 1024, maxPort: 2047, randomFully: true },
    ],
    // SNAT keeps no base port (compat struct): the kernel shifts with base 0, from the source
    // port: 40000 % 1001 = 961
    [
      '-t nat -A POSTROUTING -p tcp -j SNAT --to-source 198.51.100.1:1000-2000/5',
      tcp(80),
      { kind: 'SNAT', minIp: ip('198.51.100.1'), maxIp: ip('198.51.100.1'), minPort: 1961, maxPort: 1961 },
    ],
  ];
  it.each(cases)('%s', (spec, pkt, want) => {
    const r = applyTarget(ruleFrom(spec), pkt, context({ hook: 'PREROUTING', table: 'nat' }));
    expect(r.verdict).toBe('ACCEPT');
    expect(r.nat).toEqual(want);
  });
});

describe('MASQUERADE / REDIRECT leave the address to the engine', () => {
  const cases: [string, NatRequest][] = [
    ['-t nat -A POSTROUTING -j MASQUERADE', { kind: 'MASQUERADE' }],
    ['-t nat -A POSTROUTING -j MASQUERADE --random-fully', { kind: 'MASQUERADE', randomFully: true }],
    ['-t nat -A POSTROUTING -p tcp -j MASQUERADE --to-ports 20000-30000 --random', { kind: 'MASQUERADE', minPort: 20000, maxPort: 30000, random: true }],
    ['-t nat -A PREROUTING -j REDIRECT', { kind: 'REDIRECT' }],
    ['-t nat -A PREROUTING -p tcp -j REDIRECT --to-ports 3128', { kind: 'REDIRECT', minPort: 3128, maxPort: 3128 }],
    ['-t nat -A OUTPUT -p tcp -j REDIRECT --to-ports 8000-8010 --random', { kind: 'REDIRECT', minPort: 8000, maxPort: 8010, random: true }],
  ];
  it.each(cases)('%s', (spec, want) => {
    const r = applyTarget(ruleFrom(spec), tcp(80), context({ hook: 'POSTROUTING', table: 'nat' }));
    expect(r).toEqual({ verdict: 'ACCEPT', nat: want });
  });
});

describe('MASQUERADE with a shifted range', () => {
  it('is refused: the kernel reads an uninitialised base port', () => {
    const rule = ruleFrom('-t nat -A POSTROUTING -p tcp -j MASQUERADE --to-ports 1000-2000/5');
    expect(() => applyTarget(rule, tcp(80), context({ hook: 'POSTROUTING', table: 'nat' }))).toThrow(/uninitialised base port/);
  });
});

describe('NETMAP keeps the host bits', () => {
  const cases: [string, string, string, string, number][] = [
    // [rule, hook, src, dst, expected new address]
    ['--to 10.5.0.0/16', 'PREROUTING', '192.168.1.5', '172.16.33.44', ip('10.5.33.44')],
    ['--to 10.5.0.0/16', 'OUTPUT', '192.168.1.5', '172.16.33.44', ip('10.5.33.44')],
    ['--to 10.5.0.0/16', 'POSTROUTING', '192.168.1.5', '172.16.33.44', ip('10.5.1.5')],
    ['--to 10.5.0.0/16', 'INPUT', '192.168.1.5', '172.16.33.44', ip('10.5.1.5')],
    // the address given is masked first: 10.5.7.7/24 is the 10.5.7.0/24 prefix
    ['--to 10.5.7.7/24', 'PREROUTING', '192.168.1.5', '172.16.33.44', ip('10.5.7.44')],
    ['--to 10.5.7.7', 'PREROUTING', '192.168.1.5', '172.16.33.44', ip('10.5.7.7')],
    ['--to 10.5.7.7/0', 'PREROUTING', '192.168.1.5', '172.16.33.44', ip('172.16.33.44')],
    // a mask with holes ends up as /32
    ['--to 10.5.7.7/255.0.255.0', 'PREROUTING', '192.168.1.5', '172.16.33.44', ip('10.5.7.7')],
  ];
  it.each(cases)('%s in %s', (opt, hook, src, dst, want) => {
    const r = applyTarget(ruleFrom(`-t nat -A ${hook} -j NETMAP ${opt}`), packet({ src, dst }), context({ hook, table: 'nat' }));
    expect(r.verdict).toBe('ACCEPT');
    expect(r.nat?.kind).toBe('NETMAP');
    expect(r.nat?.minIp).toBe(want);
    expect(r.nat?.maxIp).toBe(want);
  });

  it('reports the prefix it maps into', () => {
    const r = applyTarget(ruleFrom('-t nat -A PREROUTING -j NETMAP --to 10.5.7.7/24'), packet(), context({ hook: 'PREROUTING' }));
    expect(r.nat?.netmap).toEqual({ addr: ip('10.5.7.0'), mask: 0xffffff00 });
  });
});

describe('option parsing', () => {
  const errors: [string, string][] = [
    ['-t nat -A PREROUTING -j DNAT --to-destination 1.1.1.1:80', 'Need TCP, UDP, SCTP or DCCP with port specification'],
    ['-t nat -A PREROUTING -j DNAT --to-destination 1.1.1.1:80 -p tcp', 'Need TCP, UDP, SCTP or DCCP with port specification'],
    ['-t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.1.1.1:90-80', "Port range `80' funky"],
    ['-t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.1.1.1:80:90', 'Bad IP address "1.1.1.1:80:90"'],
    ['-t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.1.1.1:80x', "Garbage after port value: `x'"],
    ['-t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.1.1.1:80-90x', "Garbage after port range: `x'"],
    ['-t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.1.1.1:80-90/0', "Port `0' not valid"],
    ['-t nat -A PREROUTING -j DNAT --to-destination 01.1.1.1', 'Bad IP address "01.1.1.1"'],
    ['-t nat -A PREROUTING -j DNAT --to-destination [1.1.1.1]', 'Invalid address format'],
    ['-t nat -A POSTROUTING -p tcp -j MASQUERADE --to-ports 1000:2000', 'Invalid port:port syntax - use dash'],
    ['-t nat -A PREROUTING -p tcp -j REDIRECT --to-ports 1000-2000/5', 'Shifted portmap ranges not supported with this kernel'],
  ];
  it.each(errors)('%s', (spec, msg) => {
    expect(() => ruleFrom(spec)).toThrow(msg);
  });

  it('accepts ports with ICMP and with an inverted protocol, as the C check ignores the inversion', () => {
    expect(() => ruleFrom('-t nat -A PREROUTING -p icmp -j DNAT --to-destination 1.1.1.1:80')).not.toThrow();
    expect(() => ruleFrom('-t nat -A PREROUTING ! -p tcp -j DNAT --to-destination 1.1.1.1:80')).not.toThrow();
    expect(() => ruleFrom('-t nat -A PREROUTING -p udplite -j DNAT --to-destination 1.1.1.1:80')).toThrow('Need TCP');
  });
});
