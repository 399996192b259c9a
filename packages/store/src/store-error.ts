import { KilnError } from "@kiln/formats/kiln-error";

/** A store operation failed: invalid path, missing reference, locked path, … */
export class StoreError extends KilnError {
  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(`ERR_STORE_${code}`, message, options);
  }
}
