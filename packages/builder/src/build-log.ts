/**
 * Build logs are kept gzip-compressed under the state directory, where guix-daemon keeps
 * them: `${stateDir}/kiln/log/drvs/<first two characters of the .drv name>/<the rest>.gz`.
 * They are compressed while the build writes them, with backpressure: a builder that
 * writes faster than the disk takes it waits.
 */
import { createWriteStream, mkdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { kilnStateDir, type StoreConfig } from "@kiln/store/store-config";

export interface BuildLogWriter {
  /** The `.gz` file. */
  readonly path: string;
  /** Takes the builder's output; give it to runInSandbox as `log`. */
  readonly stream: Writable;
  /** Ends the log once the build is over; resolves when the file is complete. */
  close(): Promise<void>;
}

/**
 * Where the log of `drvPath` is kept.
 *
 * @example
 * buildLogPath({ stateDir: "/var" }, "/gnu/store/ab12…-hello-2.12.drv")
 * // "/var/kiln/log/drvs/ab/12…-hello-2.12.drv.gz"
 */
export function buildLogPath(config: Pick<StoreConfig, "stateDir">, drvPath: string): string {
  const name = basename(drvPath);
  return join(kilnStateDir(config), "log", "drvs", name.slice(0, 2), `${name.slice(2)}.gz`);
}

/**
 * Starts the log of a build of `drvPath`, replacing any earlier one. Every chunk is also
 * handed to `tee` (the live display) as it comes.
 *
 * @example
 * const log = openBuildLog(config, drvPath, { tee: (chunk) => process.stderr.write(chunk) });
 * await runInSandbox(spec, { scratchDir, log: log.stream });
 * await log.close();
 */
export function openBuildLog(
  config: Pick<StoreConfig, "stateDir">,
  drvPath: string,
  options: { tee?: (chunk: Uint8Array) => void } = {},
): BuildLogWriter {
  const path = buildLogPath(config, drvPath);
  mkdirSync(dirname(path), { recursive: true });
  const gzip = createGzip();
  const written = pipeline(gzip, createWriteStream(path, { mode: 0o644 }));
  // Rejections are reported by close(); keep them from being "unhandled" meanwhile.
  written.catch(() => {});
  const { tee } = options;
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      tee?.(chunk);
      // A log that cannot be written (disk full) must not hold the builder up forever;
      // close() reports the failure.
      if (gzip.destroyed || gzip.write(chunk)) {
        callback();
        return;
      }
      const resume = () => {
        gzip.off("drain", resume);
        gzip.off("close", resume);
        callback();
      };
      gzip.on("drain", resume);
      gzip.on("close", resume);
    },
    final(callback) {
      gzip.end();
      callback();
    },
  });
  return {
    path,
    stream,
    async close() {
      if (!stream.writableEnded) stream.end();
      await written;
    },
  };
}
