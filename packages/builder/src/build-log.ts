/**
 * Build logs are kept gzip-compressed under the state directory, where guix-daemon keeps
 * them: `${stateDir}/kiln/log/drvs/<first two characters of the .drv name>/<the rest>.gz`.
 * Long logs are compressed while the build writes them, with backpressure: a builder
 * that writes faster than the disk takes it waits.
 */
import { createWriteStream, mkdir, mkdirSync, writeFile } from "node:fs";
import { basename, dirname, join } from "node:path";
import { Writable } from "node:stream";
import { finished, pipeline } from "node:stream/promises";
import { createGzip, type Gzip, gzipSync } from "node:zlib";
import { kilnStateDir, type StoreConfig } from "@kiln/store/store-config";

export interface BuildLogWriter {
  /** The `.gz` file. */
  readonly path: string;
  /** Takes the builder's output; give it to runInSandbox as `log`. */
  readonly stream: Writable;
  /** Ends the log once the build is over; resolves when the file is complete. */
  close(): Promise<void>;
  /** Ends the log of a build that never started: no file is written for it. */
  discard(): Promise<void>;
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

/** Logs up to this size are compressed in one go when the build ends; longer ones stream. */
const SPILL_BYTES = 64 << 10;

/**
 * Starts the log of a build of `drvPath`, replacing any earlier one. Every chunk is also
 * handed to `tee` (the live display) as it comes.
 *
 * Most builds say little: their output is kept in memory and written compressed at the
 * end, in one small write on the thread pool. Once a log passes 64 KiB it is streamed through gzip to the
 * file from then on, so memory stays bounded however much a build prints.
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
  const { tee } = options;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let gzip: Gzip | undefined;
  let written: Promise<void> | undefined;
  let discarded = false;

  const spill = (): Gzip => {
    mkdirSync(dirname(path), { recursive: true });
    const stream = createGzip();
    written = pipeline(stream, createWriteStream(path, { mode: 0o644 }));
    // Rejections are reported by close(); keep them from being "unhandled" meanwhile.
    written.catch(() => {});
    for (const chunk of pending) stream.write(chunk);
    pending = [];
    return stream;
  };

  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      tee?.(chunk);
      if (gzip === undefined) {
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes < SPILL_BYTES) {
          callback();
          return;
        }
        gzip = spill();
        callback();
        return;
      }
      // A log that cannot be written (disk full) must not hold the builder up forever;
      // close() reports the failure.
      if (gzip.destroyed || gzip.write(chunk)) {
        callback();
        return;
      }
      const resume = () => {
        gzip?.off("drain", resume);
        gzip?.off("close", resume);
        callback();
      };
      gzip.on("drain", resume);
      gzip.on("close", resume);
    },
    final(callback) {
      if (gzip === undefined) {
        if (discarded) {
          callback();
          return;
        }
        writeWhole(path, gzipSync(Buffer.concat(pending))).then(() => callback(), callback);
        return;
      }
      gzip.end();
      written?.then(() => callback(), callback);
    },
  });
  return {
    path,
    stream,
    async close() {
      if (!stream.writableEnded) stream.end();
      await finished(stream);
    },
    async discard() {
      discarded = true;
      if (!stream.writableEnded) stream.end();
      await finished(stream);
    },
  };
}

/**
 * Writes a small log in one go, on the thread pool (creating a file costs a journal write
 * this thread need not wait for), with plain callbacks: cheaper here than fs/promises.
 */
function writeWhole(path: string, data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    writeFile(path, data, { mode: 0o644 }, (error) => {
      if (!error) return resolve();
      if (error.code !== "ENOENT") return reject(error);
      mkdir(dirname(path), { recursive: true }, (mkdirError) => {
        if (mkdirError) return reject(mkdirError);
        writeFile(path, data, { mode: 0o644 }, (again) => (again ? reject(again) : resolve()));
      });
    });
  });
}
