/**
 * Bringing data a client sends into the store: a dump to be content-addressed
 * (AddToStore: a NAR, a flat file's bytes, or a text), or a NAR of a known path
 * (AddToStoreNar, AddMultipleToStore, archives). The data is restored into a temporary
 * name in the real store directory while it streams, hashed on the way, checked, and
 * only then moved into place and registered, under the path's lock; a path that became
 * valid meanwhile is left alone. The temporary name is held by a lock of its own, so
 * `kiln store verify` running beside us leaves it alone until we are done.
 */
import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  type ContentAddress,
  formatContentAddress,
  parseContentAddress,
  storePathForContentAddress,
} from "@kiln/formats/content-address";
import { formatHashNix32, type Hash, type HashAlgorithm } from "@kiln/formats/hash";
import { hashPath } from "@kiln/formats/hash-path";
import { hashStream } from "@kiln/formats/hash-stream";
import { makeFixedOutputPath } from "@kiln/formats/make-store-path";
import { restoreNar } from "@kiln/formats/nar-restore";
import { parseStorePath } from "@kiln/formats/store-path";
import { canonicalisePathMetadata } from "@kiln/store/canonicalise";
import { flushTree } from "@kiln/store/flush-tree";
import { hashingTee } from "@kiln/store/hashing-tee";
import type { LocalStore } from "@kiln/store/local-store";
import type { NewPathInfo } from "@kiln/store/path-info";
import { acquirePathLock } from "@kiln/store/path-lock";
import { removeTree } from "@kiln/store/remove-tree";
import { WRITE_BACK_BYTES } from "@kiln/store/write-back-bytes";
import { DaemonError } from "./daemon-error.ts";

/** Texts (AddTextToStore, `.drv` files) are held in memory; larger ones are refused. */
const MAX_TEXT = 64 << 20;

export interface DumpSpec {
  readonly name: string;
  readonly method: "text" | "flat" | "recursive";
  readonly algorithm: HashAlgorithm;
  readonly references: readonly string[];
}

/** A temporary name in the real store directory, locked while we fill it. */
async function scratch<T>(store: LocalStore, body: (temporary: string) => Promise<T>): Promise<T> {
  const tag = `add-${randomBytes(8).toString("hex")}`;
  const lock = await acquirePathLock(join(store.config.realStoreDir, `${tag}.lock`));
  const temporary = join(store.config.realStoreDir, `${tag}.kiln-new-0`);
  try {
    return await body(temporary);
  } finally {
    removeTree(temporary);
    lock?.release();
  }
}

/**
 * Moves `temporary` into place as `info.path` and registers it, unless the path is
 * valid already. Called with the content checked.
 */
async function commit(store: LocalStore, temporary: string, info: NewPathInfo): Promise<void> {
  // Canonicalise and flush before taking the lock, on the thread pool: other clients are
  // served meanwhile, and no one waits on the lock for a disk.
  canonicalisePathMetadata(temporary);
  await flushTree(temporary);
  const unlock = await store.lockPaths([info.path]);
  try {
    if (store.db.isValidPath(info.path)) return;
    for (const reference of info.references) {
      if (reference !== info.path) store.requirePathInfo(reference);
    }
    store.commitPath(temporary, info, store.derivationOutputsOfFile(info.path, temporary), {
      flushed: true,
    });
  } finally {
    unlock();
  }
}

