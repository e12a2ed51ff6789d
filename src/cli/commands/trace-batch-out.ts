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

/** the tables a decision names */
const TABLES = ['filter', 'nat', 'mangle', 'raw', 'security'];

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

/** tcpFlagNames()'s order */
const FLAG_BITS = [0x02, 0x10, 0x01, 0x04, 0x08, 0x20];
const FLAG_NAMES = ['SYN', 'ACK', 'FIN', 'RST', 'PSH', 'URG'];

/** printable ASCII other than `"` and `\\`: written as it is inside a JSON string */
function isPlain(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

/**
 * A fixed ASCII text as little-endian 32-bit words, the last one padded, and its length in bytes:
 * written four bytes at a time (a byte at a time, the fixed pieces were a third of the writing)
 */
interface Piece {
  words: Uint32Array;
  length: number;
}

const ascii = (s: string): Piece => {
  const b = Buffer.from(s, 'latin1');
  const words = new Uint32Array((b.length + 3) >> 2);
  for (let i = 0; i < b.length; i++) words[i >> 2]! |= b[i]! << (8 * (i & 3));
  return { words, length: b.length };
};

// the fixed pieces of a line
const K_LINE = ascii('{"line":');
const K_PROTO = ascii(',"proto":');
const K_SRC = ascii(',"src":"');
const K_SPORT = ascii(',"sport":');
const K_DST = ascii(',"dst":"');
const K_DPORT = ascii(',"dport":');
const K_OUT = ascii(',"out":');
const K_NEXTHOP = ascii(',"nexthop":"');
const K_REASON = ascii(',"reason":');
const K_REJECT = ascii(',"reject":');
const K_ERRNO = ascii(',"errno":"');
const K_ERRNO_REASON = ascii('","reason":');
const K_RULES = ascii(',"rules":[');
/** `,"outcome":"<kind>","explanation":` for each outcome */
const K_OUTCOMES: Record<string, Piece> = Object.fromEntries(['deliver', 'transmit', 'drop', 'error'].map((k) => [k, ascii(`,"outcome":"${k}","explanation":`)]));
/** `{"table":"<table>","chain":` for each table, and with a comma before it */
const K_TABLES_FIRST: Record<string, Piece> = Object.fromEntries(TABLES.map((t) => [t, ascii(`{"table":"${t}","chain":`)]));
const K_TABLES_NEXT: Record<string, Piece> = Object.fromEntries(TABLES.map((t) => [t, ascii(`,{"table":"${t}","chain":`)]));
const K_RULE = ascii(',"rule":');
const K_TARGET = ascii(',"target":');
const K_END = ascii(']}\n');
const K_PORT = ascii(' port ');
const K_TOWARDS = ascii(' towards ');
const K_AS = ascii(' as ');
const K_COLON = ascii(': ');
const K_STOP = ascii('."');
const K_TCP = ascii('tcp ');
const K_UDP = ascii('udp ');
const K_ICMP = ascii('icmp ');
const K_PROTO_N = ascii('proto ');
const K_ARROW = ascii(' -> ');
const K_FLAGS = ascii(' [');
const K_TYPE = ascii(' type ');
const K_CODE = ascii(' code ');
const FLAG_BYTES = FLAG_NAMES.map(ascii);

export class ResultWriter {
  private buf: Buffer;
  /** `buf` seen as a DataView (bytes()) */
  private view: DataView;
  private pos = 0;
  /** heads() of this host */
  private headsOf: string | undefined;
  private hostHeads: Piece[] | null = null;

  constructor(private readonly flushTo: (bytes: Uint8Array) => void) {
    this.buf = Buffer.allocUnsafe(FLUSH_AT * 2);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  }

  /** room for `n` more bytes */
  private need(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
    this.view = new DataView(bigger.buffer, bigger.byteOffset, bigger.length);
  }

  /**
   * fixed bytes; the last word may write up to 3 bytes past them, into room that need() keeps:
   * what is written next overwrites them, and only bytes before `pos` are ever handed over
   */
  private bytes(a: Piece): void {
    this.need(a.length + 3);
    const w = a.words;
    const v = this.view;
    let p = this.pos;
    for (let i = 0; i < w.length; i++, p += 4) v.setUint32(p, w[i]!, true);
    this.pos += a.length;
  }

  /** text that needs no escaping in JSON (what resultJson writes unescaped) */
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

  /**
   * `s` inside a JSON string when it is printable ASCII other than `"` and `\` (written as it is):
   * true; else false, and nothing is written
   */
  private plain(s: string): boolean {
    const n = s.length;
    this.need(n);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
      b[p++] = c;
    }
    this.pos = p;
    return true;
  }

  /** a JSON string, as str() writes it */
  private str(s: string): void {
    const start = this.pos;
    this.need(s.length + 2);
    this.buf[this.pos++] = 0x22;
    if (this.plain(s)) this.buf[this.pos++] = 0x22;
    else {
      this.pos = start;
      this.raw(str(s));
    }
  }

  /** a number as `${n}` writes it */
  private num(n: number | undefined): void {
    if (n === undefined || !Number.isInteger(n) || n < 0 || n > 0xffffffff) {
      this.raw(`${n}`);
      return;
    }
    this.need(10);
    this.pos = this.digits(this.buf, this.pos, n);
  }

  /** the decimal digits of `n` (an integer, 0 to 2^32 - 1) at `p`; returns the position after them */
  private digits(b: Buffer, p: number, n: number): number {
    if (n < 10) b[p++] = 48 + n;
    else if (n < 100) {
      b[p++] = 48 + ((n / 10) | 0);
      b[p++] = 48 + (n % 10);
    } else if (n < 1000) {
      b[p++] = 48 + ((n / 100) | 0);
      b[p++] = 48 + (((n / 10) | 0) % 10);
      b[p++] = 48 + (n % 10);
    } else {
      let digits = 4;
      for (let x = 10000; x <= n && digits < 10; x *= 10) digits++;
      let q = n;
      for (let i = digits - 1; i >= 0; i--) {
        b[p + i] = 48 + (q % 10);
        q = Math.floor(q / 10);
      }
      p += digits;
    }
    return p;
  }

  /** ipToString() */
  private ip(a: number): void {
    this.need(15);
    const b = this.buf;
    let p = this.digits(b, this.pos, a >>> 24);
    b[p++] = 0x2e;
    p = this.digits(b, p, (a >>> 16) & 255);
    b[p++] = 0x2e;
    p = this.digits(b, p, (a >>> 8) & 255);
    b[p++] = 0x2e;
    this.pos = this.digits(b, p, a & 255);
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
    if (proto === PROTO_TCP) this.bytes(K_TCP);
    else if (proto === PROTO_UDP) this.bytes(K_UDP);
    else if (proto === PROTO_ICMP) this.bytes(K_ICMP);
    else {
      this.bytes(K_PROTO_N);
      this.num(proto);
      this.byte(0x20);
    }
    this.endpoint(p.src, p.sport);
    this.bytes(K_ARROW);
    this.endpoint(p.dst, p.dport);
    if (proto === PROTO_TCP) {
      this.bytes(K_FLAGS);
      const f = p.tcpFlags;
      if (f !== undefined) {
        let first = true;
        for (let i = 0; i < FLAG_BITS.length; i++) {
          if (!(f & FLAG_BITS[i]!)) continue;
          if (!first) this.byte(0x2c);
          this.bytes(FLAG_BYTES[i]!);
          first = false;
        }
      }
      this.byte(0x5d);
    }
    if (proto === PROTO_ICMP) {
      this.bytes(K_TYPE);
      this.num(p.icmpType);
      this.bytes(K_CODE);
      this.num(p.icmpCode);
    }
  }

  /** explainHostOutcome() as a JSON string */
  private explanation(host: string, o: HostOutcome): void {
    // written as it goes; text that is not plain takes it back and goes the string way
    const start = this.pos;
    const h = this.heads(host);
    let ok = h !== null;
    if (h) {
      switch (o.kind) {
        case 'deliver':
          this.bytes(h[0]!);
          this.ip(o.pkt.dst);
          if (o.pkt.dport !== undefined) {
            this.bytes(K_PORT);
            this.num(o.pkt.dport);
          }
          break;
        case 'transmit':
          this.bytes(h[1]!);
          if ((ok = this.plain(o.dev))) {
            this.bytes(K_TOWARDS);
            this.ip(o.nexthop);
            this.bytes(K_AS);
            this.packet(o.pkt);
          }
          break;
        case 'drop':
          this.bytes(h[2]!);
          ok = this.plain(o.reason);
          break;
        case 'error':
          this.bytes(h[3]!);
          this.raw(o.errno);
          this.bytes(K_COLON);
          ok = this.plain(o.reason);
          break;
      }
    }
    if (!ok) {
      this.pos = start;
      this.str(explainHostOutcome(host, o));
      return;
    }
    this.bytes(K_STOP);
  }

  /**
   * the opening of each explanation for `host` as bytes, quote included (deliver, transmit, drop,
   * error); null when the host's name is not plain (made again only when the host changes)
   */
  private heads(host: string): Piece[] | null {
    if (host === this.headsOf) return this.hostHeads;
    this.headsOf = host;
    this.hostHeads = isPlain(host)
      ? [`"${host} accepted the packet for local delivery to `, `"${host} sends the packet out of `, `"${host} dropped the packet: `, `"the sending process on ${host} gets `].map(ascii)
      : null;
    return this.hostHeads;
  }

  /** resultJson(line, {outcome, explanation: explainHostOutcome(host, outcome), decisions, reject}) and a newline */
  result(line: number, host: string, o: HostOutcome, decisions: readonly Decision[], reject: string | undefined): void {
    const p = o.pkt;
    this.bytes(K_LINE);
    this.num(line);
    this.bytes(K_OUTCOMES[o.kind]!);
    this.explanation(host, o);
    this.bytes(K_PROTO);
    this.num(p.proto);
    this.bytes(K_SRC);
    this.ip(p.src);
    this.byte(0x22);
    if (p.sport !== undefined) {
      this.bytes(K_SPORT);
      this.num(p.sport);
    }
    this.bytes(K_DST);
    this.ip(p.dst);
    this.byte(0x22);
    if (p.dport !== undefined) {
      this.bytes(K_DPORT);
      this.num(p.dport);
    }
    if (o.kind === 'transmit') {
      this.bytes(K_OUT);
      this.str(o.dev);
      this.bytes(K_NEXTHOP);
      this.ip(o.nexthop);
      this.byte(0x22);
    } else if (o.kind === 'drop') {
      this.bytes(K_REASON);
      this.str(o.reason);
      if (reject !== undefined) {
        this.bytes(K_REJECT);
        this.str(reject);
      }
    } else if (o.kind === 'error') {
      this.bytes(K_ERRNO);
      this.raw(o.errno);
      this.bytes(K_ERRNO_REASON);
      this.str(o.reason);
    }
    this.bytes(K_RULES);
    for (let i = 0; i < decisions.length; i++) {
      const d = decisions[i]!;
      const head = (i ? K_TABLES_NEXT : K_TABLES_FIRST)[d.table];
      if (head) this.bytes(head);
      else {
        this.raw(i ? ',{"table":"' : '{"table":"');
        this.raw(d.table);
        this.raw('","chain":');
      }
      this.str(d.chain);
      this.bytes(K_RULE);
      this.num(d.rule);
      this.bytes(K_TARGET);
      this.str(d.target);
      this.byte(0x7d);
    }
    this.bytes(K_END);
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
