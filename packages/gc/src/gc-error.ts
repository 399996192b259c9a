/**
 * The error type of @kiln/gc. Codes start with `ERR_GC_` (for example
 * `ERR_GC_PATH_ALIVE`, `ERR_GC_BAD_SIZE`) so the CLI and the daemon map them without
 * parsing messages.
 */
import { KilnError } from "@kiln/formats/kiln-error";

export class GcError extends KilnError {
  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(`ERR_GC_${code}`, message, options);
  }
}
