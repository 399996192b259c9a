import { KilnError } from "@kiln/formats/kiln-error";

/**
 * Substitution failed or was refused: a cache that is not usable, a narinfo that is not
 * trusted, a download that broke off, a nar that does not decompress or does not match.
 * Codes are `ERR_SUBSTITUTE_<WHAT>`.
 */
export class SubstituterError extends KilnError {
  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(`ERR_SUBSTITUTE_${code}`, message, options);
  }
}
