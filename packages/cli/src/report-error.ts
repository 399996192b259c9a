/**
 * The one place where errors become exit codes and messages. Kiln's typed errors print
 * their message (and hint) on one line each; anything else is a bug and says so.
 */
import { KilnError } from "@kiln/formats/kiln-error";

/** Exit codes by error-code prefix; the default for a KilnError is 1. */
const EXIT_CODES: ReadonlyArray<readonly [RegExp, number]> = [
  [/^ERR_USAGE/, 2],
  [/^ERR_(NOT_FOUND|ENOENT)/, 3],
];

export function exitCodeFor(error: unknown): number {
  if (error instanceof KilnError) {
    for (const [pattern, code] of EXIT_CODES) if (pattern.test(error.code)) return code;
    return 1;
  }
  return 1;
}

/** Prints `kiln: error: …` (and `hint: …`) to the given stream and returns the exit code. */
export function reportError(error: unknown, stderr: NodeJS.WritableStream): number {
  if (error instanceof KilnError) {
    stderr.write(`kiln: error: ${error.message}\n`);
    if (error.hint) stderr.write(`hint: ${error.hint}\n`);
  } else if (
    error instanceof Error &&
    "code" in error &&
    typeof error.code === "string" &&
    "path" in error
  ) {
    // Node's system errors (ENOENT, EACCES, …) are user-facing: name the file.
    stderr.write(`kiln: error: ${error.message}\n`);
  } else {
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    stderr.write(`kiln: internal error (please report): ${text}\n`);
  }
  return exitCodeFor(error);
}
