/**
 * Errors as iptables reports them. libxtables' xtables_error() prints
 * "<prog> v1.8.9 (nf_tables): <msg>\n" and, for parameter problems, the "Try `<prog> -h'" hint;
 * a few call sites print their own text without the prefix ("Bad argument `x'"). Every failure in
 * the emulator is one of these, thrown and rendered once at the CLI's single exit point.
 */
export const enum Exit {
  OK = 0,
  OTHER_PROBLEM = 1,
  PARAMETER_PROBLEM = 2,
  VERSION_PROBLEM = 3,
  RESOURCE_PROBLEM = 4,
}

export const IPTABLES_VERSION = '1.8.9';
export const PROGRAM_VERSION = `${IPTABLES_VERSION} (nf_tables)`;

export type ErrorStyle =
  /** xtables_error(): prefixed with "<prog> v1.8.9 (nf_tables): ", hint on PARAMETER_PROBLEM */
  | 'xtables'
  /** text printed as is, followed by the "Try" hint (exit_tryhelp) */
  | 'tryhelp'
  /** text printed as is, nothing added */
  | 'raw';

export class XtablesError extends Error {
  constructor(
    readonly status: Exit,
    message: string,
    readonly style: ErrorStyle = 'xtables',
  ) {
    super(message);
  }
}

/** xtables_error(PARAMETER_PROBLEM, ...) */
export function paramProblem(message: string): XtablesError {
  return new XtablesError(Exit.PARAMETER_PROBLEM, message);
}

export function otherProblem(message: string): XtablesError {
  return new XtablesError(Exit.OTHER_PROBLEM, message);
}

/**
 * Renders an error the way iptables prints it. `line` is the restore input line
 * (iptables-restore sets libxtables' global `line`, which adds "Error occurred at line: N").
 */
export function renderXtablesError(err: XtablesError, prog: string, line?: number): string {
  const hint = `Try \`${prog} -h' or '${prog} --help' for more information.\n`;
  const where = line !== undefined ? `Error occurred at line: ${line}\n` : '';
  switch (err.style) {
    case 'raw':
      return err.message;
    case 'tryhelp':
      return err.message + where + hint;
    case 'xtables': {
      let out = `${prog} v${PROGRAM_VERSION}: ${err.message}\n`;
      if (err.status === Exit.PARAMETER_PROBLEM) out += where + hint;
      else if (err.status === Exit.VERSION_PROBLEM) out += `Perhaps ${prog} or your kernel needs to be upgraded.\n`;
      return out;
    }
  }
}

/**
 * Problems of the emulator itself (a lab file that cannot be read, a bad trace request):
 * printed as "iptables-sim: <message>" with the given status.
 */
export class SimError extends Error {
  constructor(
    message: string,
    readonly status: number = 1,
  ) {
    super(message);
  }
}
