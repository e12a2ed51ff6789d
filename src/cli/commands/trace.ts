/**
 * `trace`: push a synthetic packet through one host (`-i IFACE ...`, or without -i from a local
 * process of the host) and show every chain, rule, rewrite, routing decision and conntrack event.
 * The trace is an event in the lab: counters, conntrack and extension state change and are saved.
 */
import { SimError, XtablesError } from '../../errors.js';
import { parseDotted } from '../../net/ipv4.js';
import { protocolByName } from '../../net/netdb.js';
import { explainHostOutcome, tracePacket, type HostTrace, type PacketSpec } from '../../engine/simulate.js';
import { Unmodelled } from '../../engine/netfilter.js';
import { parseTcpFlags } from '../../extensions/matches/tcp.js';
import { parseUint } from '../../util/strtoul.js';
import { renderText, makeColors } from '../../trace/text.js';
import { renderXtables } from '../../trace/xtables.js';
import { connectionPicture, connectionTextDiagram, packetPicture } from '../../render/pictures.js';
import { hostOf, readOnly, readWrite, type CliContext } from '../context.js';
import { allPaths, LabSim, type ConnectionResult } from '../../engine/lab-sim.js';
import { findHost, noHostMessage, type Lab } from '../../net/lab.js';
import { pictureRequest, writePicture, type PictureRequest } from '../../render/files.js';

export interface TraceOptions {
  inInterface?: string;
  protocol?: string;
  source?: string;
  destination?: string;
  sport?: string;
  dport?: string;
  tcpFlags?: string;
  icmpType?: string;
  mark?: string;
  len?: string;
  ttl?: string;
  format?: string;
  seed?: string;
  from?: string;
  allPaths?: boolean;
  brief?: boolean;
  /** --diagram FILE: also draw the trace into FILE (.svg or .html) */
  diagramFile?: string;
  /** --no-diagram: no text diagram under a connection's events */
  textDiagram?: boolean;
  /** --hooks HOST: the picture shows HOST's netfilter hooks */
  hooks?: string;
  /** --batch FILE: one packet per line of FILE, JSON lines out (./trace-batch.ts) */
  batch?: string;
}

const ICMP_TYPES: Record<string, [number, number]> = {
  'echo-request': [8, 0],
  'echo-reply': [0, 0],
  'destination-unreachable': [3, 0],
  'port-unreachable': [3, 3],
  'host-unreachable': [3, 1],
  'time-exceeded': [11, 0],
};

/** a plain decimal number, which strtoul(base 0) reads as written (trace --batch parses many) */
const PLAIN_DECIMAL = /^(?:0|[1-9][0-9]{0,9})$/;

function num(name: string, v: string | undefined, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = PLAIN_DECIMAL.test(v) ? (Number(v) <= max ? Number(v) : undefined) : parseUint(v, 0, max);
  if (n === undefined) throw new SimError(`trace: bad ${name} \`${v}'`, 2);
  return n;
}

/** parseDotted() without its regular expression: four decimal groups of 1-3 digits, each <= 255 */
function dotted(v: string): number | undefined {
  let a = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (++digits > 3) return undefined;
      part = part * 10 + c - 48;
    } else if (c === 46 && digits > 0 && dots < 3) {
      if (part > 255) return undefined;
      a = a * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else return undefined;
  }
  if (dots !== 3 || digits === 0 || part > 255) return undefined;
  return a * 256 + part;
}

function addr(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const a = dotted(v) ?? parseDotted(v);
  if (a === undefined) throw new SimError(`trace: ${name} must be an IPv4 address, got \`${v}'`, 2);
  return a;
}

/** protocol names already looked up (trace --batch reads the same few many times) */
const protocols = new Map<string, number>();

function protocolNumber(text: string): number | undefined {
  let n = protocols.get(text);
  if (n === undefined) {
    n = parseUint(text, 0, 255) ?? protocolByName(text);
    if (n !== undefined) protocols.set(text, n);
  }
  return n;
}

/** --tcp-flags LIST: flag names as iptables' --tcp-flags takes them (iptables' own error would be an internal one here) */
function tcpFlagsOption(text: string): number {
  try {
    return parseTcpFlags(text);
  } catch (e) {
    if (!(e instanceof XtablesError)) throw e;
    throw new SimError(`trace: --tcp-flags ${text}: ${e.message.trim()} (the flags are FIN, SYN, RST, PSH, ACK, URG, ALL and NONE, separated by commas)`, 2);
  }
}

