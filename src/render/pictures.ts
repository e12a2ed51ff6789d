/**
 * What the commands ask for, in one place: a trace's events (or the lab) in, a finished SVG,
 * HTML page or terminal diagram out. Each picture is its layout model drawn by its writer.
 */
import type { ChalkInstance } from 'chalk';
import type { TraceEvent } from '../engine/events.js';
import type { Lab } from '../net/lab.js';
import { PICTURE, TERMINAL } from './geometry.js';
import { distinctPaths, hookPath, type HookPath } from './hook-path.js';
import { hookDiagramModel, layoutHooks } from './hooks-layout.js';
import type { PictureFormat } from './files.js';
import { page } from './html.js';
import { layoutSequence, sequenceModel, type SequenceOptions } from './sequence-layout.js';
import { readConnection, headerOf, packetName, visitsOf } from './story.js';
import { hooksSvg, sequenceSvg, topologySvg } from './svg.js';
import { renderTextDiagram } from './text-diagram.js';
import { hostLines, layoutTopology } from './topology-layout.js';

/** the addresses under each host's name in the sequence diagram's lane headers */
export function laneLines(lab: Lab): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, h] of Object.entries(lab.hosts)) out[name] = hostLines(name, h, false).slice(1).filter((l) => !/^forwards|^route /.test(l));
  return out;
}

export function connectionSvg(events: TraceEvent[], title: string, opts: SequenceOptions = {}): string {
  return sequenceSvg(layoutSequence(sequenceModel(events, opts), PICTURE), title);
}

export function connectionTextDiagram(events: TraceEvent[], color: ChalkInstance): string {
  return renderTextDiagram(layoutSequence(sequenceModel(events), TERMINAL), color);
}

/** every path the connection's packets took through `host`, one per distinct way */
export function connectionHookPaths(events: TraceEvent[], host: string): HookPath[] {
  const paths: HookPath[] = [];
  for (const t of readConnection(events).transmissions) {
    for (const v of t.visits) if (v.host === host) paths.push(hookPath(v, t.dir, `#${t.n + 1} ${t.what}`));
  }
  return distinctPaths(paths);
}

/** the hosts whose hooks a connection's packets passed, in lane order */
export function hostsCrossed(events: TraceEvent[]): string[] {
  return readConnection(events).hosts;
}

/** `subtitle` names the trace in the figure's title line */
export function hooksSvgFor(host: string, paths: HookPath[], subtitle: string, id?: string, remark?: string): string {
  const model = hookDiagramModel(host, paths, { subtitle, ...(remark ? { remark } : {}) });
  return hooksSvg(layoutHooks(model, PICTURE), `${host}: netfilter hooks (${subtitle})`, id);
}

/** a connection's hook diagram of `host`, saying so when the replies went around it */
function connectionHooksSvg(events: TraceEvent[], host: string, subtitle: string, id?: string): string {
  const paths = connectionHookPaths(events, host);
  const replies = readConnection(events).transmissions.filter((t) => t.dir === 'reply');
  const remark =
    paths.length && replies.length && !paths.some((p) => p.dir === 'reply') ? `no reply passed ${host}'s hooks: the answers (${replies.map((t) => `#${t.n + 1} ${t.what}`).join(', ')}) went another way` : undefined;
  return hooksSvgFor(host, paths, subtitle, id, remark);
}

/** the path of a one-packet trace (`arrivedOn`: the -i interface, undefined for a local sender) */
export function packetHookPaths(events: TraceEvent[], arrivedOn: string | undefined): HookPath[] {
  const first = events.find((e) => e.kind === 'packet');
  const what = first && first.kind === 'packet' ? packetName(headerOf(first.pkt)) : 'packet';
  return visitsOf(events, arrivedOn).map((v) => hookPath(v, 'original', `#1 ${what}`));
}

export function connectionHtml(events: TraceEvent[], title: string, text: string, opts: SequenceOptions & { hooksOf?: string[] }): string {
  const hosts = opts.hooksOf ?? hostsCrossed(events);
  const sections = [{ heading: 'The connection', html: connectionSvg(events, title, opts) }];
  hosts.forEach((h, i) => sections.push({ heading: `Netfilter hooks on ${h}`, html: connectionHooksSvg(events, h, title, `hooks${i}`) }));
  return page(title, sections, { heading: 'Trace', body: text }, opts.verdict ? `verdict: ${opts.verdict}. ${opts.explanation ?? ''}` : undefined);
}

export function packetHtml(events: TraceEvent[], host: string, arrivedOn: string | undefined, title: string, text: string, summary: string): string {
  return page(title, [{ heading: `Netfilter hooks on ${host}`, html: hooksSvgFor(host, packetHookPaths(events, arrivedOn), title) }], { heading: 'Trace', body: text }, summary);
}

export function labSvg(lab: Lab): string {
  return topologySvg(layoutTopology(lab, PICTURE), `lab: ${lab.name}`);
}

export function labHtml(lab: Lab, text: string): string {
  return page(`lab: ${lab.name}`, [{ heading: 'Topology', html: labSvg(lab) }], { heading: 'lab show', body: text });
}

/** `trace --from ... --diagram`: the sequence diagram (or, with `hooks`, that host's hooks), or the HTML page */
export function connectionPicture(
  format: PictureFormat,
  events: TraceEvent[],
  o: { title: string; lab: Lab; verdict: string; explanation: string; text: string; hooks?: string },
): string {
  const seq: SequenceOptions = { hostLines: laneLines(o.lab), verdict: o.verdict, explanation: o.explanation };
  if (format === 'html') return connectionHtml(events, o.title, o.text, { ...seq, hooksOf: o.hooks ? [o.hooks] : undefined });
  if (o.hooks) return connectionHooksSvg(events, o.hooks, o.title);
  return connectionSvg(events, o.title, seq);
}

/** `trace ... --diagram` for one packet: the host's hooks with its path, or the HTML page */
export function packetPicture(format: PictureFormat, events: TraceEvent[], o: { host: string; arrivedOn?: string; title: string; text: string; explanation: string }): string {
  if (format === 'html') return packetHtml(events, o.host, o.arrivedOn, o.title, o.text, o.explanation);
  return hooksSvgFor(o.host, packetHookPaths(events, o.arrivedOn), o.title);
}

/** `lab show --diagram` */
export function labPicture(format: PictureFormat, lab: Lab, text: string): string {
  return format === 'html' ? labHtml(lab, text) : labSvg(lab);
}
