/**
 * The error type of @kiln/builder. The `code` says what went wrong (for example
 * `ERR_UNSUPPORTED_FILE_TYPE`, `ERR_SANDBOX_SETUP`, `ERR_NO_BUILD_USERS`) so the CLI
 * and the daemon can map it without parsing messages.
 */
import { KilnError } from "@kiln/formats/kiln-error";

export class BuilderError extends KilnError {}
