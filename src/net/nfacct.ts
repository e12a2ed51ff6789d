/**
 * Extended accounting objects (nfnetlink_acct): named packet and byte counters that `-m nfacct`
 * rules count into, each optionally with a quota in bytes or packets; made and read with the
 * nfacct tool (1.0.2). Kept per host, in the order they were made (the kernel's list).
 */

/** NFACCT_NAME_MAX: the name's buffer, its NUL included */
export const NFACCT_NAME_MAX = 32;

export interface NfacctObject {
  name: string;
  pkts: number;
  bytes: number;
  quota?: {
    mode: 'byte' | 'packet';
    value: number;
    /** the counter reached the quota (NFACCT_OVERQUOTA: set once, a reset clears it) */
    over: boolean;
  };
}

/** the host's object of that name */
export function findNfacct(list: NfacctObject[] | undefined, name: string): NfacctObject | undefined {
  return list?.find((o) => o.name === name);
}

/**
 * nfnl_acct_update() then nfnl_acct_overquota() for a packet of `bytes` bytes: the counts after it
 * and what the match answers (no quota: always; a quota: once the counter is past it). `apply`
 * false: the object is left as it is (a batch's packet).
 */
export function countNfacct(o: NfacctObject, bytes: number, apply: boolean): boolean {
  const pkts = o.pkts + 1;
  const total = o.bytes + bytes;
  const q = o.quota;
  const now = q?.mode === 'packet' ? pkts : total;
  if (apply) {
    o.pkts = pkts;
    o.bytes = total;
    if (q && now >= q.value) q.over = true;
  }
  return q ? now > q.value : true;
}

const n20 = (v: number): string => String(v).padStart(20, '0');

/** nfacct_snprintf(): the plain, XML and JSON forms of one object (libnetfilter_acct 1.0.3) */
export function nfacctText(o: NfacctObject, format: 'plain' | 'xml' | 'json'): string {
  const q = o.quota;
  if (format === 'xml') return `<obj><name>${o.name}</name><pkts>${n20(o.pkts)}</pkts><bytes>${n20(o.bytes)}</bytes></obj>`;
  if (format === 'json') {
    const quota = q ? `, "quota" : ${q.value}, "mode" = "${q.mode}", "overquota" = ${q.over ? 1 : 0}` : '';
    return `  { "pkts" : ${o.pkts}, "bytes" : ${o.bytes}${quota}, "name" : "${o.name}" }`;
  }
  const quota = q ? `, quota = ${n20(q.value)}, mode = ${q.mode}, overquota = ${q.over ? 'yes' : 'no'}` : '';
  return `{ pkts = ${n20(o.pkts)}, bytes = ${n20(o.bytes)}${quota} } = ${o.name};`;
}
