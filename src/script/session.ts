/**
 * The lab held in memory while `run` replays a script: read once under the lab's lock, changed
 * by every command in place, written once at the end (atomically, by the caller).
 *
 * Commands keep the file's contract: a command that throws, or says not to save, leaves the lab
 * as it found it. The file gets that by discarding the copy it read; here each command's changes
 * are undone from a snapshot taken before it. Copying the whole lab for every line would make a
 * 10,000-line script quadratic, so the snapshot covers only what the command can change: for
 * `iptables -A CHAIN` (most of any script) the table's handle counter and that chain's length and
 * fields (an append only pushes new rules onto it, creates the table or the base chain, and
 * allocates handles; other chains are only read, so a lab file's rules are not decoded for
 * nothing); for other iptables commands and
 * iptables-restore the acting host's netfilter tables (chains and rule lists copied, rule objects
 * shared: iptables replaces rules, it never edits one in place before a check can still fail; for
 * the same reason a chain whose rules are still in the lab file is shared, not decoded);
 * the acting host without its tables for sysctl and ip; the whole lab for anything else.
 */
import type { LabSession } from '../cli/context.js';
import type { Host, Lab } from '../net/lab.js';
import { rulesInFile, type Table, type TableName, type Tables } from '../ruleset/tables.js';
import { forgetGraph } from '../ruleset/jump-graph.js';

export type SnapshotScope = 'tables' | 'host' | 'lab' | { append: TableName; chain: string };

function copyTables(t: Tables): Tables {
  const out: Tables = {};
  for (const [name, table] of Object.entries(t) as [keyof Tables, Table | undefined][]) {
    if (!table) continue;
    // a chain whose rules are still in the lab file is kept as it is: copying its rule list would
    // decode it (every chain of a kube-proxy-sized lab for one -N), and like a rule, a command
    // decodes and changes it only once its checks have passed
    out[name] = { ...table, chains: table.chains.map((c) => (rulesInFile(c) ? c : { ...c, rules: c.rules.slice() })) };
  }
  return out;
}

type Undo = () => void;

export class MemorySession implements LabSession {
  /** some command changed the lab since it was loaded */
  dirty = false;
  private host: string | undefined;
  private scope: SnapshotScope = 'lab';

  constructor(public lab: Lab) {}

  /** what the next command acts on (its host, and how much of the lab it can change) */
  prepare(host: string | undefined, scope: SnapshotScope): void {
    this.host = host;
    this.scope = scope;
  }

  read<T>(fn: (lab: Lab) => T): T {
    return fn(this.lab);
  }

  async update<T>(fn: (lab: Lab) => { save: boolean; value: T }): Promise<T> {
    const undo = this.snapshot();
    let r: { save: boolean; value: T };
    try {
      r = fn(this.lab);
    } catch (e) {
      undo();
      throw e;
    }
    if (r.save) this.dirty = true;
    else undo();
    return r.value;
  }

  private snapshot(): Undo {
    const lab = this.lab;
    const name = this.host ?? lab.defaultHost;
    const host: Host | undefined = lab.hosts[name];
    const scope = this.scope;
    if (typeof scope === 'object' && host) {
      const tables = host.tables;
      const table = tables[scope.append];
      if (!table) {
        return () => {
          delete tables[scope.append];
        };
      }
      const { chains, nextHandle } = table;
      const count = chains.length;
      const c = chains.find((x) => x.name === scope.chain);
      const saved = c && { rules: c.rules, n: c.rules.length, policy: c.policy, created: c.created, handle: c.handle, pkts: c.pkts, bytes: c.bytes };
      return () => {
        tables[scope.append] = table;
        // the jump graph may have taken in the rules undone (it is kept in the lab file)
        forgetGraph(table);
        table.chains = chains;
        chains.length = count;
        table.nextHandle = nextHandle;
        if (c && saved) {
          Object.assign(c, { rules: saved.rules, policy: saved.policy, created: saved.created, handle: saved.handle, pkts: saved.pkts, bytes: saved.bytes });
          saved.rules.length = saved.n;
        }
      };
    }
    if (scope === 'tables' && host) {
      const saved = copyTables(host.tables);
      return () => {
        host.tables = saved;
      };
    }
    if (scope === 'host' && host) {
      const { tables, ...rest } = host;
      const saved = structuredClone(rest) as Record<string, unknown>;
      return () => {
        const h = host as unknown as Record<string, unknown>;
        for (const k of Object.keys(h)) if (k !== 'tables' && !(k in saved)) delete h[k];
        for (const [k, v] of Object.entries(saved)) h[k] = v;
        lab.hosts[name] = host;
      };
    }
    const saved = structuredClone(lab);
    return () => {
      this.lab = saved;
    };
  }
}
