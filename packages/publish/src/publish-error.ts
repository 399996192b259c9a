import { KilnError } from "@kiln/formats/kiln-error";

/** A publish option or request was refused (bad --compression, unsupported method, …). */
export class PublishError extends KilnError {
  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(`ERR_PUBLISH_${code}`, message, options);
  }
}
