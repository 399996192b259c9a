/**
 * The daemon's structured log: pino, one JSON object per line on stderr (or a given
 * file descriptor), messages constant and details in fields (`connection`, `op`, `drv`).
 */
import { pino } from "pino";
import type { DaemonLogger } from "./operation-context.ts";

/**
 * @example const logger = createDaemonLogger({ debug: options.debug });
 */
export function createDaemonLogger(options: { debug?: boolean; fd?: number } = {}): DaemonLogger {
  const logger = pino(
    { name: "kiln-daemon", level: options.debug ? "debug" : "info" },
    pino.destination({ fd: options.fd ?? 2, sync: false }),
  );
  return {
    debug: (fields, message) => logger.debug(fields, message),
    info: (fields, message) => logger.info(fields, message),
    warn: (fields, message) => logger.warn(fields, message),
    error: (fields, message) => logger.error(fields, message),
  };
}
