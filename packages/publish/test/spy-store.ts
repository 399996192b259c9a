/** A PublishStore that counts how often it is asked, to show bad requests never reach it. */
import type { PublishStore } from "../src/publish-store.ts";

export interface SpyStore extends PublishStore {
  readonly calls: string[];
}

export function spyStore(inner: PublishStore): SpyStore {
  const calls: string[] = [];
  return {
    storeDir: inner.storeDir,
    calls,
    pathFromHashPart(hashPart) {
      calls.push(`pathFromHashPart ${hashPart}`);
      return inner.pathFromHashPart(hashPart);
    },
    pathInfo(path) {
      calls.push(`pathInfo ${path}`);
      return inner.pathInfo(path);
    },
    realPath(path) {
      calls.push(`realPath ${path}`);
      return inner.realPath(path);
    },
  };
}
