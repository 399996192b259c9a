/**
 * The error type of @kiln/daemon. Codes: `ERR_DAEMON_PROTOCOL` (the peer broke the
 * protocol; the connection is dropped), `ERR_DAEMON_NOT_TRUSTED` (the operation needs a
 * trusted connection), `ERR_DAEMON_UNSUPPORTED`, `ERR_DAEMON_CONNECT` (no daemon to talk
 * to), `ERR_DAEMON_REMOTE` (the daemon on the other end reported a failure) and others
 * naming what failed. `status` is the exit status sent with the error to clients that
 * take one (Nix's: 100 for a failed build, 101 when it timed out).
 */
import { KilnError } from "@kiln/formats/kiln-error";

export class DaemonError extends KilnError {
  readonly status: number;

  constructor(
    code: string,
    message: string,
    options: { hint?: string; cause?: unknown; status?: number } = {},
  ) {
    super(`ERR_DAEMON_${code}`, message, options);
    this.status = options.status ?? 1;
  }
}

/** A failure reported by the daemon at the other end of a connection (STDERR_ERROR). */
export class RemoteDaemonError extends DaemonError {
  constructor(message: string, status = 1) {
    super("REMOTE", message, { status });
  }
}
