/**
 * `kiln publish --serve-processes N`: N processes answer on the same port, so that
 * narinfo and nar requests use every core, as nginx's worker processes do. Each process
 * opens the port itself with SO_REUSEPORT (the kernel spreads connections among them)
 * and then drops privileges (`--user`), so the socket is opened as root in every one.
 *
 * The first process (this one) is the only one that bakes (`--cache`): the others hand
 * it the items to bake and hear from it what was baked. `/metrics` answers with the sum
 * over all processes, whichever process is asked.
 */
import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { LocalStore } from "@kiln/store/local-store";
import type { StoreConfig } from "@kiln/store/store-config";
import type { Logger } from "pino";
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from "prom-client";
import { dropPrivileges } from "./drop-privileges.ts";
import { PublishError } from "./publish-error.ts";
import {
  type PublishServer,
  type PublishServerOptions,
  startPublishServer,
} from "./publish-server.ts";
import { localPublishStore } from "./publish-store.ts";

/** The options of the other processes: everything that can cross a process boundary. */
export type ServeProcessOptions = Omit<
  PublishServerOptions,
  "store" | "logger" | "reusePort" | "collectMetrics"
> & {
  readonly storeConfig: StoreConfig;
  /** pino level of the other processes' logs (on stderr). */
  readonly logLevel?: string;
};

export interface PublishProcessesOptions extends ServeProcessOptions {
  /** Processes answering on the port, this one included (default 1). */
  readonly serveProcesses?: number;
  /** This process's logger. */
  readonly logger?: Logger;
}

type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/** Messages between the first process and the others. */
export type ServeProcessMessage =
  | { readonly type: "init"; readonly options: ServeProcessOptions }
  | { readonly type: "ready" }
  | { readonly type: "bake"; readonly path: string }
  | { readonly type: "baked"; readonly hashPart: string; readonly text: string }
  | { readonly type: "metrics"; readonly id: number; readonly text?: string }
  | { readonly type: "metrics-json"; readonly id: number; readonly json?: MetricsJson };

const PROCESS_MAIN = new URL("./serve-process.ts", import.meta.url);

/**
 * Starts kiln publish over `serveProcesses` processes; the returned server is this
 * process's, and closing it stops the others.
 * @example const publish = await startPublishProcesses({ storeConfig, key, serveProcesses: 4 });
 */
export async function startPublishProcesses(
  options: PublishProcessesOptions,
): Promise<PublishServer> {
  const { serveProcesses = 1, logger, storeConfig, ...rest } = options;
  const store = LocalStore.open(storeConfig);
  const children = new Set<ChildProcess>();
  const waiting = new Map<number, (json: MetricsJson) => void>();
  let nextId = 0;
  let stopping = false;
  let primary: PublishServer | undefined;
  const ownJson = () => primary!.context.metrics.registry.getMetricsAsJSON();
  const collectMetrics = async (): Promise<string> => {
    const answers = [...children].map(
      (child) =>
        new Promise<MetricsJson>((resolve) => {
          const id = nextId++;
          waiting.set(id, resolve);
          child.send({ type: "metrics-json", id } satisfies ServeProcessMessage);
          // A process that died meanwhile must not hold the answer up.
          child.once("exit", () => resolve([]));
        }),
    );
    const all = await Promise.all([ownJson(), ...answers]);
    return AggregatorRegistry.aggregate(all).metrics();
  };
  try {
    primary = await startPublishServer({
      ...rest,
      store: localPublishStore(store),
      logger,
      user: undefined, // dropped below, once the other processes have opened the port
      reusePort: serveProcesses > 1,
      collectMetrics,
      cache: rest.cache && {
        ...rest.cache,
        onBaked: (hashPart, text) => {
          for (const child of children)
            child.send({ type: "baked", hashPart, text } satisfies ServeProcessMessage);
        },
      },
    });
  } catch (error) {
    store.close();
    throw error;
  }
  const server = primary;
  try {
    const childOptions: ServeProcessOptions = { ...rest, storeConfig, port: server.port };
    await Promise.all(
      Array.from({ length: serveProcesses - 1 }, () =>
        startChild(childOptions, {
          onMessage: (child, message) => {
            if (message.type === "bake") server.context.cache?.enqueue(message.path);
            else if (message.type === "metrics-json") waiting.get(message.id)?.(message.json ?? []);
            else if (message.type === "metrics") {
              void collectMetrics().then((text) =>
                child.send({ type: "metrics", id: message.id, text } satisfies ServeProcessMessage),
              );
            }
          },
          onStarted: (child) => {
            children.add(child);
            child.once("exit", (code, signal) => {
              children.delete(child);
              if (!stopping)
                server.context.logger.error(
                  { pid: child.pid, code, signal },
                  "serving process exited",
                );
            });
          },
        }),
      ),
    );
    if (options.user !== undefined) {
      dropPrivileges(options.user, { writable: options.cache ? [options.cache.dir] : [] });
    }
  } catch (error) {
    await stopChildren();
    await server.close();
    store.close();
    throw error;
  }
  if (serveProcesses > 1)
    server.context.logger.info({ processes: serveProcesses }, "serving processes started");
  async function stopChildren(): Promise<void> {
    stopping = true;
    await Promise.all(
      [...children].map(async (child) => {
        const exited = once(child, "exit");
        child.kill("SIGTERM");
        await exited;
      }),
    );
  }
  return {
    ...server,
    otherPids: [...children].map((child) => child.pid!),
    async close() {
      await stopChildren();
      await server.close();
      store.close();
    },
  };
}

/** Forks one more serving process and waits until it listens (or says why it cannot). */
async function startChild(
  options: ServeProcessOptions,
  handlers: {
    onMessage: (child: ChildProcess, message: ServeProcessMessage) => void;
    onStarted: (child: ChildProcess) => void;
  },
): Promise<void> {
  // Structured clone ("advanced") carries the key's Uint8Arrays as they are.
  const child = fork(PROCESS_MAIN, [], {
    serialization: "advanced",
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  handlers.onStarted(child);
  child.on("message", (message: ServeProcessMessage) => handlers.onMessage(child, message));
  child.send({ type: "init", options } satisfies ServeProcessMessage);
  const ready = new Promise<void>((resolve) => {
    child.on("message", (message: ServeProcessMessage) => {
      if (message.type === "ready") resolve();
    });
  });
  const [exit] = await Promise.race([ready.then(() => [undefined]), once(child, "exit")]);
  if (exit !== undefined) {
    throw new PublishError("PROCESS", `a serving process could not start (exit ${exit})`, {
      hint: "its error is on stderr above",
    });
  }
}
