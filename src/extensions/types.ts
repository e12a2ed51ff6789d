/**
 * The extension contract, modelled on iptables' own (struct xtables_match / xtables_target with
 * x6 option tables): every match and target is one module that declares its options, parses each
 * option it is given, checks the whole rule at the end, prints itself for `-L` and saves itself for
 * `-S` / iptables-save. On top of iptables' model the emulator adds packet semantics: `match()` for
 * matches and `apply()` for targets, used by the engine.
 *
 * Extension data (`D`) is a plain JSON value: it is stored in the lab file as it is.
 */
import type { AnySet } from '../net/ipset.js';
import type { AddrMask } from '../net/ipv4.js';
import type { Family } from './registry.js';
import type { Tables } from '../ruleset/tables.js';
import type { NfacctObject } from '../net/nfacct.js';
import type { PacketView, MatchContext, TargetContext, TargetResult } from '../engine/ext-api.js';

/** libxtables' enum xt_option_type: how the option argument is parsed and checked before `parse`. */
export type OptType =
  | 'none'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'uint8rc'
  | 'uint16rc'
  | 'uint32rc'
  | 'uint64rc'
  | 'double'
  | 'string'
  | 'tosmask'
  | 'markmask32'
  | 'sysloglevel'
  | 'host'
  | 'hostmask'
  | 'protocol'
  | 'port'
  | 'portrc'
  | 'plen'
  | 'plenmask'
  | 'ethermac'
  /** an old-style option (no x6 table in iptables): the argument reaches `parse` untouched */
  | 'raw';

export interface OptionEntry {
  /** long option name without the leading dashes */
  name: string;
  /** identity used by `also` / `excl` and the "seen" bit set (0..31) */
  id: number;
  type: OptType;
  /** getopt has_arg for 'raw' options: 0 none, 1 required, 2 optional (only as --opt=value) */
  hasArg?: 0 | 1 | 2;
  /**
   * argv words after the argument this option consumes itself, as iptables' parse functions do
   * with argv[optind++] (e.g. --tcp-flags MASK COMP). Consumed only while the next word does not
   * start with '-' or '!'; the extension reports a missing one.
   */
  extraArgs?: number;
  /** XTOPT_INVERT: may be preceded by '!' */
  invert?: boolean;
  /** XTOPT_MULTI: may be given more than once */
  multi?: boolean;
  /** XTOPT_MAND */
  mandatory?: boolean;
  /** ids of options this one cannot be combined with */
  excl?: number[];
  /** ids of options this one requires */
  also?: number[];
  min?: number;
  max?: number;
  /** for strings: longer values are silently cut to maxLen - 1 characters (C buffer size) */
  size?: number;
}

/** The value the generic option parser produced for the current option (struct xt_option_call val). */
export interface OptValue {
  /** integer types; for *rc types the list of components */
  num?: number;
  big?: bigint;
  range?: number[];
  bigRange?: bigint[];
  dbl?: number;
  str?: string;
  /** tosmask / markmask32 */
  value?: number;
  mask?: number;
  syslogLevel?: number;
  /** host/hostmask/plen/plenmask (IPv4) */
  haddr?: number;
  /** host/hostmask for ip6tables: the address as inet_ntop() writes it (hlen its prefix) */
  haddr6?: string;
  hmask?: number;
  hlen?: number;
  protocol?: number;
  port?: number;
  portRange?: [number, number];
  portCount?: number;
  mac?: number[];
}

/** What the extension can see of the rule being built (struct ipt_entry of the C code). */
export interface RuleFrame {
  /** protocol number given with -p (0 = all) */
  proto: number;
  invProto: boolean;
  /** the -p text as typed (lower-cased), undefined without -p */
  protoName?: string;
  table: string;
  /** chain named on the command line (may be undefined for non-rule commands) */
  chain?: string;
  /** 6: an ip6tables rule (its addresses are not in src/dst); undefined: iptables (IPv4) */
  family?: Family;
  /** -s / -d as given (first address), used by a few checks; IPv4 rules only */
  src?: AddrMask;
  dst?: AddrMask;
  /** interface names as given, for checks such as REDIRECT's */
  inIface?: string;
  outIface?: string;
}

export interface ParseCall<D> {
  ext: string;
  entry: OptionEntry;
  /** option argument (optarg); undefined when the option takes none */
  arg: string | undefined;
  /** extra argv words consumed by the option (see OptionEntry.extraArgs) */
  extra: string[];
  invert: boolean;
  val: OptValue;
  data: D;
  /** bit set of option ids given before this one (xflags) */
  xflags: number;
  frame: RuleFrame;
  /** writes a warning to stderr now, as the C code's fprintf(stderr, ...) does */
  warn?: (text: string) => void;
  /** the host's IP set of that name (the kernel's answer to get_set_byname); undefined: none */
  ipset?: (name: string) => AnySet | undefined;
}

