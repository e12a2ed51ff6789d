/**
 * `check FILE`: firewall tests without root. One expectation per line,
 *
 *   from pc2 tcp 50.60.70.80:8080 => established by pc1 seen-from 192.168.1.1
 *   from internet tcp 50.60.70.80:22 => timeout
 *   from pc1 udp 50.60.70.1:80 sport 40001 => established seen-from 50.60.70.80:40001
 *   from pc1 icmp 203.0.113.10 => established
 *
 * each run as a connection on a copy of the lab (so tests do not disturb each other or the lab),
 * reported per line with the trace of every failure, in text, TAP or JUnit XML. Exit status 1
 * when an expectation fails, 2 when the file cannot be read.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SimError } from '../../errors.js';
import { LabSim, type ConnectionResult, type ConnVerdict } from '../../engine/lab-sim.js';
import { parseDotted } from '../../net/ipv4.js';
import { makeColors, renderText } from '../../trace/text.js';
import { readOnly, type CliContext } from '../context.js';
import { findHost, noHostMessage } from '../../net/lab.js';

export interface Expectation {
  line: number;
  text: string;
  from: string;
  proto: 'tcp' | 'udp' | 'icmp';
  dst: number;
  dport?: number;
  sport?: number;
  verdict: ConnVerdict;
  by?: string;
  seenFrom?: { address: string; port?: number };
}

const VERDICTS = new Set(['established', 'refused', 'unreachable', 'timeout']);

function endpoint(s: string, where: string): { addr: number; port?: number; text: string } {
  const m = /^(\d+\.\d+\.\d+\.\d+)(?::(\d+))?$/.exec(s);
  const addr = m ? parseDotted(m[1]!) : undefined;
  if (!m || addr === undefined || (m[2] !== undefined && (Number(m[2]) < 1 || Number(m[2]) > 65535))) {
    throw new SimError(`${where}: \`${s}' is not ADDRESS or ADDRESS:PORT`, 2);
  }
  return { addr, port: m[2] !== undefined ? Number(m[2]) : undefined, text: m[1]! };
}

/** every bad line of the file said at once, one `FILE:LINE: what` each (a compiler's way) */
function allProblems(problems: string[]): void {
  if (problems.length) throw new SimError(problems.join('\n'), 2);
}

export function parseChecks(text: string, file: string): Expectation[] {
  const out: Expectation[] = [];
  const problems: string[] = [];
  text.split('\n').forEach((raw, i) => {
    try {
      const exp = parseCheck(raw, `${file}:${i + 1}`, i + 1);
      if (exp) out.push(exp);
    } catch (e) {
      if (!(e instanceof SimError)) throw e;
      problems.push(e.message);
    }
  });
  allProblems(problems);
  return out;
}

function parseCheck(raw: string, where: string, lineNo: number): Expectation | undefined {
  const line = raw.replace(/#.*$/, '').trim();
  if (!line) return undefined;
  const [lhs, rhs] = line.split('=>').map((x) => x?.trim());
  if (rhs === undefined) throw new SimError(`${where}: expected \`from HOST PROTO DST[:PORT] => VERDICT ...'`, 2);
  const l = lhs!.split(/\s+/);
  if (l[0] !== 'from' || l.length < 4) throw new SimError(`${where}: a check starts with \`from HOST PROTO DST[:PORT]'`, 2);
  const proto = l[2] as Expectation['proto'];
  if (!['tcp', 'udp', 'icmp'].includes(proto)) throw new SimError(`${where}: protocol \`${l[2]}' is not tcp, udp or icmp`, 2);
  const dst = endpoint(l[3]!, where);
  if (proto !== 'icmp' && dst.port === undefined) throw new SimError(`${where}: a ${proto} check needs DST:PORT`, 2);
  let sport: number | undefined;
  if (l.length > 4) {
    if (l[4] !== 'sport' || !/^\d+$/.test(l[5] ?? '') || l.length > 6) throw new SimError(`${where}: after the destination only \`sport N' may follow`, 2);
    sport = Number(l[5]);
  }
  const r = rhs.split(/\s+/);
  if (!VERDICTS.has(r[0]!)) throw new SimError(`${where}: verdict \`${r[0]}' is not established, refused, unreachable or timeout`, 2);
  const exp: Expectation = { line: lineNo, text: line, from: l[1]!, proto, dst: dst.addr, dport: dst.port, sport, verdict: r[0] as ConnVerdict };
  for (let k = 1; k < r.length; k += 2) {
    const v = r[k + 1];
    if (v === undefined) throw new SimError(`${where}: \`${r[k]}' needs a value`, 2);
    if (r[k] === 'by') exp.by = v;
    else if (r[k] === 'seen-from') {
      const e = endpoint(v, where);
      exp.seenFrom = { address: e.text, port: e.port };
    } else throw new SimError(`${where}: unknown word \`${r[k]}' (by HOST, seen-from ADDRESS[:PORT])`, 2);
  }
  if ((exp.by || exp.seenFrom) && exp.verdict !== 'established') throw new SimError(`${where}: by/seen-from only go with established`, 2);
  return exp;
}

interface Outcome {
  exp: Expectation;
  pass: boolean;
  got: string;
  result: ConnectionResult;
}

function describe(r: ConnectionResult): string {
  return r.verdict === 'established' ? `established by ${r.server!.host} seen-from ${r.peer!.address}:${r.peer!.port}` : r.verdict;
}

function judge(exp: Expectation, r: ConnectionResult): boolean {
  if (r.verdict !== exp.verdict) return false;
  if (exp.by !== undefined && r.server?.host !== exp.by) return false;
  if (exp.seenFrom) {
    if (r.peer?.address !== exp.seenFrom.address) return false;
    if (exp.seenFrom.port !== undefined && r.peer?.port !== exp.seenFrom.port) return false;
  }
  return true;
}

function xml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}

