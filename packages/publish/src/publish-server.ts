/**
 * The running server: one node:http server whose nar requests go to serve-nar.ts and
 * everything else to the Hono app. Listens on loopback unless told otherwise, then drops
 * privileges when asked.
 */
import { once } from "node:events";
import { mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import { dropPrivileges } from "./drop-privileges.ts";
import { evictBaked } from "./evict-baked.ts";
import { type NarinfoAnswer, narinfoAnswer } from "./narinfo-answer.ts";
import { createPublishApp } from "./publish-app.ts";
import {
  createPublishContext,
  type PublishContext,
  type PublishOptions,
} from "./publish-context.ts";
import { serveNar } from "./serve-nar.ts";

/** Sweeps the baked cache (with --ttl) now and then; at most hourly. */
function scheduleEviction(
  options: PublishServerOptions,
  context: PublishContext,
): NodeJS.Timeout | undefined {
  // The process that bakes sweeps; the others (bakeElsewhere) leave the cache to it.
  if (!context.cache || options.ttl === undefined || options.cache?.bakeElsewhere) return undefined;
  const sweep = () => {
    try {
      const removed = evictBaked({ ...context.cache!.options, ttl: options.ttl! });
      if (removed.length > 0) context.logger.info({ files: removed.length }, "evicted baked files");
    } catch (error) {
      context.logger.error({ err: error }, "eviction failed");
    }
  };
  sweep();
  const timer = setInterval(sweep, Math.min(options.ttl * 1000, 3600_000));
  timer.unref();
  return timer;
}

/** `/<32 characters>.narinfo`, without a query; anything else goes the general way. */
const FAILED = Buffer.from("Internal server error.\n");
const NARINFO_URL = /^\/([0-9a-z]{32}\.narinfo)$/;

export interface PublishServerOptions extends PublishOptions {
  /** TCP port (default 8080; 0 picks a free one). */
  readonly port?: number;
  /** Address to listen on (default 127.0.0.1: publishing to the network is a choice). */
  readonly listen?: string;
  /** Become this user once listening (needs root). */
  readonly user?: string;
  /**
   * Share the port with other processes listening on it the same way (SO_REUSEPORT: the
   * kernel spreads connections among them); see publish-processes.ts.
   */
  readonly reusePort?: boolean;
}

export interface PublishServer {
  readonly server: Server;
  readonly context: PublishContext;
  /** `http://host:port`, the substituter URL to give clients. */
  readonly url: string;
  readonly port: number;
  /** Process ids of the other processes serving the port (publish-processes.ts). */
  readonly otherPids?: readonly number[];
  /** Stops accepting, ends idle connections and waits for running requests. */
  close(): Promise<void>;
}

/**
 * Starts kiln publish.
 * @example const publish = await startPublishServer({ store, key, port: 0 }); // publish.url
 */
export async function startPublishServer(options: PublishServerOptions): Promise<PublishServer> {
  const context = createPublishContext(options);
  const app = createPublishApp(context);
  const honoListener = getRequestListener(app.fetch);
  const narPrefix = `/${context.narPath}/`;
  const server = createServer((req, res) => {
    const url = req.url ?? "/";
    const narinfo = NARINFO_URL.exec(url);
    if (narinfo && (req.method === "GET" || req.method === "HEAD")) {
      // The fast path for the most frequent request; the Hono route gives the same answer.
      let answer: NarinfoAnswer;
      try {
        answer = narinfoAnswer(context, narinfo[1]);
      } catch (error) {
        context.logger.error({ err: error, url }, "request failed");
        answer = { status: 500, headers: { "Content-Type": "text/plain" }, body: FAILED };
      }
      res.writeHead(answer.status, answer.headers);
      res.end(req.method === "HEAD" ? undefined : answer.body);
      context.metrics.request("narinfo", answer.status);
      if (req.method === "GET") context.metrics.bytes("narinfo", answer.body.length);
    } else if (url.startsWith(narPrefix)) {
      const query = url.indexOf("?");
      const rest = url.slice(narPrefix.length, query < 0 ? undefined : query);
      serveNar(context, req, res, rest).catch((error: unknown) => {
        // A failure of the store itself (its database, say): the request fails, not the server.
        context.logger.error({ err: error, url }, "nar request failed");
        context.metrics.request("nar", 500);
        if (!res.headersSent) res.writeHead(500, { "Content-Type": "text/plain" });
        res.end();
      });
    } else {
      void honoListener(req, res);
    }
  });
  if (options.cache) mkdirSync(options.cache.dir, { recursive: true });
  const host = options.listen ?? "127.0.0.1";
  server.listen({ port: options.port ?? 8080, host, reusePort: options.reusePort ?? false });
  await once(server, "listening");
  if (options.user !== undefined) {
    dropPrivileges(options.user, { writable: options.cache ? [options.cache.dir] : [] });
  }
  const eviction = scheduleEviction(options, context);
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  context.logger.info(
    { url, storeDir: context.store.storeDir, keyName: context.signer.keyName },
    "publishing",
  );
  return {
    server,
    context,
    url,
    port,
    async close() {
      if (eviction) clearInterval(eviction);
      const closed = once(server, "close");
      server.close();
      server.closeIdleConnections();
      await closed;
      await context.cache?.idle();
    },
  };
}
