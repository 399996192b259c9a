/**
 * How the `kiln` CLI decides between the daemon and direct store access, as `guix` does:
 * when a daemon socket exists, go through it. `KILN_DAEMON_SOCKET` (read at the CLI edge
 * and passed as `daemonSocket`) names the socket explicitly, and then a daemon must be
 * there; otherwise the trusted socket is tried when this user may open it, then the
 * default socket, and no socket at all means "no daemon": use the store directly.
 */
import { accessSync, constants, lstatSync } from "node:fs";
import type { StoreConfig } from "@kiln/store/store-config";
import type { DaemonEvent } from "./client-stderr.ts";
import type { ClientOptions, DaemonClient } from "./daemon-client.ts";
import { defaultSocketPath, defaultTrustedSocketPath } from "./daemon-options.ts";

function isSocket(path: string): boolean {
  try {
    return lstatSync(path).isSocket();
  } catch {
    return false;
  }
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * A client of the daemon serving this state directory, or undefined when none is
 * listening. Throws when `daemonSocket` is given and no daemon answers there.
 *
 * @example
 * const client = await connectIfDaemon({ stateDir: "/var", daemonSocket: env.KILN_DAEMON_SOCKET });
 * if (client) console.log(await client.queryPathInfo(path));
 * else withStore(config, (store) => store.queryPathInfo(path));
 */
export async function connectIfDaemon(
  config: Pick<StoreConfig, "stateDir"> & { readonly daemonSocket?: string },
  options: ClientOptions & { onEvent?: (event: DaemonEvent) => void } = {},
): Promise<DaemonClient | undefined> {
  // The client is loaded only when there is a socket to talk to: a command that ends up
  // using the store directly should not pay for loading it.
  const connect = async (path: string) => {
    const { DaemonClient } = await import("./daemon-client.ts");
    return DaemonClient.connect(path, options);
  };
  if (config.daemonSocket !== undefined && config.daemonSocket !== "") {
    return connect(config.daemonSocket);
  }
  const trusted = defaultTrustedSocketPath(config);
  if (isSocket(trusted) && writable(trusted)) {
    try {
      return await connect(trusted);
    } catch {
      // A stale socket file: try the ordinary one.
    }
  }
  const socket = defaultSocketPath(config);
  if (!isSocket(socket)) return undefined;
  try {
    return await connect(socket);
  } catch {
    return undefined; // a socket file left by a daemon that is gone
  }
}
