/**
 * One of the serving processes other than the first (publish-processes.ts forks this
 * file): it opens the store and the port (SO_REUSEPORT) from the options it is sent,
 * drops privileges, says it is ready, and then serves until its parent goes away.
 * Items to bake go to the first process; `/metrics` asks it for the sum of all.
 */
import { LocalStore } from "@kiln/store/local-store";
import pino from "pino";
import type { ServeProcessMessage, ServeProcessOptions } from "./publish-processes.ts";
import { type PublishServer, startPublishServer } from "./publish-server.ts";
import { localPublishStore } from "./publish-store.ts";

function send(message: ServeProcessMessage): void {
  process.send?.(message);
}

/**
 * Serves with `options` as one of several processes; resolves once listening.
 * @example process.once("message", (m) => serveProcess(m.options));
 */
export async function serveProcess(options: ServeProcessOptions): Promise<PublishServer> {
  const { storeConfig, logLevel, ...rest } = options;
  const store = LocalStore.open(storeConfig);
  const metrics = new Map<number, (text: string) => void>();
  let nextId = 0;
  const server = await startPublishServer({
    ...rest,
    store: localPublishStore(store),
    logger: pino({ level: logLevel ?? "silent" }, pino.destination(2)),
    reusePort: true,
    cache: rest.cache && { ...rest.cache, bakeElsewhere: (path) => send({ type: "bake", path }) },
    collectMetrics: () =>
      new Promise((resolve) => {
        const id = nextId++;
        metrics.set(id, resolve);
        send({ type: "metrics", id });
      }),
  });
  process.on("message", (message: ServeProcessMessage) => {
    if (message.type === "baked") server.context.narinfos.remember(message.hashPart, message.text);
    else if (message.type === "metrics") {
      metrics.get(message.id)?.(message.text ?? "");
      metrics.delete(message.id);
    } else if (message.type === "metrics-json") {
      void server.context.metrics.registry
        .getMetricsAsJSON()
        .then((json) => send({ type: "metrics-json", id: message.id, json }));
    }
  });
  const stop = () => {
    server.close().finally(() => {
      store.close();
      process.exit(0);
    });
  };
  // The first process stops us with SIGTERM; if it dies, the IPC channel closes.
  process.once("SIGTERM", stop);
  process.once("disconnect", stop);
  return server;
}

if (import.meta.main) {
  process.once("message", (message: ServeProcessMessage) => {
    if (message.type !== "init") return;
    serveProcess(message.options).then(
      () => send({ type: "ready" }),
      (error: unknown) => {
        process.stderr.write(
          `kiln publish: a serving process failed: ${(error as Error).message}\n`,
        );
        process.exit(1);
      },
    );
  });
}
