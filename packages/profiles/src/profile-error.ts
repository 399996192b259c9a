/**
 * The error type of @kiln/profiles. Codes start with `ERR_PROFILE_` (for example
 * `ERR_PROFILE_NOT_FOUND`, `ERR_PROFILE_MISSING_GENERATION`, `ERR_PROFILE_COLLISION`).
 */
import { KilnError } from "@kiln/formats/kiln-error";

export class ProfileError extends KilnError {
  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(`ERR_PROFILE_${code}`, message, options);
  }
}
