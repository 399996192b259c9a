/**
 * The HTTP endpoints of kiln publish other than nars (which serve-nar.ts streams over
 * raw node:http): `/nix-cache-info`, `/<hash>.narinfo`, `/log/<drv>`,
 * `/file/<name>/sha256/<nix32>`, `/signing-key.pub`, `/metrics` and `/`. A Hono app, so
 * tests call `app.request(…)` without a socket.
 *
 * Every name in a URL is checked before the store or the disk is touched: a malformed
 * one is a 400, a well-formed one that is not there a 404 carrying the negative TTL.
 */
import { createReadStream, lstatSync } from "node:fs";
import { Readable } from "node:stream";
import { decodeDigest } from "@kiln/formats/hash";
import { makeFixedOutputPath } from "@kiln/formats/make-store-path";
import { Hono } from "hono";
import { findLogFile } from "./find-log-file.ts";
import { narinfoAnswer } from "./narinfo-answer.ts";
import type { PublishContext } from "./publish-context.ts";
import type { Endpoint } from "./publish-metrics.ts";
import { isNix32Sha256, isStoreBaseName, isStoreName } from "./request-names.ts";

type Env = { Variables: { endpoint: Endpoint } };

function endpointOf(path: string): Endpoint {
  if (path.endsWith(".narinfo")) return "narinfo";
  if (path === "/nix-cache-info") return "nix-cache-info";
  if (path.startsWith("/log/")) return "log";
  if (path.startsWith("/file/")) return "file";
  if (path === "/signing-key.pub") return "signing-key";
  if (path === "/metrics") return "metrics";
  if (path === "/" || path === "/index.html") return "index";
  return "other";
}

/** A file streamed as the body (with backpressure: node-server awaits 'drain'). */
function fileBody(file: string): ReadableStream<Uint8Array> {
  return Readable.toWeb(
    createReadStream(file, { highWaterMark: 256 * 1024 }),
  ) as ReadableStream<Uint8Array>;
}

/**
 * Builds the app over a context.
 * @example await createPublishApp(context).request("/nix-cache-info")
 */
export function createPublishApp(context: PublishContext): Hono<Env> {
  const app = new Hono<Env>();
  const maxAge = (seconds: number | undefined) =>
    seconds === undefined ? {} : { "Cache-Control": `max-age=${seconds}` };
  const notFound = (body = "Resource not found.\n") =>
    new Response(body, {
      status: 404,
      headers: { "Content-Type": "text/plain", ...maxAge(context.negativeTtl) },
    });
  const badRequest = (what: string) =>
    new Response(`Bad request: ${what}\n`, {
      status: 400,
      headers: { "Content-Type": "text/plain" },
    });

  app.use(async (c, next) => {
    const endpoint = endpointOf(c.req.path);
    if (c.req.method !== "GET" && c.req.method !== "HEAD") {
      context.metrics.request(endpoint, 405);
      return new Response("Method not allowed.\n", {
        status: 405,
        headers: { Allow: "GET, HEAD" },
      });
    }
    await next();
    context.metrics.request(endpoint, c.res.status);
    const length = Number(c.res.headers.get("Content-Length"));
    if (c.req.method === "GET" && length > 0) context.metrics.bytes(endpoint, length);
  });

  app.get(
    "/nix-cache-info",
    () => new Response(context.cacheInfo, { headers: { "Content-Type": "text/x-nix-cache-info" } }),
  );

  app.get(
    "/signing-key.pub",
    () => new Response(context.publicKeyText, { headers: { "Content-Type": "text/plain" } }),
  );

  app.get("/metrics", async () => {
    return new Response(await context.collectMetrics(), {
      headers: { "Content-Type": context.metrics.registry.contentType },
    });
  });

  app.get(
    "/",
    () =>
      new Response(
        `<!DOCTYPE html>\n<html><head><title>kiln publish</title></head><body>\n` +
          `<h1>kiln publish</h1>\n<p>A binary cache for ${context.store.storeDir}, signed by ` +
          `<a href="signing-key.pub">this key</a> (Nix name <code>${context.signer.keyName}</code>).</p>\n` +
          `</body></html>\n`,
        { headers: { "Content-Type": "text/html; charset=utf-8" } },
      ),
  );

  app.get("/:file{.+\\.narinfo}", (c) => {
    const answer = narinfoAnswer(context, c.req.param("file"));
    return new Response(answer.body, { status: answer.status, headers: answer.headers });
  });

  app.get("/log/:name", (c) => {
    const name = c.req.param("name");
    if (!isStoreBaseName(name)) return badRequest("a log is named by a store item's base name");
    const { store } = context;
    let drvName = name;
    if (!name.endsWith(".drv")) {
      const deriver = store.pathInfo(`${store.storeDir}/${name}`)?.deriver;
      if (deriver === undefined) return notFound();
      drvName = deriver.slice(deriver.lastIndexOf("/") + 1);
    }
    const log = context.logDir === undefined ? undefined : findLogFile(context.logDir, drvName);
    if (!log) return notFound();
    const headers: Record<string, string> = {
      "Content-Type":
        log.encoding === "bzip2" ? "application/x-bzip2" : "text/plain; charset=utf-8",
      "Content-Length": String(log.size),
    };
    if (log.encoding === "gzip") headers["Content-Encoding"] = "gzip";
    return new Response(c.req.method === "HEAD" ? null : fileBody(log.file), { headers });
  });

  app.get("/file/:name/sha256/:hash", (c) => {
    const name = c.req.param("name");
    const hash = c.req.param("hash");
    if (!isStoreName(name)) return badRequest("invalid store item name");
    if (!isNix32Sha256(hash)) return badRequest("expected a nix32 SHA-256 digest (52 characters)");
    const { store } = context;
    const path = makeFixedOutputPath({
      method: "flat",
      hash: decodeDigest("sha256", hash),
      name,
      storeDir: store.storeDir,
    });
    if (!store.pathInfo(path)) return notFound();
    const file = store.realPath(path);
    const stat = lstatSync(file, { throwIfNoEntry: false });
    if (!stat?.isFile()) return notFound();
    return new Response(c.req.method === "HEAD" ? null : fileBody(file), {
      headers: {
        "Content-Type": "application/octet-stream",
        "Content-Length": String(stat.size),
        ...maxAge(context.ttl),
      },
    });
  });

  app.notFound(() => notFound());
  app.onError((error, c) => {
    context.logger.error({ err: error, url: c.req.path }, "request failed");
    return new Response("Internal server error.\n", { status: 500 });
  });
  return app;
}
