/**
 * Token types of the iptables command line. They carry no patterns: tokens are made straight from
 * argv words (see lexer.ts), so the shell's quoting is never re-lexed. Categories group them for
 * the grammar: any command, any core option, any word.
 */
import { createToken, Lexer, type TokenType } from 'chevrotain';

const NA = Lexer.NA;

export const CommandOpt = createToken({ name: 'CommandOpt', pattern: NA });
export const CoreOpt = createToken({ name: 'CoreOpt', pattern: NA });
export const WordCat = createToken({ name: 'WordCat', pattern: NA });

function command(name: string, label: string): TokenType {
  return createToken({ name, pattern: NA, categories: [CommandOpt], label });
}
function core(name: string, label: string): TokenType {
  return createToken({ name, pattern: NA, categories: [CoreOpt], label });
}

export const Append = command('Append', '-A/--append');
export const Check = command('Check', '-C/--check');
export const Delete = command('Delete', '-D/--delete');
export const Insert = command('Insert', '-I/--insert');
export const Replace = command('Replace', '-R/--replace');
export const List = command('List', '-L/--list');
export const ListRules = command('ListRules', '-S/--list-rules');
export const Flush = command('Flush', '-F/--flush');
export const Zero = command('Zero', '-Z/--zero');
export const NewChain = command('NewChain', '-N/--new-chain');
export const DeleteChain = command('DeleteChain', '-X/--delete-chain');
export const RenameChain = command('RenameChain', '-E/--rename-chain');
export const Policy = command('Policy', '-P/--policy');
export const Help = command('Help', '-h/--help');
export const Version = command('Version', '-V/--version');

export const Protocol = core('Protocol', '-p/--protocol');
export const Source = core('Source', '-s/--source');
export const Destination = core('Destination', '-d/--destination');
export const InInterface = core('InInterface', '-i/--in-interface');
export const OutInterface = core('OutInterface', '-o/--out-interface');
export const Fragment = core('Fragment', '-f/--fragments');
export const Jump = core('Jump', '-j/--jump');
export const Goto = core('Goto', '-g/--goto');
export const Match = core('Match', '-m/--match');
export const Table = core('Table', '-t/--table');
export const Numeric = core('Numeric', '-n/--numeric');
export const Verbose = core('Verbose', '-v/--verbose');
export const Exact = core('Exact', '-x/--exact');
export const LineNumbers = core('LineNumbers', '--line-numbers');
export const Wait = core('Wait', '-w/--wait');
export const WaitInterval = core('WaitInterval', '-W/--wait-interval');
export const SetCounters = core('SetCounters', '-c/--set-counters');
export const Modprobe = core('Modprobe', '--modprobe');
export const Ipv4 = core('Ipv4', '-4/--ipv4');
export const Ipv6 = core('Ipv6', '-6/--ipv6');

/** an option of a loaded match or target extension; payload says which */
export const ExtOpt = createToken({ name: 'ExtOpt', pattern: NA, label: '--extension-option' });
/** zero-width: getopt met an unknown option and iptables loaded the -p protocol's match */
export const ImplicitMatch = createToken({ name: 'ImplicitMatch', pattern: NA, label: '(implicit -m PROTO)' });
export const Bang = createToken({ name: 'Bang', pattern: NA, label: '!' });
/** the argument of the preceding option, or a word a command took (rule number, chain) */
export const Arg = createToken({ name: 'Arg', pattern: NA, categories: [WordCat], label: 'ARG' });
/** a word no option took: iptables says "Bad argument" */
export const Stray = createToken({ name: 'Stray', pattern: NA, categories: [WordCat], label: 'WORD' });
/** getopt's '?' and ':' and iptables' unknown codes: the error is raised where it stands */
export const BadOption = createToken({ name: 'BadOption', pattern: NA, label: 'BAD-OPTION' });

export const commandTokens = [
  Append, Check, Delete, Insert, Replace, List, ListRules, Flush, Zero, NewChain, DeleteChain, RenameChain, Policy, Help, Version,
];
export const coreTokens = [
  Protocol, Source, Destination, InInterface, OutInterface, Fragment, Jump, Goto, Match, Table, Numeric, Verbose, Exact,
  LineNumbers, Wait, WaitInterval, SetCounters, Modprobe, Ipv4, Ipv6,
];

export const allTokens: TokenType[] = [
  CommandOpt, CoreOpt, WordCat, ...commandTokens, ...coreTokens, ExtOpt, ImplicitMatch, Bang, Arg, Stray, BadOption,
];