export interface FinalCall<D> {
  ext: string;
  data: D;
  xflags: number;
  frame: RuleFrame;
  /** writes a warning to stderr now, as the C code's fprintf(stderr, ...) does */
  warn?: (text: string) => void;
}

export interface PrintContext {
  /** -n given */
  numeric: boolean;
  frame: RuleFrame;
}

interface ExtensionBase<D> {
  name: string;
  /**
   * 4: only iptables loads it (libipt_*); 6: only ip6tables (libip6t_*); undefined: both (libxt_*,
   * or a libipt_/libip6t_ pair modelled as one)
   */
  family?: Family;
  /** extension revision, only shown by a few errors */
  revision?: number;
  /** other names that load this extension (-m state loads "state"; aliases keep their own name) */
  aliases?: string[];
  /**
   * xtables real_name: the extension the kernel gets instead (-j NOTRACK is CT). The rule stores
   * this name, so -L shows it and print/save/apply are that extension's; `saveName` of that
   * extension gives -S its alias back.
   */
  realName?: string;
  /**
   * What the C help() prints (`iptables -m NAME -h`, `-j NAME -h`), byte for byte: its own
   * heading line ("tcp match options:") included. Undefined when the C extension has no help
   * (NOTRACK, TRACE): iptables then prints "NAME does not take any options".
   */
  help?: string;
  /** the help ip6tables prints, where it differs (libip6t_REJECT's own list of types) */
  help6?: string;
  /**
   * `parse` understands the IPv6 values (haddr6, hlen up to 128) of its address options; without
   * this, ip6tables refuses such options of the extension by name
   */
  v6Addresses?: boolean;
  options: OptionEntry[];
  /** fresh data for a new instance of the extension in a rule (x6 init) */
  init(frame: RuleFrame): D;
  /**
   * called for each option after the generic checks (x6_parse); may throw XtablesError. May return
   * more option bits to count as given (the C code's `cb->xflags |= ...`: HMARK's --hmark-tuple)
   */
  parse?(call: ParseCall<D>): void | number;
  /** x6_fcheck: runs before the generic mandatory/also/excl checks */
  finalCheck?(call: FinalCall<D>): void;
  /** `-L` text, exactly what the C print() writes (leading spaces included) */
  print(data: D, ctx: PrintContext): string;
  /** `-S` text following " -m NAME" / " -j NAME" (leading spaces included) */
  save(data: D, ctx: PrintContext): string;
  /**
   * Canonical form after the rule went through nf_tables and back (iptables-nft translates some
   * matches into native expressions and reads them back). Applied once when the rule is stored.
   */
  canonicalize?(data: D, frame: RuleFrame): D;
  /**
   * hooks where the kernel allows the extension (the xt .hooks field): checked for the chain a
   * rule is added to and for every hook from which jumps reach it. undefined = all
   */
  hooks?: string[];
  /**
   * What -D/-C compare of this extension's data (the bytes covered by the C userspacesize);
   * defaults to all of the data
   */
  compareKey?(data: D): unknown;
  /** name written after -m / -j in -S (alias() in C); defaults to the name given */
  saveName?(data: D): string;
  /**
   * Refusal by the kernel's checkentry at commit time, in the kernel log's words. `hooks` is the
   * hook of the chain the rule goes into (empty for a user chain: checkentry sees no hook there).
   * `tables`: the host's tables as the kernel holds them then (an object shared by rules, such as
   * IDLETIMER's timers, is seen through the rules that use it), `otherTables` the other family's,
   * `nfacct` the host's accounting objects; absent where no commit is made.
   */
  kernelCheck?(data: D, where: { table: string; hooks: string[]; frame: RuleFrame; tables?: Tables; otherTables?: Tables; nfacct?: readonly NfacctObject[] }): string | { errno: string; why: string } | undefined;
  /**
   * The kernel this emulates has no module for the extension, although iptables 1.8.9 ships it
   * (ULOG: ipt_ULOG was removed in Linux 3.17); the text says why, for the line the emulator adds
   * to the kernel's opaque refusal. nft_compat answers iptables' revision probe with ENOENT, so
   * the first load in a process prints "Warning: Extension NAME revision 0 not supported, missing
   * kernel module?", options are still parsed and checked, and the kernel refuses every rule
   * using it with ENOENT (exit 4) before any other check of the rule.
   */
  missingKernelModule?: string;
}

export interface MatchExtension<D = any> extends ExtensionBase<D> {
  kind: 'match';
  /**
   * Packet semantics. Undefined means the emulator cannot evaluate this match: a trace that
   * reaches a rule using it stops with a clear message naming it.
   */
  match?(data: D, pkt: PacketView, ctx: MatchContext): boolean;
}

export interface TargetExtension<D = any> extends ExtensionBase<D> {
  kind: 'target';
  /** tables where the target exists (xt target .table); undefined = all */
  tables?: string[];
  apply?(data: D, pkt: PacketView, ctx: TargetContext): TargetResult;
}

export type Extension = MatchExtension | TargetExtension;
