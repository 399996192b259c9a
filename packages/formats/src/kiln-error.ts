/**
 * The one error base class of Kiln. Every package throws subclasses of it with a
 * stable `code` (used by the CLI for exit codes and by services for HTTP statuses)
 * and an optional `hint` telling the user what to do about it.
 */
export class KilnError extends Error {
  readonly code: string;
  readonly hint: string | undefined;

  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
  }
}

/** Input bytes or text do not follow a format (NAR, ATerm, narinfo, nix32, …). */
export class FormatError extends KilnError {
  constructor(format: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(
      `ERR_${format.toUpperCase().replace(/[^A-Z0-9]+/g, "_")}`,
      `${format}: ${message}`,
      options,
    );
  }
}
