/**
 * A tiny static HTTP server on 127.0.0.1 (ephemeral port) for tests: serves a directory
 * as a binary cache would, records what was asked, and can delay, replace or cut short
 * answers to play a slow or broken server.
 */
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join, normalize } from "node:path";

/** A replacement answer. `truncateAfter` sends the full Content-Length but only that many bytes. */
export interface CannedResponse {
  readonly status?: number;
  readonly body?: string | Uint8Array;
  readonly headers?: Record<string, string>;
  readonly truncateAfter?: number;
}

export interface ServeOptions {
  /** Milliseconds to wait before answering `path` (e.g. `/nar/….nar`). */
  readonly delay?: (path: string) => number;
  /** An answer to give instead of the file's. */
  readonly respond?: (path: string) => CannedResponse | undefined;
}

export interface TestServer {
  readonly url: string;
  /** Request paths, in arrival order. */
  readonly requests: string[];
  /** Most nar requests that were being answered at the same time. */
  readonly maxConcurrentNars: () => number;
  close(): Promise<void>;
}

export async function serveDirectory(
  root: string,
  options: ServeOptions = {},
): Promise<TestServer> {
  const requests: string[] = [];
  let narsNow = 0;
  let narsMax = 0;
  const server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? "/", "http://x").pathname);
    requests.push(path);
    const isNar = path.startsWith("/nar/");
    if (isNar) narsMax = Math.max(narsMax, ++narsNow);
    try {
      const delay = options.delay?.(path) ?? 0;
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      const canned = options.respond?.(path);
      let body: Uint8Array | undefined;
      if (canned?.body !== undefined) body = Buffer.from(canned.body);
      else if (canned?.status === undefined && !normalize(path).includes("..")) {
        body = await readFile(join(root, path)).catch(() => undefined);
      }
      if (body === undefined) {
        response.writeHead(canned?.status ?? 404, canned?.headers).end();
        return;
      }
      response.writeHead(canned?.status ?? 200, {
        "content-length": String(body.length),
        ...canned?.headers,
      });
      if (canned?.truncateAfter !== undefined) {
        response.write(body.subarray(0, canned.truncateAfter));
        await new Promise((resolve) => setTimeout(resolve, 20));
        request.socket.destroy();
        return;
      }
      response.end(body);
    } finally {
      if (isNar) narsNow--;
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    maxConcurrentNars: () => narsMax,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