export function packetSpec(o: TraceOptions): PacketSpec {
  const protoText = (o.protocol ?? 'tcp').toLowerCase();
  const proto = protocolNumber(protoText);
  if (proto === undefined) throw new SimError(`trace: unknown protocol \`${o.protocol}'`, 2);
  const dst = addr('-d', o.destination);
  if (dst === undefined) throw new SimError('trace: say where the packet goes with -d ADDRESS', 2);
  const spec: PacketSpec = {
    iface: o.inInterface,
    proto,
    src: addr('-s', o.source),
    dst,
    mark: num('--mark', o.mark, 0xffffffff),
    len: num('--len', o.len, 65535),
    ttl: num('--ttl', o.ttl, 255),
  };
  if (proto === 6 || proto === 17) {
    spec.sport = num('--sport', o.sport, 65535) ?? 40000;
    spec.dport = num('--dport', o.dport, 65535);
    if (spec.dport === undefined) throw new SimError('trace: a tcp or udp packet needs --dport', 2);
  }
  else if (o.dport !== undefined) throw new SimError('trace: --dport is for tcp and udp packets', 2);
  if (proto === 6) spec.tcpFlags = o.tcpFlags ? tcpFlagsOption(o.tcpFlags) : 0x02;
  else if (o.tcpFlags !== undefined) throw new SimError('trace: --tcp-flags is for tcp packets', 2);
  if (proto === 1) {
    const t = o.icmpType ?? 'echo-request';
    const known = ICMP_TYPES[t];
    if (known) [spec.icmpType, spec.icmpCode] = known;
    else {
      const [a, b] = t.split('/');
      spec.icmpType = num('--icmp-type', a, 255);
      spec.icmpCode = num('--icmp-type', b ?? '0', 255);
    }
    // an echo's identifier plays the part of the source port (conntrack keys ICMP echo on it)
    if (o.sport !== undefined) {
      if (spec.icmpType !== 8 && spec.icmpType !== 0) throw new SimError('trace: --sport sets the identifier of an ICMP echo; this ICMP type has none', 2);
      spec.sport = num('--sport', o.sport, 65535);
    }
  } else if (o.icmpType !== undefined) throw new SimError('trace: --icmp-type is for icmp packets', 2);
  if (spec.sport === undefined && o.sport !== undefined) throw new SimError('trace: --sport is for tcp and udp packets (and the identifier of an ICMP echo)', 2);
  return spec;
}

function reseed(lab: Lab, seed: string | undefined): void {
  if (seed === undefined) return;
  const n = num('--seed', seed, 0xffffffff)!;
  lab.rng = { seed: n, state: n };
}

function outcomeText(r: ConnectionResult): string {
  return r.verdict === 'established' ? `established by ${r.server!.host} (${r.server!.address}:${r.server!.port}), seen from ${r.peer!.address}:${r.peer!.port}` : r.verdict;
}

/** `trace --from HOST --all-paths`: every outcome where rules draw at random, with its probability */
function traceAllPaths(ctx: CliContext, o: TraceOptions, format: string, spec: PacketSpec): number {
  const paths = readOnly(ctx, (lab) => {
    if (!findHost(lab, o.from!)) throw new SimError(noHostMessage(lab, o.from!), 2);
    reseed(lab, o.seed);
    return allPaths(lab, { from: o.from!, proto: spec.proto, dst: spec.dst, dport: spec.dport, sport: o.sport !== undefined ? spec.sport : undefined });
  });
  // paths that end the same way are one outcome
  const outcomes = new Map<string, { probability: number; result: ConnectionResult; paths: number }>();
  for (const p of paths) {
    const key = outcomeText(p.result);
    const o2 = outcomes.get(key);
    if (o2) {
      o2.probability += p.probability;
      o2.paths++;
    } else outcomes.set(key, { probability: p.probability, result: p.result, paths: 1 });
  }
  const list = [...outcomes.values()].sort((a, b) => b.probability - a.probability);
  if (format === 'json') {
    ctx.io.out(
      JSON.stringify(
        {
          outcomes: list.map(({ probability, result, paths: n }) => ({ probability, paths: n, verdict: result.verdict, server: result.server, peer: result.peer, explanation: result.explanation, ...(result.errno ? { errno: result.errno } : {}) })),
        },
        null,
        1,
      ) + '\n',
    );
    return 0;
  }
  const pct = (x: number) => `${(x * 100).toFixed(2).replace(/\.?0+$/, '')}%`;
  for (const { probability, result } of list) ctx.io.out(`${pct(probability).padStart(7)}  ${outcomeText(result)}\n         ${result.explanation}\n`);
  return 0;
}

