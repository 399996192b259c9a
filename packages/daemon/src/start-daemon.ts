/**
 * `kiln daemon` below the CLI: listens on its endpoints (unix sockets, TCP, sockets
 * inherited from systemd), serves every client concurrently, and shuts down cleanly:
 * no new connections, running builds stopped (the builder registers nothing of an
 * interrupted build), clients disconnected, temporary roots and socket files removed.
 *
 * Trust comes from the endpoint, not the peer: Node cannot ask the kernel who is at the
 * other end of a unix socket (SO_PEERCRED), so a client is trusted when it connected
 * through a socket only trusted users can open — the trusted socket is mode 0600 (0660
 * with a group), owned by the daemon's user — and untrusted otherwise, whoever it is.
 * TCP clients are never trusted.
 */
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { dirname, join } from "node:path";
import { BuildUserPool } from "@kiln/builder/build-user-pool";
import { readBuildUsers } from "@kiln/builder/build-users";
import type { LocalStore } from "@kiln/store/local-store";
import { BuildCoordinator } from "./build-coordinator.ts";
import { BusyPoll } from "./busy-poll.ts";
import { DaemonError } from "./daemon-error.ts";
import { DaemonMetrics } from "./daemon-metrics.ts";
import { type DaemonOptions, type ListenEndpoint, resolveDaemonOptions } from "./daemon-options.ts";
import type { DaemonContext, DaemonLogger } from "./operation-context.ts";
import { PathInfoCache } from "./path-info-cache.ts";
import { ReadWriteLock } from "./read-write-lock.ts";
import { serveConnection } from "./serve-connection.ts";
import { TempRoots } from "./temp-roots.ts";

export interface RunningDaemon {
  /** Where it listens: socket paths, and `host:port` for TCP (with the port chosen when 0 was asked). */
  readonly addresses: readonly string[];
  /** Clients connected now. */
  readonly connections: number;
  /** The daemon's metrics in Prometheus's text format. */
  metrics(): Promise<string>;
  /** Stops everything (see the file comment); resolves when no connection or build is left. */
  close(): Promise<void>;
}

const SILENT: DaemonLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** True when something accepts connections at the unix socket `path`. */
function socketInUse(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
}

