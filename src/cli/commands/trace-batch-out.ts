/**
 * `trace --batch`'s output written as bytes: each result line goes straight into one buffer, which
 * is handed to the output when it holds FLUSH_AT bytes. The bytes are those of resultJson() (one
 * line, then "\n"), which stays the reference (test/trace-batch-index.test.ts compares the two):
 * building each line as a string of 20-odd pieces, then joining, then encoding cost more than
 * classifying the packet did.
 *
 * Text that may need escaping (names of hosts, interfaces and chains, reasons) takes the fast path
 * only when it is printable ASCII without `"` or `\`; anything else goes through the string code
 * (str(), explainHostOutcome()) and is encoded as UTF-8, so the bytes are the same either way.
 */
import type { Decision } from '../../engine/batch.js';
import type { HostOutcome } from '../../engine/host.js';
import { PROTO_ICMP, PROTO_TCP, PROTO_UDP, type Packet } from '../../engine/packet.js';
import { explainHostOutcome } from '../../engine/simulate.js';

/** output is handed over every 64 KiB */
const FLUSH_AT = 1 << 16;

/** a JSON string: quoted as it is when nothing in it needs escaping (JSON.stringify costs more per call) */
export function str(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(s);
  }
  return `"${s}"`;
}

/** printable ASCII other than `"` and `\`: written as it is inside a JSON string */
function plain(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

/** tcpFlagNames()'s order */
const FLAG_BITS = [0x02, 0x10, 0x01, 0x04, 0x08, 0x20];
const FLAG_NAMES = ['SYN', 'ACK', 'FIN', 'RST', 'PSH', 'URG'];

export class ResultWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(private readonly flushTo: (bytes: Uint8Array) => void) {
    this.buf = Buffer.allocUnsafe(FLUSH_AT * 2);
  }

  /** room for `n` more bytes */
  private need(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  /** text that needs no escaping in JSON (the fixed words, or what resultJson writes unescaped) */
  private raw(s: string): void {
    const n = s.length;
    this.need(n * 3);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        this.pos += b.write(s, this.pos, 'utf8');
        return;
      }
      b[p++] = c;
    }
    this.pos = p;
  }

  /** a JSON string, as str() writes it */
  private str(s: string): void {
    if (!plain(s)) {
      this.raw(str(s));
      return;
    }
    const n = s.length;
    this.need(n + 2);
    const b = this.buf;
    let p = this.pos;
    b[p++] = 0x22;
    for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    b[p++] = 0x22;
    this.pos = p;
  }

  /** a number as `${n}` writes it */
  private num(n: number | undefined): void {
    if (n === undefined || !Number.isInteger(n) || n < 0 || n > 0xffffffff) {
      this.raw(`${n}`);
      return;
    }
    this.need(10);
    const b = this.buf;
    let p = this.pos;
    if (n < 10) b[p++] = 48 + n;
    else if (n < 100) {
      b[p++] = 48 + ((n / 10) | 0);
      b[p++] = 48 + (n % 10);
    } else {
      let digits = 3;
      for (let x = 1000; x <= n && digits < 10; x *= 10) digits++;
      let q = n;
      for (let i = digits - 1; i >= 0; i--) {
        b[p + i] = 48 + (q % 10);
        q = Math.floor(q / 10);
      }
      p += digits;
    }
    this.pos = p;
  }

  /** ipToString() */
  private ip(a: number): void {
    this.num(a >>> 24);
    this.byte(0x2e);
    this.num((a >>> 16) & 255);
    this.byte(0x2e);
    this.num((a >>> 8) & 255);
    this.byte(0x2e);
    this.num(a & 255);
  }

  private byte(c: number): void {
    this.need(1);
    this.buf[this.pos++] = c;
  }

  /** endpoint() */
  private endpoint(addr: number, port: number | undefined): void {
    this.ip(addr);
    if (port !== undefined) {
      this.byte(0x3a);
      this.num(port);
    }
  }

  /** describePacket() */
  private packet(p: Packet): void {
    const proto = p.proto;
    if (proto === PROTO_TCP) this.raw('tcp ');
    else if (proto === PROTO_UDP) this.raw('udp ');
    else if (proto === PROTO_ICMP) this.raw('icmp ');
    else {
      this.raw('proto ');
      this.num(proto);
      this.byte(0x20);
    }
    this.endpoint(p.src, p.sport);
    this.raw(' -> ');
    this.endpoint(p.dst, p.dport);
    if (proto === PROTO_TCP) {
      this.raw(' [');
      const f = p.tcpFlags;
      if (f !== undefined) {
        let first = true;
        for (let i = 0; i < FLAG_BITS.length; i++) {
          if (!(f & FLAG_BITS[i]!)) continue;
          if (!first) this.byte(0x2c);
          this.raw(FLAG_NAMES[i]!);
          first = false;
        }
      }
      this.byte(0x5d);
    }
    if (proto === PROTO_ICMP) {
      this.raw(' type ');
      this.num(p.icmpType);
      this.raw(' code ');
      this.num(p.icmpCode);
    }
  }

  /** explainHostOutcome() as a JSON string */
  private explanation(host: string, o: HostOutcome): void {
    if (!plain(host) || (o.kind === 'transmit' && !plain(o.dev)) || ((o.kind === 'drop' || o.kind === 'error') && !plain(o.reason))) {
      this.str(explainHostOutcome(host, o));
      return;
    }
    this.byte(0x22);
    switch (o.kind) {
      case 'deliver':
        this.raw(host);
        this.raw(' accepted the packet for local delivery to ');
        this.ip(o.pkt.dst);
        if (o.pkt.dport !== undefined) {
          this.raw(' port ');
          this.num(o.pkt.dport);
        }
        break;
      case 'transmit':
        this.raw(host);
        this.raw(' sends the packet out of ');
        this.raw(o.dev);
        this.raw(' towards ');
        this.ip(o.nexthop);
        this.raw(' as ');
        this.packet(o.pkt);
        break;
      case 'drop':
        this.raw(host);
        this.raw(' dropped the packet: ');
        this.raw(o.reason);
        break;
      case 'error':
        this.raw('the sending process on ');
        this.raw(host);
        this.raw(' gets ');
        this.raw(o.errno);
        this.raw(': ');
        this.raw(o.reason);
        break;
    }
    this.raw('."');
  }

  /** resultJson(line, {outcome, explanation: explainHostOutcome(host, outcome), decisions, reject}) and a newline */
  result(line: number, host: string, o: HostOutcome, decisions: readonly Decision[], reject: string | undefined): void {
    const p = o.pkt;
    this.raw('{"line":');
    this.num(line);
    this.raw(',"outcome":"');
    this.raw(o.kind);
    this.raw('","explanation":');
    this.explanation(host, o);
    this.raw(',"proto":');
    this.num(p.proto);
    this.raw(',"src":"');
    this.ip(p.src);
    this.byte(0x22);
    if (p.sport !== undefined) {
      this.raw(',"sport":');
      this.num(p.sport);
    }
    this.raw(',"dst":"');
    this.ip(p.dst);
    this.byte(0x22);
    if (p.dport !== undefined) {
      this.raw(',"dport":');
      this.num(p.dport);
    }
    if (o.kind === 'transmit') {
      this.raw(',"out":');
      this.str(o.dev);
      this.raw(',"nexthop":"');
      this.ip(o.nexthop);
      this.byte(0x22);
    } else if (o.kind === 'drop') {
      this.raw(',"reason":');
      this.str(o.reason);
      if (reject !== undefined) {
        this.raw(',"reject":');
        this.str(reject);
      }
    } else if (o.kind === 'error') {
      this.raw(',"errno":"');
      this.raw(o.errno);
      this.raw('","reason":');
      this.str(o.reason);
    }
    this.raw(',"rules":[');
    for (let i = 0; i < decisions.length; i++) {
      const d = decisions[i]!;
      this.raw(i ? ',{"table":"' : '{"table":"');
      this.raw(d.table);
      this.raw('","chain":');
      this.str(d.chain);
      this.raw(',"rule":');
      this.num(d.rule);
      this.raw(',"target":');
      this.str(d.target);
      this.byte(0x7d);
    }
    this.raw(']}\n');
    this.lineDone();
  }

  /** a line made elsewhere (an error), and a newline */
  line(json: string): void {
    this.raw(json);
    this.byte(0x0a);
    this.lineDone();
  }

  private lineDone(): void {
    if (this.pos >= FLUSH_AT) this.flush();
  }

  /** hands over what is buffered (the receiver uses the bytes before it returns: the buffer is reused) */
  flush(): void {
    if (!this.pos) return;
    this.flushTo(this.buf.subarray(0, this.pos));
    this.pos = 0;
  }
}
