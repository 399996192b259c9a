import { KilnError } from "@kiln/formats/kiln-error";

/** Wrong arguments on the command line; exits with status 2. */
export class UsageError extends KilnError {
  constructor(message: string, hint?: string) {
    super("ERR_USAGE", message, { hint });
  }
}