function listen(server: Server, target: Parameters<Server["listen"]>[0]): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(target, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/** Listens at a unix socket path: made under a temporary name, given its mode, then moved into place. */
async function listenUnix(
  server: Server,
  endpoint: Extract<ListenEndpoint, { kind: "unix" }>,
): Promise<void> {
  mkdirSync(dirname(endpoint.path), { recursive: true, mode: 0o755 });
  let exists = false;
  try {
    exists = lstatSync(endpoint.path).isSocket();
  } catch {
    // nothing there
  }
  if (exists && (await socketInUse(endpoint.path))) {
    throw new DaemonError("IN_USE", `another daemon is listening at ${endpoint.path}`, {
      hint: "stop it first, or pass --listen with another socket",
    });
  }
  const temporary = join(
    dirname(endpoint.path),
    `.${process.pid}-${Math.random().toString(36).slice(2)}.sock`,
  );
  await listen(server, temporary);
  if (endpoint.trusted) {
    const gid = endpoint.group === undefined ? undefined : groupId(endpoint.group);
    if (gid !== undefined) chownSync(temporary, process.getuid?.() ?? 0, gid);
    chmodSync(temporary, gid !== undefined ? 0o660 : 0o600);
  } else {
    chmodSync(temporary, 0o666);
  }
  renameSync(temporary, endpoint.path);
}

/** A group's id, from a number or a name in /etc/group. */
function groupId(group: string | number): number {
  if (typeof group === "number") return group;
  for (const line of readFileSync("/etc/group", "utf8").split("\n")) {
    const [name, , gid] = line.split(":");
    if (name === group) return Number(gid);
  }
  throw new DaemonError("NO_GROUP", `there is no group ${JSON.stringify(group)}`, {
    hint: "create it (groupadd) or name another one",
  });
}

/**
 * Starts a daemon serving `store`. Rejects when an endpoint cannot be listened on
 * (nothing is left listening then).
 *
 * @example
 * const daemon = await startDaemon(store, { listen: [{ kind: "unix", path: "/tmp/kiln.sock" }] });
 * process.once("SIGTERM", () => daemon.close());
 */
export async function startDaemon(
  store: LocalStore,
  options: DaemonOptions = {},
): Promise<RunningDaemon> {
  const resolved = resolveDaemonOptions(store.config, options);
  const buildUserPool =
    resolved.buildUserPool ??
    (options.buildUsersGroup
      ? new BuildUserPool(readBuildUsers(options.buildUsersGroup))
      : undefined);
  const logger = options.logger ?? SILENT;
  const tempRoots = new TempRoots(store.config);
  const stale = tempRoots.removeStale();
  if (stale.length > 0)
    logger.info({ files: stale.length }, "removed temporary roots of a daemon that is gone");
  if (resolved.logCompression !== "gzip") {
    logger.warn(
      { logCompression: resolved.logCompression },
      "build logs are always gzip-compressed",
    );
  }
  const builds = new BuildCoordinator(store, {
    maxJobs: resolved.maxJobs,
    defaults: {
      cores: resolved.cores,
      timeout: resolved.timeout,
      maxSilentTime: resolved.maxSilentTime,
      disableChroot: resolved.disableChroot,
      chrootDirs: resolved.chrootDirs,
      buildUserPool,
      system: resolved.system,
      hostEnv: resolved.hostEnv,
      bwrap: resolved.bwrap,
      logger: {
        info: (message, fields) => logger.info(fields ?? {}, message),
        warn: (message, fields) => logger.warn(fields ?? {}, message),
      },
    },
  });
  const daemon: DaemonContext = {
    store,
    builds,
    tempRoots,
    options: resolved,
    logger,
    gcLock: new ReadWriteLock(),
    metrics: new DaemonMetrics({ pendingBuilds: () => builds.pending }),
    pathInfo: new PathInfoCache(store),
    busyPoll: new BusyPoll(resolved.busyPollMicros),
  };
  const sockets = new Set<Socket>();
  const served = new Set<Promise<void>>();
  const servers: Server[] = [];
  const addresses: string[] = [];
  const socketFiles: string[] = [];
  let closing = false;

  const accept = (trusted: boolean) => (socket: Socket) => {
    if (closing) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.setNoDelay?.(true);
    const done = serveConnection(socket, daemon, { trusted }).finally(() => {
      sockets.delete(socket);
      served.delete(done);
    });
    served.add(done);
  };

  try {
    for (const endpoint of resolved.listen) {
      const trusted = endpoint.kind !== "tcp" && endpoint.trusted === true;
      const server = createServer({ allowHalfOpen: false }, accept(trusted));
      servers.push(server);
      if (endpoint.kind === "unix") {
        await listenUnix(server, endpoint);
        socketFiles.push(endpoint.path);
        addresses.push(endpoint.path);
      } else if (endpoint.kind === "tcp") {
        await listen(server, { host: endpoint.host, port: endpoint.port });
        const address = server.address();
        const port = typeof address === "object" && address !== null ? address.port : endpoint.port;
        addresses.push(
          `${endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host}:${port}`,
        );
      } else {
        await listen(server, { fd: endpoint.fd });
        addresses.push(`fd:${endpoint.fd}`);
      }
    }
  } catch (error) {
    for (const server of servers) server.close();
    tempRoots.closeAll();
    daemon.pathInfo.close();
    throw error;
  }
  logger.info({ addresses }, "daemon listening");

  return {
    addresses,
    get connections() {
      return sockets.size;
    },
    metrics: () => daemon.metrics.registry.metrics(),
    async close() {
      if (closing) return;
      closing = true;
      logger.info({ connections: sockets.size, builds: builds.pending }, "daemon shutting down");
      const stopped = Promise.all(
        servers.map((server) => new Promise((resolve) => server.close(resolve))),
      );
      await builds.shutdown();
      for (const socket of sockets) socket.destroy();
      await Promise.allSettled([...served]);
      await stopped;
      tempRoots.closeAll();
      daemon.pathInfo.close();
      daemon.busyPoll.stop();
      for (const file of socketFiles) rmSync(file, { force: true });
      logger.info({}, "daemon stopped");
    },
  };
}