/** `trace --from HOST`: a whole connection through the lab */
async function traceConnection(ctx: CliContext, o: TraceOptions, format: string): Promise<number> {
  if (o.inInterface) throw new SimError('trace: --from and -i do not go together (a connection starts at a process of --from)', 2);
  if (o.source) throw new SimError('trace: --from picks the source address by routing; -s is not used with --from', 2);
  const spec = packetSpec(o);
  const picture = pictureOptions(ctx, o);
  if (o.allPaths) {
    if (picture) throw new SimError('trace: --diagram draws one connection; --all-paths runs many', 2);
    return traceAllPaths(ctx, o, format, spec);
  }
  let traced: Lab | undefined;
  const res = await readWrite<ConnectionResult | Unmodelled>(ctx, (lab) => {
    if (!findHost(lab, o.from!)) throw new SimError(noHostMessage(lab, o.from!), 2);
    if (o.hooks !== undefined && !findHost(lab, o.hooks)) throw new SimError(`trace: --hooks: ${noHostMessage(lab, o.hooks)}`, 2);
    traced = lab;
    reseed(lab, o.seed);
    try {
      const r = new LabSim(lab).connect({ from: o.from!, proto: spec.proto, dst: spec.dst, dport: spec.dport, sport: o.sport !== undefined ? spec.sport : undefined });
      return { save: true, value: r };
    } catch (e) {
      if (e instanceof Unmodelled) return { save: false, value: e };
      throw e;
    }
  });
  if (res instanceof Unmodelled) throw res;
  if (format === 'json') {
    const { verdict, server, peer, explanation, errno, events } = res;
    ctx.io.out(JSON.stringify({ verdict, server, peer, explanation, ...(errno ? { errno } : {}), events }, null, 1) + '\n');
  } else if (format === 'xtables') {
    ctx.io.out(renderXtables(res.events));
  } else {
    const c = makeColors(ctx.color);
    const verdictColor = res.verdict === 'established' ? c.green : c.red;
    const handshakeOnly = !!o.brief && res.verdict === 'established';
    const diagram = o.textDiagram === false ? '' : '\n' + connectionTextDiagram(res.events, c) + '\n';
    ctx.io.out(renderText(res.events, c, o.brief, handshakeOnly) + diagram + verdictColor.bold(`verdict: ${res.verdict}`) + `\n${res.explanation}\n`);
  }
  if (picture) {
    const text = renderText(res.events, makeColors(false)) + `verdict: ${res.verdict}\n${res.explanation}\n`;
    const title = `trace --from ${o.from} ${o.protocol ?? 'tcp'} ${o.destination}${spec.dport !== undefined ? `:${spec.dport}` : ''}`;
    const draw = { title, lab: traced!, verdict: res.verdict, explanation: res.explanation, text, hooks: o.hooks };
    writePicture(ctx.io.cwd, picture, connectionPicture(picture.format, res.events, draw));
  }
  return 0;
}

/** --diagram / --hooks, checked before the trace runs */
function pictureOptions(ctx: CliContext, o: TraceOptions): PictureRequest | undefined {
  const picture = pictureRequest('trace', o.diagramFile, ctx.io.cwd);
  if (o.hooks !== undefined && !picture) throw new SimError('trace: --hooks HOST picks the host whose hooks --diagram FILE draws; give --diagram too', 2);
  return picture;
}

export async function traceCommand(ctx: CliContext, o: TraceOptions): Promise<number> {
  if (o.batch !== undefined) return (await import('./trace-batch.js')).traceBatch(ctx, o);
  const format = o.format ?? (ctx.json ? 'json' : 'text');
  if (!['text', 'json', 'xtables'].includes(format)) throw new SimError(`trace: unknown --format \`${format}' (text, json, xtables)`, 2);
  if (o.from !== undefined) return traceConnection(ctx, o, format);
  if (o.allPaths) throw new SimError('trace: --all-paths needs a connection (--from HOST)', 2);
  const spec = packetSpec(o);
  const picture = pictureOptions(ctx, o);
  const out = await readWrite<(HostTrace & { name: string }) | Unmodelled>(ctx, (lab) => {
    const [name] = hostOf(lab, ctx.host);
    if (o.hooks !== undefined && o.hooks !== name) throw new SimError(`trace: a one-packet trace only crosses ${name}; --hooks names another host of a --from connection`, 2);
    reseed(lab, o.seed);
    try {
      const t = tracePacket(lab, name, spec);
      return { save: true, value: { name, ...t } };
    } catch (e) {
      if (e instanceof Unmodelled) return { save: false, value: e };
      throw e;
    }
  });
  if (out instanceof Unmodelled) throw out;
  const explanation = explainHostOutcome(out.name, out.outcome);
  if (format === 'json') {
    ctx.io.out(JSON.stringify({ host: out.name, outcome: out.outcome.kind, explanation, events: out.events }, null, 1) + '\n');
  } else if (format === 'xtables') {
    ctx.io.out(renderXtables(out.events));
  } else {
    const c = makeColors(ctx.color);
    ctx.io.out(renderText(out.events, c, o.brief) + c.bold(explanation) + '\n');
  }
  if (picture) {
    const title = `trace on ${out.name}: ${o.protocol ?? 'tcp'}${o.source ? ` from ${o.source}` : ''} to ${o.destination}${spec.dport !== undefined ? `:${spec.dport}` : ''}${o.inInterface ? ` in ${o.inInterface}` : ''}`;
    const text = renderText(out.events, makeColors(false)) + explanation + '\n';
    writePicture(ctx.io.cwd, picture, packetPicture(picture.format, out.events, { host: out.name, arrivedOn: o.inInterface, title, text, explanation }));
  }
  return 0;
}
