/**
 * What the store verbs need, from the daemon when one runs (as `guix` goes through
 * guix-daemon) or from the store directly (its owner, single-user setups).
 */
import type { HashAlgorithm } from "@kiln/formats/hash";
import type { PathInfo } from "@kiln/store/path-info";
import type { CliConfig } from "./cli-config.ts";
import { connectDaemon } from "./open-daemon.ts";
import { withStore } from "./open-store.ts";

export interface StoreView {
  readonly viaDaemon: boolean;
  addToStore(
    path: string,
    options: {
      method: "recursive" | "flat";
      algorithm: HashAlgorithm;
      name?: string;
      hashTree?: (
        path: string,
        algorithm: HashAlgorithm,
      ) => Promise<{ hash: import("@kiln/formats/hash").Hash }>;
    },
  ): Promise<string>;
  /** The path's info; an error naming it when it is not valid. */
  pathInfo(path: string): Promise<PathInfo>;
  /** The closure of `paths`, sorted. */
  requisites(paths: readonly string[]): Promise<string[]>;
}

export async function withStoreView<T>(
  config: CliConfig,
  body: (view: StoreView) => Promise<T>,
): Promise<T> {
  const client = await connectDaemon(config);
  if (!client) {
    return withStore(config, (store) =>
      body({
        viaDaemon: false,
        addToStore: (path, options) => store.addToStore(path, options),
        pathInfo: async (path) => store.requirePathInfo(path),
        requisites: async (paths) => store.requisites(paths),
      }),
    );
  }
  const { KilnError } = await import("@kiln/formats/kiln-error");
  const pathInfo = async (path: string) => {
    const info = await client.queryPathInfo(path);
    if (!info)
      throw new KilnError("ERR_STORE_INVALID_PATH", `path ${path} is not valid`, {
        hint: "add or build it first",
      });
    return info as PathInfo;
  };
  try {
    return await body({
      viaDaemon: true,
      addToStore: async (path, options) =>
        (
          await client.addToStore(path, {
            method: options.method,
            algorithm: options.algorithm,
            name: options.name,
          })
        ).path,
      pathInfo,
      async requisites(paths) {
        const seen = new Set<string>();
        const pending = [...paths];
        for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
          if (seen.has(path)) continue;
          seen.add(path);
          pending.push(...(await pathInfo(path)).references);
        }
        return [...seen].sort();
      },
    });
  } finally {
    client.close();
  }
}
