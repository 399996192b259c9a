import type { DaemonClient } from "@kiln/daemon/daemon-client";
import type { CliConfig } from "./cli-config.ts";

/**
 * The running daemon, as `guix` finds guix-daemon: `KILN_DAEMON_SOCKET` when set (then a
 * daemon must answer there), else the default sockets under the state directory. Without
 * a daemon, commands use the store directly, which needs its owner's rights.
 */
export async function connectDaemon(config: CliConfig): Promise<DaemonClient | undefined> {
  const { connectIfDaemon } = await import("@kiln/daemon/connect-if-daemon");
  return connectIfDaemon({ stateDir: config.stateDir, daemonSocket: config.daemonSocket });
}
