/**
 * `/<nar-path>/<method>/<basename>` and `/<nar-path>/<basename>` over raw node:http: a
 * nar is streamed from the store (dumpPath → compressor → socket) or from its baked file,
 * through `stream.pipeline`, so a slow client slows the reading down instead of piling
 * the archive up in memory, and a client that goes away stops the work.
 *
 * Uncompressed nars have a known length (NarSize), as do baked files: those answer HEAD
 * with Content-Length and honour single Range requests. A live compressed nar's length
 * is unknown until sent, so it goes chunked and a Range header is ignored.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { dumpPath } from "@kiln/formats/nar-writer";
import type { PathInfo } from "@kiln/store/path-info";
import { type Compression, createCompressor, isCompressionMethod } from "./compression.ts";
import { parseRange } from "./parse-range.ts";
import type { PublishContext } from "./publish-context.ts";
import { isStoreBaseName } from "./request-names.ts";
import { sendFile } from "./send-file.ts";

/** guix publish's `low-compression`: the level of nars compressed live while they bake. */
const LOW_LEVEL = 2;

function finish(
  context: PublishContext,
  res: ServerResponse,
  status: number,
  headers: Record<string, string | number>,
  body?: string,
): void {
  context.metrics.request("nar", status);
  res.writeHead(status, headers);
  res.end(body);
}

/** Skips `start` bytes of a stream and stops after `end` (inclusive): a Range of a live NAR. */
function slice(start: number, end: number): Transform {
  let offset = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const from = Math.max(0, start - offset);
      const to = Math.min(chunk.length, end + 1 - offset);
      offset += chunk.length;
      callback(null, from < to ? chunk.subarray(from, to) : undefined);
    },
  });
}

/** What to send: where the bytes come from and how many there are, if known. */
type Source =
  | { readonly kind: "file"; readonly file: string; readonly size: number }
  | {
      readonly kind: "live";
      readonly realPath: string;
      readonly size?: number;
      readonly compression: Compression;
    };

function locate(
  context: PublishContext,
  info: PathInfo,
  method: Compression["method"],
  baseName: string,
): Source | "baking" {
  const realPath = context.store.realPath(info.path);
  const cache = context.cache;
  const baked = cache?.bakedNar(method, baseName);
  if (baked) return { kind: "file", ...baked };
  // An uncompressed nar is cheap to make live (no compressor), so it never waits.
  if (method === "none") {
    return { kind: "live", realPath, size: info.narSize, compression: { method, level: 0 } };
  }
  const configured = context.compressions.find((c) => c.method === method) ?? { method, level: 3 };
  if (cache) {
    cache.enqueue(info.path);
    if (!cache.bypasses(info)) return "baking";
    // Served live only while it bakes, so as guix publish does: cheaply (level ≤ 2).
    return {
      kind: "live",
      realPath,
      compression: { method, level: Math.min(configured.level, LOW_LEVEL) },
    };
  }
  return { kind: "live", realPath, compression: configured };
}

/**
 * Answers a nar request. `rest` is the URL path after `/<nar-path>/`, undecoded.
 * Returns when the response is complete (or the client has gone).
 */
export async function serveNar(
  context: PublishContext,
  req: IncomingMessage,
  res: ServerResponse,
  rest: string,
): Promise<void> {
  const notFound = (body = "Resource not found.\n") =>
    finish(
      context,
      res,
      404,
      {
        "Content-Type": "text/plain",
        ...(context.negativeTtl === undefined
          ? {}
          : { "Cache-Control": `max-age=${context.negativeTtl}` }),
      },
      body,
    );
  if (req.method !== "GET" && req.method !== "HEAD") {
    return finish(context, res, 405, { Allow: "GET, HEAD" }, "Method not allowed.\n");
  }
  const parts = rest.split("/");
  const method = parts.length === 2 ? parts[0] : "none";
  const baseName = parts[parts.length - 1];
  if (parts.length > 2 || !isStoreBaseName(baseName)) {
    return finish(
      context,
      res,
      400,
      { "Content-Type": "text/plain" },
      "Bad request: not a store item.\n",
    );
  }
  if (!isCompressionMethod(method) || (parts.length === 2 && method === "none")) return notFound();
  // lzip runs a program, checked at start-up only when configured: otherwise not offered.
  if (method === "lzip" && !context.compressions.some((c) => c.method === "lzip"))
    return notFound();
  const info = context.store.pathInfo(`${context.store.storeDir}/${baseName}`);
  if (!info) return notFound();
  const source = locate(context, info, method, baseName);
  if (source === "baking") return notFound("We're baking it.\n");

  const headers: Record<string, string | number> = { "Content-Type": "application/x-nix-archive" };
  if (context.ttl !== undefined) headers["Cache-Control"] = `max-age=${context.ttl}`;
  let status = 200;
  let start = 0;
  let end: number | undefined;
  if (source.size !== undefined) {
    headers["Accept-Ranges"] = "bytes";
    const range = parseRange(req.headers.range, source.size);
    if (range.kind === "unsatisfiable") {
      return finish(context, res, 416, { "Content-Range": `bytes */${source.size}` });
    }
    end = source.size - 1;
    if (range.kind === "range") {
      status = 206;
      ({ start, end } = range);
      headers["Content-Range"] = `bytes ${start}-${end}/${source.size}`;
    }
    headers["Content-Length"] = end - start + 1;
  }
  if (req.method === "HEAD" || end === -1) return finish(context, res, status, headers);

  res.writeHead(status, headers);
  let sent = 0;
  try {
    if (source.kind === "file") {
      sent = await sendFile(source.file, res, { start, end: end! });
      context.metrics.request("nar", sent === end! + 1 - start ? status : 499);
      return;
    }
    const stages: NodeJS.ReadWriteStream[] = [];
    if (status === 206) stages.push(slice(start, end!));
    const compressor = createCompressor(source.compression, context.programs);
    if (compressor) stages.push(compressor);
    const counter = new Transform({
      // As large as the chunks, so that counting adds no extra round of backpressure.
      highWaterMark: 1 << 20,
      transform(chunk: Buffer, _encoding, callback) {
        sent += chunk.length;
        callback(null, chunk);
      },
    });
    await pipeline([Readable.from(dumpPath(source.realPath)), ...stages, counter, res]);
    context.metrics.request("nar", status);
  } catch (error) {
    // Mostly a client that went away; the pipeline has already closed everything.
    context.metrics.request("nar", res.headersSent ? 499 : 500);
    if (!res.destroyed) res.destroy();
    context.logger.debug({ storePath: info.path, err: error }, "nar transfer ended early");
  } finally {
    context.metrics.bytes("nar", sent);
  }
}
