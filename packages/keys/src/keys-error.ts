import { KilnError } from "@kiln/formats/kiln-error";

/** A key or ACL operation was refused: an existing key pair, an unreadable key file, … */
export class KeysError extends KilnError {
  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(`ERR_KEYS_${code}`, message, options);
  }
}
