/**
 * `lab show | lab reset | lab init [--topology FILE]`: the lab's hosts, interfaces, addresses,
 * routes, services and sysctls drawn as text; back to the built-in lab; or a lab from a file.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SimError } from '../../errors.js';
import { builtinLab } from '../../net/builtin-lab.js';
import { members, type AnySet } from '../../net/ipset.js';
import { liveMembers } from '../../net/ipset-list.js';
import { liveBits } from '../../net/ipset-bitmap.js';
import { ipToString } from '../../net/ipv4.js';
import type { Lab } from '../../net/lab.js';
import { defaultRules } from '../../net/routing.js';
import { defaultSysctls } from '../../net/sysctl.js';
import { pictureRequest, writePicture } from '../../render/files.js';
import { replaceLab } from '../../state/store.js';
import { readOnly, type CliContext } from '../context.js';

export interface LabOptions {
  topology?: string;
  /** with show: draw the lab into this .svg or .html file */
  diagram?: string;
}

/** the segments as wires between host:interface endpoints, then each host's settings */
export function describeLab(lab: Lab): string {
  const addrOf = (m: string): string => {
    const [h, i] = m.split(':');
    return lab.hosts[h!]?.interfaces.find((x) => x.name === i)?.addrs.join(',') ?? '';
  };
  let out = `lab: ${lab.name} (default host: ${lab.defaultHost})\n\n`;
  for (const seg of lab.segments) {
    const ends = seg.members.map((m) => `${m} ${addrOf(m)}`.trim());
    if (ends.length === 2) {
      out += `  ${ends[0]} ──[${seg.name}]── ${ends[1]}\n`;
    } else {
      out += `  [${seg.name}] switch\n`;
      ends.forEach((e, k) => (out += `   ${k === ends.length - 1 ? '└' : '├'}── ${e}\n`));
    }
  }
  for (const [name, h] of Object.entries(lab.hosts)) {
    out += `\n${name}${name === lab.defaultHost ? ' (default host)' : ''}\n`;
    for (const i of h.interfaces) out += `  ${i.name.padEnd(6)} ${i.addrs.join(', ') || '-'}${i.up ? '' : ' (down)'}\n`;
    for (const r of h.routes) out += `  route ${r.type && r.type !== 'unicast' ? `${r.type} ` : ''}${r.dst}${r.via ? ` via ${r.via}` : ''}${r.dev ? ` dev ${r.dev}` : ''}${r.src ? ` src ${r.src}` : ''}${typeof r.table === 'number' ? ` table ${r.table}` : ''}\n`;
    if (!defaultRules(h)) out += `  ${h.rules!.length} policy routing rules, not the kernel's defaults (\`ip rule show\` lists them)\n`;
    if (h.services.length) out += `  listening: ${h.services.map((s) => `${s.proto}/${s.port}${s.addr !== '0.0.0.0' ? `@${s.addr}` : ''}`).join(' ')}\n`;
    const defaults = defaultSysctls(
      h.interfaces.map((i) => i.name),
      false,
    );
    const fwd = h.sysctls['net.ipv4.ip_forward'];
    for (const [k, v] of Object.entries(h.sysctls)) {
      // ip_forward sets every conf.*.forwarding: show those only where they differ from it
      if (defaults[k] === v || (/^net\.ipv4\.conf\.[^.]+\.forwarding$/.test(k) && v === fwd)) continue;
      out += `  sysctl ${k} = ${v}\n`;
    }
    const tables = Object.keys(h.tables);
    if (tables.length) out += `  netfilter tables: ${tables.join(', ')}\n`;
    if (h.conntrack.length) out += `  conntrack entries: ${h.conntrack.length}\n`;
    const count = (n: number): string => `${n} ${n === 1 ? 'entry' : 'entries'}`;
    const sets = h.ipsets?.filter((s): s is AnySet => s !== null);
    const now = lab.clock ?? 0;
    const about = (s: AnySet): string =>
      s.type === 'list:set' ? `list:set, ${count(liveMembers(s, now).length)}` : s.type === 'bitmap:port' ? `bitmap:port ${s.first}-${s.last}, ${count(liveBits(s, now).length)}` : s.type === 'bitmap:ip' ? `bitmap:ip ${ipToString(s.first)}-${ipToString(s.last)}, ${count(liveBits(s, now).length)}` : `${s.type}${s.family ? ` family ${s.family}` : ''}, ${count(members(s, now).length)}`;
    if (sets?.length) out += `  ip sets: ${sets.map((s) => `${s.name} (${about(s)})`).join(', ')}\n`;
  }
  return out;
}

async function loadTopology(ctx: CliContext, file: string): Promise<Lab> {
  let text: string;
  try {
    text = readFileSync(resolve(ctx.io.cwd, file), 'utf8');
  } catch (e) {
    throw new SimError(`cannot read ${file}: ${(e as Error).message}`, 1);
  }
  // yaml ships CommonJS for node: the bundle may expose it as the default export
  const mod = (await import('yaml')) as typeof import('yaml') & { default?: typeof import('yaml') };
  const parse = mod.parse ?? mod.default!.parse;
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    // (yaml's message ends its first line with a colon, then shows the line with a caret under the place)
    const [first = '', ...frame] = (e as Error).message.trimEnd().split('\n');
    const shown = frame.filter((l) => l.trim() !== '');
    throw new SimError(`${file} is not valid YAML: ${first.replace(/:$/, '')}${shown.length ? `\n${shown.join('\n')}` : ''}`, 2);
  }
  const { labFromTopology } = await import('../../net/topology.js');
  return labFromTopology(doc, file);
}

export async function labCommand(ctx: CliContext, action: string | undefined, opts: LabOptions = {}): Promise<number> {
  const { io } = ctx;
  if (opts.diagram !== undefined && action !== undefined && action !== 'show') throw new SimError(`lab: --diagram draws the lab with \`lab show'; not with \`lab ${action}'`, 2);
  switch (action) {
    case undefined:
    case 'show': {
      const picture = pictureRequest('lab show', opts.diagram, io.cwd);
      const lab = readOnly(ctx, (l) => l);
      io.out(ctx.json ? JSON.stringify(lab, null, 1) + '\n' : describeLab(lab));
      if (picture) writePicture(io.cwd, picture, (await import('../../render/pictures.js')).labPicture(picture.format, lab, describeLab(lab)));
      return 0;
    }
    case 'reset':
      await replaceLab(ctx.statePath, builtinLab(), 'reset');
      io.out(`lab reset to the built-in lab (${ctx.statePath})\n`);
      return 0;
    case 'init': {
      const lab = opts.topology ? await loadTopology(ctx, opts.topology) : builtinLab();
      await replaceLab(ctx.statePath, lab, 'init');
      io.out(`lab \`${lab.name}' with ${Object.keys(lab.hosts).length} hosts written to ${ctx.statePath}\n`);
      return 0;
    }
    default:
      throw new SimError(`unknown lab action \`${action}'; use: lab show | lab reset | lab init [--topology FILE]`, 2);
  }
}
