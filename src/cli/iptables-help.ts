// The text of `iptables -h` (xtables_printhelp() of iptables 1.8.9), recorded from the real binary.
import { PROGRAM_VERSION } from '../errors.js';
import type { Extension } from '../extensions/types.js';
import type { EarlyExit } from '../ruleset/command-parse.js';

const TEXT = "@PROG@ v@VERSION@\n\nUsage: @PROG@ -[ACD] chain rule-specification [options]\n       @PROG@ -I chain [rulenum] rule-specification [options]\n       @PROG@ -R chain rulenum rule-specification [options]\n       @PROG@ -D chain rulenum [options]\n       @PROG@ -[LS] [chain [rulenum]] [options]\n       @PROG@ -[FZ] [chain] [options]\n       @PROG@ -[NX] chain\n       @PROG@ -E old-chain-name new-chain-name\n       @PROG@ -P chain target [options]\n       @PROG@ -h (print this help information)\n\nCommands:\nEither long or short options are allowed.\n  --append  -A chain\t\tAppend to chain\n  --check   -C chain\t\tCheck for the existence of a rule\n  --delete  -D chain\t\tDelete matching rule from chain\n  --delete  -D chain rulenum\n\t\t\t\tDelete rule rulenum (1 = first) from chain\n  --insert  -I chain [rulenum]\n\t\t\t\tInsert in chain as rulenum (default 1=first)\n  --replace -R chain rulenum\n\t\t\t\tReplace rule rulenum (1 = first) in chain\n  --list    -L [chain [rulenum]]\n\t\t\t\tList the rules in a chain or all chains\n  --list-rules -S [chain [rulenum]]\n\t\t\t\tPrint the rules in a chain or all chains\n  --flush   -F [chain]\t\tDelete all rules in  chain or all chains\n  --zero    -Z [chain [rulenum]]\n\t\t\t\tZero counters in chain or all chains\n  --new     -N chain\t\tCreate a new user-defined chain\n  --delete-chain\n            -X [chain]\t\tDelete a user-defined chain\n  --policy  -P chain target\n\t\t\t\tChange policy on chain to target\n  --rename-chain\n            -E old-chain new-chain\n\t\t\t\tChange chain name, (moving any references)\n\nOptions:\n    --ipv4\t-4\t\tNothing (line is ignored by ip6tables-restore)\n    --ipv6\t-6\t\tError (line is ignored by iptables-restore)\n[!] --protocol\t-p proto\tprotocol: by number or name, eg. `tcp'\n[!] --source\t-s address[/mask][...]\n\t\t\t\tsource specification\n[!] --destination -d address[/mask][...]\n\t\t\t\tdestination specification\n[!] --in-interface -i input name[+]\n\t\t\t\tnetwork interface name ([+] for wildcard)\n --jump\t-j target\n\t\t\t\ttarget for rule (may load target extension)\n  --goto      -g chain\n\t\t\t       jump to chain with no return\n  --match\t-m match\n\t\t\t\textended match (may load extension)\n  --numeric\t-n\t\tnumeric output of addresses and ports\n[!] --out-interface -o output name[+]\n\t\t\t\tnetwork interface name ([+] for wildcard)\n  --table\t-t table\ttable to manipulate (default: `filter')\n  --verbose\t-v\t\tverbose mode\n  --wait\t-w [seconds]\tmaximum wait to acquire xtables lock before give up\n  --line-numbers\t\tprint line numbers when listing\n  --exact\t-x\t\texpand numbers (display exact values)\n[!] --fragment\t-f\t\tmatch second or further fragments only\n  --modprobe=<command>\t\ttry to insert modules using this command\n  --set-counters -c PKTS BYTES\tset the counter during insert/append\n[!] --version\t-V\t\tprint package version.\n";

/**
 * The general help, then (print_extension_helps()) the help of each extension the command line
 * loaded before -h: the target first, then the matches in the order they were loaded, each after
 * an empty line; an extension without help says it takes no options.
 */
export function iptablesHelp(prog: string, extensions: readonly Extension[] = []): string {
  let out = TEXT.replaceAll('@PROG@', prog).replace('@VERSION@', PROGRAM_VERSION);
  const ordered = [...extensions.filter((e) => e.kind === 'target'), ...extensions.filter((e) => e.kind === 'match')];
  const v6 = prog.startsWith('ip6');
  if (v6) {
    // ip6tables' own: -4 is the error, -6 the no-op, and there is no -f
    out = out
      .replace('-4\t\tNothing (line is ignored by ip6tables-restore)', '-4\t\tError (line is ignored by ip6tables-restore)')
      .replace('-6\t\tError (line is ignored by iptables-restore)', '-6\t\tNothing (line is ignored by iptables-restore)')
      .replace('[!] --fragment\t-f\t\tmatch second or further fragments only\n', '');
  }
  for (const e of ordered) out += `\n${(v6 ? (e.help6 ?? e.help) : e.help) ?? `${e.name} does not take any options\n`}`;
  return out;
}

/** what `-h` or `-V` on an iptables command line prints before exiting 0 (also on a restore file's line) */
export function earlyExitText(e: EarlyExit, prog: string): string {
  if (e.kind === 'help') return iptablesHelp(prog, e.helpExtensions);
  return e.inverted ? `Not ${PROGRAM_VERSION} ;-)\n` : `${prog} v${PROGRAM_VERSION}\n`;
}
