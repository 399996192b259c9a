/**
 * Reads cache resources (`nix-cache-info`, narinfos, nars) from `http://`, `https://` and
 * `file://` caches as byte streams.
 *
 * node:http rather than the global fetch: bodies stay Node streams from the socket to the
 * decompressor (no web-stream conversion on a 100 MiB nar), and `http.Agent`'s
 * `proxyEnv` gives proxy support (CONNECT for https) without another dependency. The
 * proxy settings are a parameter: the CLI reads `http_proxy` at the edge.
 */
import { createReadStream, type Stats } from "node:fs";
import { stat } from "node:fs/promises";
import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import { fileURLToPath } from "node:url";
import { SubstituterError } from "./substituter-error.ts";

/** Proxies, as the `http_proxy`, `https_proxy` and `no_proxy` variables give them. */
export interface ProxySettings {
  readonly httpProxy?: string;
  readonly httpsProxy?: string;
  readonly noProxy?: string;
}

/** One fetched resource. A status other than 200 comes with an empty body. */
export interface FetchedResource {
  readonly status: number;
  /** Content-Length (or the file's size), when known. */
  readonly size?: number;
  /** `Cache-Control: max-age` in seconds, when the server sent one. */
  readonly maxAge?: number;
  /** The body; throws a SubstituterError when the transfer breaks off or comes up short. */
  readonly body: AsyncIterable<Uint8Array>;
  /** Drops the body unread (frees the connection). */
  discard(): void;
}

export interface ResourceFetcher {
  get(url: URL, options?: { signal?: AbortSignal }): Promise<FetchedResource>;
  /** Closes idle keep-alive connections. */
  close(): void;
}

export interface ResourceFetcherOptions {
  readonly proxy?: ProxySettings;
  /** A request that receives nothing for this long fails (Nix: stalled-download-timeout, 300 s). */
  readonly idleTimeoutMs?: number;
}

const DEFAULT_IDLE_TIMEOUT_MS = 300_000;

/**
 * The default fetcher: keep-alive agents (a cache is asked many small questions), proxies
 * as given, `file://` read straight from disk (a missing file is a 404).
 * @example const fetcher = createResourceFetcher({ proxy: { httpProxy: "http://proxy:3128" } });
 */
export function createResourceFetcher(options: ResourceFetcherOptions = {}): ResourceFetcher {
  const proxyEnv = {
    ...(options.proxy?.httpProxy ? { HTTP_PROXY: options.proxy.httpProxy } : {}),
    ...(options.proxy?.httpsProxy ? { HTTPS_PROXY: options.proxy.httpsProxy } : {}),
    ...(options.proxy?.noProxy ? { NO_PROXY: options.proxy.noProxy } : {}),
  };
  const agentOptions = { keepAlive: true, proxyEnv };
  const agents = { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) };
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  return {
    async get(url, { signal } = {}) {
      if (url.protocol === "file:") return getFile(url);
      if (url.protocol !== "http:" && url.protocol !== "https:") {
        throw new SubstituterError("BAD_URL", `unsupported cache URL ${url.href}`, {
          hint: "use http://, https:// or file://",
        });
      }
      return getHttp(url, {
        agent: url.protocol === "https:" ? agents.https : agents.http,
        idleTimeoutMs,
        signal,
      });
    },
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

function getHttp(
  url: URL,
  options: { agent: http.Agent; idleTimeoutMs: number; signal?: AbortSignal },
): Promise<FetchedResource> {
  const client = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.get(
      url,
      {
        agent: options.agent,
        signal: options.signal,
        headers: { "user-agent": "kiln-substituter/0.1", "accept-encoding": "identity" },
      },
      (response) => {
        const status = response.statusCode ?? 0;
        const length = response.headers["content-length"];
        const size = length === undefined ? undefined : Number(length);
        const maxAge = /(?:^|,)\s*max-age=(\d+)/.exec(response.headers["cache-control"] ?? "");
        if (status !== 200) response.resume();
        resolve({
          status,
          ...(size === undefined || Number.isNaN(size) ? {} : { size }),
          ...(maxAge ? { maxAge: Number(maxAge[1]) } : {}),
          body: status === 200 ? httpBody(url, response, size) : emptyBody(),
          discard: () => response.destroy(),
        });
      },
    );
    request.setTimeout(options.idleTimeoutMs, () => {
      request.destroy(
        new SubstituterError(
          "STALLED",
          `${url.href}: nothing received for ${options.idleTimeoutMs / 1000} s`,
        ),
      );
    });
    request.on("error", (cause) => {
      reject(
        cause instanceof SubstituterError
          ? cause
          : new SubstituterError("NETWORK", `cannot reach ${url.href}: ${cause.message}`, {
              cause,
            }),
      );
    });
  });
}

async function* httpBody(
  url: URL,
  response: IncomingMessage,
  size: number | undefined,
): AsyncGenerator<Uint8Array> {
  let received = 0;
  try {
    for await (const chunk of response) {
      received += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
  } catch (cause) {
    if (cause instanceof SubstituterError) throw cause;
    throw new SubstituterError(
      "TRUNCATED",
      `${url.href}: the transfer broke off after ${received} bytes (${(cause as Error).message})`,
      { cause },
    );
  } finally {
    if (!response.complete) response.destroy();
  }
  if (!response.complete || (size !== undefined && received !== size)) {
    throw new SubstituterError(
      "TRUNCATED",
      `${url.href}: the transfer ended after ${received} of ${size ?? "?"} bytes`,
    );
  }
}

async function getFile(url: URL): Promise<FetchedResource> {
  const path = fileURLToPath(url);
  let info: Stats;
  try {
    info = await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    return { status: 404, body: emptyBody(), discard() {} };
  }
  if (!info.isFile()) return { status: 404, body: emptyBody(), discard() {} };
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  return { status: 200, size: info.size, body: stream, discard: () => stream.destroy() };
}

async function* emptyBody(): AsyncGenerator<Uint8Array> {}

/**
 * Reads a small body (a narinfo, `nix-cache-info`) as UTF-8, refusing anything larger
 * than `limit` bytes so a hostile server cannot make us buffer a nar.
 */
export async function readText(
  resource: FetchedResource,
  url: URL,
  limit = 1 << 20,
): Promise<string> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of resource.body) {
    length += chunk.length;
    if (length > limit) {
      resource.discard();
      throw new SubstituterError("TOO_LARGE", `${url.href} is larger than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}
