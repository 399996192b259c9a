/** The error every failure of the package layer throws: code `ERR_PACKAGE`. */
import { KilnError } from "@kiln/formats/kiln-error";

export class PackageError extends KilnError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super("ERR_PACKAGE", message, options);
  }
}
