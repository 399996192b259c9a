/**
 * A static file server on 127.0.0.1 (an ephemeral port) for tests that play a binary
 * cache: serves files under `root`, 404 otherwise, and records every request path.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join, normalize } from "node:path";

export interface StaticServer {
  readonly url: string;
  /** Paths requested so far, in order (clear it with `requests.length = 0`). */
  readonly requests: string[];
  close(): Promise<void>;
}

export async function serveStaticDirectory(root: string): Promise<StaticServer> {
  const requests: string[] = [];
  const server = createServer((request, response) => {
    // normalize() keeps `..` from leaving root.
    const path = normalize(decodeURIComponent(new URL(request.url ?? "/", "http://x").pathname));
    requests.push(path);
    try {
      response.end(readFileSync(join(root, path)));
    } catch {
      response.statusCode = 404;
      response.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
