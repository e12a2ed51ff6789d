/**
 * What can go wrong while reading a script, before any command runs: a syntax error (bash's own
 * wording, exit status 2 as bash gives it) or a construct that `run` does not model (also 2, with
 * the way out: `run --shell` runs the script with the real bash).
 */
export class ScriptError extends Error {
  constructor(
    message: string,
    /** bash's $LINENO for the failing spot (1-based) */
    readonly line: number,
    /** 0-based column in that line, for the shell's caret */
    readonly col = 0,
    readonly status = 2,
    /** how many characters the caret should underline */
    readonly width = 1,
  ) {
    super(message);
  }
}

/** a shell construct the replay does not model, named the way a reader of the script knows it */
export function unsupported(construct: string, line: number, col = 0, width = 1): ScriptError {
  return new ScriptError(
    `run does not model ${construct}; replay this script with the real bash instead: iptables-sim run --shell FILE`,
    line,
    col,
    2,
    width,
  );
}
