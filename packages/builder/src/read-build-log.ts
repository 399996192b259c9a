/**
 * `--log-file`: the stored log of a derivation, or of the derivation that built a path.
 */
import { createReadStream, existsSync } from "node:fs";
import type { Readable } from "node:stream";
import { constants, createGunzip } from "node:zlib";
import type { StoreConfig } from "@kiln/store/store-config";
import type { StoreDatabase } from "@kiln/store/store-database";
import { buildLogPath } from "./build-log.ts";

/**
 * The uncompressed log for `path` (a `.drv` path, or an output path whose deriver is
 * known to the store), as a stream; undefined when no log is kept. A log cut short (a
 * build still running, or killed) reads up to where it was cut.
 *
 * @example
 * const log = readBuildLog(store.config, store.db, "/gnu/store/…-hello-2.12");
 * log?.pipe(process.stdout);
 */
export function readBuildLog(
  config: Pick<StoreConfig, "stateDir">,
  db: Pick<StoreDatabase, "queryPathInfo">,
  path: string,
): Readable | undefined {
  const drvPath = path.endsWith(".drv") ? path : db.queryPathInfo(path)?.deriver;
  if (drvPath === undefined) return undefined;
  const file = buildLogPath(config, drvPath);
  if (!existsSync(file)) return undefined;
  // Sync flush at the end: a truncated gzip stream yields what it has instead of failing.
  const gunzip = createGunzip({ finishFlush: constants.Z_SYNC_FLUSH });
  const source = createReadStream(file);
  source.on("error", (error) => gunzip.destroy(error));
  return source.pipe(gunzip);
}
