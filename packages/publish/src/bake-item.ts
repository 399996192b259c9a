/**
 * Baking one store item for the cache (`--cache`): its NAR is read once and compressed
 * with every configured method at the same time, into temporary files that are flushed
 * and renamed into place only when complete and only when the NAR matched the store's
 * NarHash and NarSize. A half-written or corrupt nar is therefore never served.
 */
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { createWriteStream, mkdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { type Duplex, PassThrough, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { formatHashNix32 } from "@kiln/formats/hash";
import { dumpPath } from "@kiln/formats/nar-writer";
import { writeFileAtomic } from "@kiln/keys/write-file-atomic";
import type { PathInfo } from "@kiln/store/path-info";
import { actualCompressions } from "./actual-compressions.ts";
import {
  type Compression,
  type CompressionMethod,
  type CompressPrograms,
  createCompressor,
} from "./compression.ts";
import { makeNarinfo, type NarinfoSigner } from "./make-narinfo.ts";
import { type BakedNar, narGroups } from "./nar-groups.ts";
import { PublishError } from "./publish-error.ts";

export interface BakeItemOptions {
  /** The cache directory. */
  readonly dir: string;
  readonly compressions: readonly Compression[];
  readonly narPath: string;
  readonly signer: NarinfoSigner;
  /** Compressor programs (lzip). */
  readonly programs?: CompressPrograms;
}

/** Where baked files live: `DIR/<method>/<basename>.nar`, the narinfo beside the first method's. */
export function bakedNarFile(dir: string, method: CompressionMethod, baseName: string): string {
  return join(dir, method, `${baseName}.nar`);
}

export function bakedNarinfoFile(
  dir: string,
  compressions: readonly Compression[],
  baseName: string,
): string {
  return join(dir, compressions[0].method, `${baseName}.narinfo`);
}

interface Output {
  readonly compression: Compression;
  readonly input: Duplex;
  readonly done: Promise<void>;
  readonly temporary: string;
  readonly result: () => BakedNar;
}

function openOutput(
  dir: string,
  compression: Compression,
  baseName: string,
  programs?: CompressPrograms,
): Output {
  // `none` is baked too: a plain file serves faster than serialising the item again.
  const input = createCompressor(compression, programs) ?? new PassThrough();
  const hash = createHash("sha256");
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  const temporary = join(
    dir,
    compression.method,
    `.${baseName}.nar.tmp-${randomBytes(6).toString("hex")}`,
  );
  const done = pipeline(input, counter, createWriteStream(temporary, { mode: 0o644, flush: true }));
  // Observed through `done`; this keeps an early failure from being reported as unhandled.
  done.catch(() => {});
  return {
    compression,
    input,
    done,
    temporary,
    result: () => ({
      fileHash: { algorithm: "sha256", digest: new Uint8Array(hash.digest()) },
      fileSize: size,
    }),
  };
}

/** Feeds the NAR to every output, waiting for the slowest (backpressure), and checks it. */
async function writeNar(
  realPath: string,
  info: PathInfo,
  outputs: readonly Output[],
): Promise<void> {
  const narHash = createHash("sha256");
  let narSize = 0;
  // Rejects as soon as any output fails, so that a wait for 'drain' cannot hang.
  const failed = Promise.race(
    outputs.map((output) => output.done.then(() => new Promise<never>(() => {}))),
  );
  failed.catch(() => {});
  for await (const chunk of dumpPath(realPath)) {
    narHash.update(chunk);
    narSize += chunk.length;
    const waits = outputs.flatMap((output) =>
      output.input.write(chunk) ? [] : [once(output.input, "drain")],
    );
    if (waits.length > 0) await Promise.race([Promise.all(waits), failed]);
  }
  for (const output of outputs) output.input.end();
  await Promise.all(outputs.map((output) => output.done));
  const actual = formatHashNix32({ algorithm: "sha256", digest: new Uint8Array(narHash.digest()) });
  if (actual !== info.narHash || narSize !== info.narSize) {
    throw new PublishError(
      "CORRUPT_ITEM",
      `${info.path} on disk has NAR ${actual} (${narSize} bytes), the store says ${info.narHash} (${info.narSize} bytes)`,
      { hint: "run `kiln store verify --check-contents --repair`" },
    );
  }
}

/**
 * Bakes `info`'s nar in every method (`none` included; only `none` for an item that is a
 * compressed file, see actual-compressions.ts) and writes its signed narinfo (listing
 * the baked files' FileHash and FileSize); returns the narinfo text.
 * @example await bakeItem(info, store.realPath(info.path), { dir, compressions, narPath: "nar", signer })
 */
export async function bakeItem(
  info: PathInfo,
  realPath: string,
  options: BakeItemOptions,
): Promise<string> {
  const baseName = info.path.slice(info.path.lastIndexOf("/") + 1);
  const compressions = actualCompressions(info.path, options.compressions);
  for (const { method } of compressions) {
    mkdirSync(join(options.dir, method), { recursive: true });
  }
  const outputs = compressions.map((compression) =>
    openOutput(options.dir, compression, baseName, options.programs),
  );
  const baked = new Map<CompressionMethod, BakedNar>();
  try {
    await writeNar(realPath, info, outputs);
    for (const output of outputs) {
      renameSync(output.temporary, bakedNarFile(options.dir, output.compression.method, baseName));
      baked.set(output.compression.method, output.result());
    }
  } finally {
    for (const output of outputs) {
      output.input.destroy();
      rmSync(output.temporary, { force: true });
    }
  }
  const groups = narGroups(info, compressions, { narPath: options.narPath, baked });
  const text = makeNarinfo(info, groups, options.signer);
  writeFileAtomic(bakedNarinfoFile(options.dir, compressions, baseName), text);
  return text;
}