async function collect(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  limit: number,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of chunks) {
    size += chunk.length;
    if (size > limit) throw new DaemonError("TOO_LARGE", `the text is larger than ${limit} bytes`);
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

/**
 * Adds a client's dump under a content address (AddToStore). `dump` is a NAR for the
 * recursive method and the raw bytes otherwise. Returns the store path.
 */
export async function ingestDump(
  store: LocalStore,
  dump: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  spec: DumpSpec,
): Promise<string> {
  const { storeDir } = store.config;
  const references = [...new Set(spec.references)].sort();
  for (const reference of references) store.requirePathInfo(reference);
  if (spec.method === "text") {
    if (spec.algorithm !== "sha256") {
      throw new DaemonError("UNSUPPORTED", `text is hashed with sha256, not ${spec.algorithm}`);
    }
    return store.addTextToStore(spec.name, await collect(dump, MAX_TEXT), references);
  }
  const path = await scratch(store, async (temporary) => {
    let contentHash: Hash;
    let narHash: Hash;
    let narSize: number;
    if (spec.method === "flat") {
      const tee = hashingTee(dump, spec.algorithm);
      await pipeline(Readable.from(tee.chunks), createWriteStream(temporary, { flags: "wx" }));
      contentHash = tee.result().hash;
      ({ hash: narHash, narSize } = await hashPath(temporary));
    } else {
      const nar = hashingTee(dump, "sha256");
      const content = spec.algorithm === "sha256" ? nar : hashingTee(nar.chunks, spec.algorithm);
      await restoreNar(content.chunks, temporary, {
        writeBackBytes: WRITE_BACK_BYTES,
        canonical: true,
      });
      ({ hash: narHash, size: narSize } = nar.result());
      contentHash = content === nar ? narHash : content.result().hash;
    }
    const method = spec.method === "flat" ? "flat" : "recursive";
    const target = makeFixedOutputPath({
      method,
      hash: contentHash,
      name: spec.name,
      references,
      storeDir,
    });
    if (!store.db.isValidPath(target)) {
      await commit(store, temporary, {
        path: target,
        narHash: formatHashNix32(narHash),
        narSize,
        references,
        ca: formatContentAddress({ method, hash: contentHash }),
      });
    }
    return target;
  });
  return path;
}

/** The content address `info.ca` claims, if it really describes `info.path`. */
function claimedAddress(store: LocalStore, info: IncomingNar): ContentAddress | undefined {
  if (info.ca === undefined || info.ca === "") return undefined;
  const ca = parseContentAddress(info.ca);
  const { name } = parseStorePath(info.path, store.config.storeDir);
  const selfless = info.references.filter((reference) => reference !== info.path);
  const expected = storePathForContentAddress(ca, {
    name,
    references: selfless,
    storeDir: store.config.storeDir,
  });
  return expected === info.path ? ca : undefined;
}

/** True when `info` is content-addressed: its path follows from the content address it claims. */
export function isContentAddressed(store: LocalStore, info: IncomingNar): boolean {
  try {
    return claimedAddress(store, info) !== undefined;
  } catch {
    return false;
  }
}

/** What comes with a NAR: the path's info as the sender states it. */
export type IncomingNar = Omit<NewPathInfo, "narSize"> & { readonly narSize?: number };

/**
 * Adds the NAR of a known path (AddToStoreNar and friends), checking it against the
 * stated NAR hash and size and, when it claims a content address, against that too.
 * A path already valid is not touched (the NAR is still read to its end).
 */
export async function ingestNar(
  store: LocalStore,
  nar: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  info: IncomingNar,
): Promise<void> {
  store.realPath(info.path); // a path of this store, or an error naming it
  if (store.db.isValidPath(info.path)) {
    for await (const _chunk of nar) {
      // The sender's stream must be consumed either way.
    }
    return;
  }
  await scratch(store, async (temporary) => {
    const tee = hashingTee(nar, "sha256");
    await restoreNar(tee.chunks, temporary, { writeBackBytes: WRITE_BACK_BYTES, canonical: true });
    const { hash, size } = tee.result();
    const actual = formatHashNix32(hash);
    if (actual !== info.narHash) {
      throw new DaemonError(
        "HASH_MISMATCH",
        `hash mismatch importing path '${info.path}'; specified: ${info.narHash}, got: ${actual}`,
      );
    }
    if (info.narSize !== undefined && info.narSize !== 0 && info.narSize !== size) {
      throw new DaemonError(
        "SIZE_MISMATCH",
        `size mismatch importing path '${info.path}'; specified: ${info.narSize}, got: ${size}`,
      );
    }
    const ca = info.ca ? claimedAddress(store, info) : undefined;
    if (info.ca && ca === undefined) {
      throw new DaemonError(
        "CA_MISMATCH",
        `path '${info.path}' does not match its content address ${info.ca}`,
      );
    }
    if (ca !== undefined) await checkContent(temporary, ca, hash, info.path);
    await commit(store, temporary, { ...info, narSize: size });
  });
}

async function checkContent(
  temporary: string,
  ca: ContentAddress,
  narHash: Hash,
  path: string,
): Promise<void> {
  let actual: Hash;
  if (ca.method === "recursive") {
    actual =
      ca.hash.algorithm === "sha256"
        ? narHash
        : (await hashPath(temporary, ca.hash.algorithm)).hash;
  } else {
    actual = await hashStream(createReadStream(temporary), ca.hash.algorithm);
  }
  if (Buffer.compare(actual.digest, ca.hash.digest) !== 0) {
    throw new DaemonError(
      "CA_MISMATCH",
      `content address mismatch importing path '${path}'; specified: ${formatContentAddress(ca)}, got: ${formatHashNix32(actual)}`,
    );
  }
}
