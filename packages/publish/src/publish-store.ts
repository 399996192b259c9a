/**
 * What the publish server needs from a store, and nothing more: it only reads. Behind
 * an interface so tests can count lookups (bad requests must not reach the store) and
 * other stores can be published the same way.
 */
import type { LocalStore } from "@kiln/store/local-store";
import type { PathInfo } from "@kiln/store/path-info";

export interface PublishStore {
  /** The logical store directory, e.g. `/gnu/store`. */
  readonly storeDir: string;
  /** The valid path whose hash part is `hashPart`, if any. */
  pathFromHashPart(hashPart: string): string | undefined;
  /** What the store knows about a valid path, or undefined. */
  pathInfo(path: string): PathInfo | undefined;
  /** Where a store path's files are on disk. */
  realPath(path: string): string;
}

/**
 * The read side of a LocalStore. Only queries run; the server never adds, deletes or
 * registers anything.
 * @example localPublishStore(LocalStore.open(config)).pathFromHashPart("qa1w9gdfrba6jl2r57mb3c43863gqywp")
 */
export function localPublishStore(store: LocalStore): PublishStore {
  const { storeDir } = store.config;
  return {
    storeDir,
    pathFromHashPart: (hashPart) => store.db.queryPathFromHashPart(storeDir, hashPart),
    pathInfo: (path) => store.queryPathInfo(path),
    realPath: (path) => store.realPath(path),
  };
}