export async function checkCommand(ctx: CliContext, file: string, opts: { format?: string }): Promise<number> {
  const format = opts.format ?? 'text';
  if (!['text', 'tap', 'junit'].includes(format)) throw new SimError(`check: unknown --format \`${format}' (text, tap, junit)`, 2);
  let text: string;
  try {
    text = file === '-' ? await ctx.io.readStdin() : readFileSync(resolve(ctx.io.cwd, file), 'utf8');
  } catch (e) {
    throw new SimError(`cannot read ${file}: ${(e as Error).message}`, 2);
  }
  const checks = parseChecks(text, file);
  const outcomes: Outcome[] = readOnly(ctx, (lab) => {
    allProblems(checks.filter((exp) => !findHost(lab, exp.from)).map((exp) => `${file}:${exp.line}: ${noHostMessage(lab, exp.from)}`));
    return checks.map((exp) => {
      const copy = structuredClone(lab);
      const proto = exp.proto === 'tcp' ? 6 : exp.proto === 'udp' ? 17 : 1;
      const result = new LabSim(copy).connect({ from: exp.from, proto, dst: exp.dst, dport: exp.dport, sport: exp.sport });
      return { exp, pass: judge(exp, result), got: describe(result), result };
    });
  });
  const failed = outcomes.filter((o) => !o.pass).length;
  const { io } = ctx;
  if (format === 'tap') {
    io.out(`TAP version 13\n1..${outcomes.length}\n`);
    outcomes.forEach((o, i) => {
      io.out(`${o.pass ? 'ok' : 'not ok'} ${i + 1} - ${o.exp.text}\n`);
      if (!o.pass) {
        io.out(`  ---\n  line: ${o.exp.line}\n  got: "${o.got}"\n  explanation: ${JSON.stringify(o.result.explanation)}\n  trace: |\n`);
        for (const l of renderText(o.result.events, makeColors(false)).trimEnd().split('\n')) io.out(`    ${l}\n`);
        io.out('  ...\n');
      }
    });
  } else if (format === 'junit') {
    io.out(`<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="${xml(file)}" tests="${outcomes.length}" failures="${failed}">\n`);
    for (const o of outcomes) {
      io.out(`  <testcase classname="${xml(file)}" name="${xml(`line ${o.exp.line}: ${o.exp.text}`)}"`);
      if (o.pass) {
        io.out('/>\n');
        continue;
      }
      io.out(`>\n    <failure message="${xml(`got ${o.got}`)}">${xml(`${o.result.explanation}\n\n${renderText(o.result.events, makeColors(false))}`)}</failure>\n  </testcase>\n`);
    }
    io.out('</testsuite>\n');
  } else {
    const c = makeColors(ctx.color);
    for (const o of outcomes) {
      if (o.pass) io.out(`${c.green('PASS')} ${file}:${o.exp.line}  ${o.exp.text}\n`);
      else {
        io.out(`${c.red('FAIL')} ${file}:${o.exp.line}  ${o.exp.text}\n     got: ${o.got}\n     ${o.result.explanation}\n`);
        for (const l of renderText(o.result.events, c).trimEnd().split('\n')) io.out(`       ${l}\n`);
      }
    }
    io.out(`${outcomes.length - failed} passed, ${failed} failed\n`);
  }
  return failed ? 1 : 0;
}
