/**
 * `kiln archive --import`: reads `nix-store --export` / `guix archive --export` output
 * and adds each item. Items are restored into a temporary name while the archive streams
 * (the path is only known after the NAR), hashed on the way, then moved into place and
 * registered one by one, so an archive that breaks half-way leaves the earlier items
 * valid and nothing partial behind.
 *
 * Trust: importing input-addressed paths is for the store's owner (this function does no
 * signature check); the daemon decides who may call it (issue 3), and checks Guix
 * signatures against the ACL once keys exist (issue 5).
 */
import { randomBytes } from "node:crypto";
import { readExportArchive } from "@kiln/formats/export-archive";
import { formatHashNix32 } from "@kiln/formats/hash";
import { restoreNar } from "@kiln/formats/nar-restore";
import { FrameReader } from "@kiln/formats/worker-protocol-framing";
import { canonicalisePathMetadata } from "./canonicalise.ts";
import { flushTree } from "./flush-tree.ts";
import { hashingTee } from "./hashing-tee.ts";
import type { LocalStore } from "./local-store.ts";
import { acquirePathLock, type PathLock } from "./path-lock.ts";
import { removeTree } from "./remove-tree.ts";
import { StoreError } from "./store-error.ts";
import { WRITE_BACK_BYTES } from "./write-back-bytes.ts";

/** Imports every item of an export archive; returns the paths in archive order. */
export async function importPaths(
  store: LocalStore,
  source: AsyncIterable<Uint8Array>,
): Promise<string[]> {
  const reader = new FrameReader({ maxStringLength: 1 << 20 });
  // Feed the reader from the source as it is consumed.
  const pump = (async () => {
    try {
      for await (const chunk of source) {
        reader.push(chunk);
        await reader.drained(4 << 20);
      }
      reader.end();
    } catch (error) {
      reader.end(error as Error);
    }
  })();
  const imported: string[] = [];
  try {
    for await (const item of readExportArchive(reader)) {
      // Where the NAR goes before we know its path: a leftover name verify recognises.
      // Held while the item is restored, so `verify` does not take it for a crash leftover.
      const owner = `${store.config.realStoreDir}/import-${randomBytes(6).toString("hex")}`;
      const importLock = (await acquirePathLock(`${owner}.lock`)) as PathLock;
      const temporary = `${owner}.kiln-new-${randomBytes(6).toString("hex")}`;
      const tee = hashingTee(item.nar);
      try {
        await restoreNar(tee.chunks, temporary, {
          writeBackBytes: WRITE_BACK_BYTES,
          canonical: true,
        });
        const { path, references, deriver } = await item.trailer();
        const { hash, size } = tee.result();
        store.realPath(path); // a store path of this store, or an error naming it
        const unlock = await store.lockPaths([path]);
        try {
          if (!store.isValidPath(path)) {
            for (const reference of references) {
              if (reference !== path && !store.isValidPath(reference)) {
                throw new StoreError(
                  "MISSING_REFERENCE",
                  `cannot import ${path}: its reference ${reference} is neither valid nor earlier in the archive`,
                );
              }
            }
            canonicalisePathMetadata(temporary);
            await flushTree(temporary);
            store.commitPath(
              temporary,
              {
                path,
                narHash: formatHashNix32(hash),
                narSize: size,
                references,
                deriver: deriver === "" ? undefined : deriver,
              },
              store.derivationOutputsOfFile(path, temporary),
              { flushed: true },
            );
          }
        } finally {
          unlock();
        }
        imported.push(path);
      } finally {
        removeTree(temporary);
        importLock.release();
      }
    }
  } finally {
    reader.end();
    await pump;
  }
  return imported;
}
