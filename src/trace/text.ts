/**
 * A trace as text: one line per event, in path order, grouped by host; rewrites and drops stand
 * out (colour only when the terminal wants it).
 */
import { Chalk, type ChalkInstance } from 'chalk';
import type { TraceEvent } from '../engine/events.js';

export function makeColors(enabled: boolean): ChalkInstance {
  return new Chalk({ level: enabled ? 1 : 0 });
}

function verdictWord(v: string): string {
  if (v === 'RETURN') return 'RETURN';
  return v.replace(/^JUMP:/, 'jump to ').replace(/^GOTO:/, 'goto ');
}

/** what --brief keeps: where the packets went and what changed them */
const BRIEF = new Set(['packet', 'link', 'rewrite', 'drop', 'deliver', 'reply']);

/**
 * `brief`: only where the packets went and what changed them; `handshakeOnly`: stop where a
 * connection that succeeded moves on to its request and answer (they take the same way again).
 */
export function renderText(events: TraceEvent[], color: ChalkInstance, brief = false, handshakeOnly = false): string {
  const lines: string[] = [];
  let host = '';
  // the chain whose rules are being listed: a jump or a return names the next one (SPEC: each
  // chain entered, table:CHAIN)
  let chainAt = '';
  const inChain = (table: string, chain: string): void => {
    if (`${table}:${chain}` === chainAt) return;
    chainAt = `${table}:${chain}`;
    lines.push(color.cyan(`  ${chainAt}`));
  };
  for (const e of events) {
    if (handshakeOnly && e.kind === 'phase') {
      lines.push(color.dim('  ... the request and the answer take the same way'));
      break;
    }
    if (brief && !BRIEF.has(e.kind)) continue;
    if (e.host !== host) {
      host = e.host;
      chainAt = '';
      lines.push(color.bold(`[${host}]`));
    }
    switch (e.kind) {
      case 'packet':
        lines.push(`  packet: ${e.note}`);
        break;
      case 'hook':
        chainAt = '';
        inChain(e.table, e.chain);
        break;
      case 'rule':
        inChain(e.table, e.chain);
        lines.push(`    rule ${e.num}: ${e.text}  => ${color.bold(verdictWord(e.verdict))}`);
        break;
      case 'policy':
        inChain(e.table, e.chain);
        lines.push(`    policy ${e.policy}`);
        break;
      case 'return':
        inChain(e.table, e.chain);
        lines.push(`    end of ${e.chain}: return to ${e.to}`);
        break;
      case 'rewrite':
        lines.push(color.yellow(`  ${e.target} (${e.table}:${e.chain}): ${e.field} ${e.before} -> ${e.after}`));
        break;
      case 'route':
        lines.push(`  route ${e.decision}: ${e.dst}${e.route ? ` via route "${e.route}"` : ''}${e.rule ? ` (ip rule ${e.rule})` : ''}${e.src && e.decision !== 'input' ? `, source ${e.src}` : ''}`);
        break;
      case 'conntrack':
        lines.push(color.magenta(`  conntrack: ${e.text}`));
        break;
      case 'drop':
        lines.push(color.red(`  DROPPED: ${e.reason}`));
        break;
      case 'log':
      case 'note':
        lines.push(`  ${e.text}`);
        break;
      case 'link':
        lines.push(color.blue(`  ${e.from}:${e.iface} -> ${e.to}:${e.peerIface}`));
        break;
      case 'deliver':
        lines.push(color.green(`  delivered to ${e.socket}`));
        break;
      case 'reply':
        lines.push(`  ${e.what}`);
        break;
      case 'phase':
        lines.push(color.dim(`  -- ${e.name === 'data' ? 'handshake done: request and answer' : 'both ends close the connection (FIN each way, not traced): its conntrack entries wait in TIME_WAIT'} --`));
        break;
    }
  }
  return lines.join('\n') + '\n';
}
