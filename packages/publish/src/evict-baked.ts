/**
 * `--ttl` with `--cache`: baked files are removed once their store item has left the
 * store and nobody has touched them for the TTL, as guix publish does; clients may
 * still hold narinfos pointing at them until then. Temporary files left by a crash
 * mid-bake are removed too.
 */
import { readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Compression } from "./compression.ts";
import type { PublishStore } from "./publish-store.ts";
import { isStoreBaseName } from "./request-names.ts";

/** A temporary file older than this belongs to no running bake. */
const STALE_TEMPORARY_MS = 3600_000;

export interface EvictOptions {
  readonly dir: string;
  readonly compressions: readonly Compression[];
  readonly store: PublishStore;
  /** Seconds a baked file of a gone item is kept after its last access. */
  readonly ttl: number;
  readonly now?: number;
}

/**
 * Removes expired baked files; returns the paths removed.
 * @example evictBaked({ dir: "/var/cache/kiln/publish", compressions, store, ttl: 432000 })
 */
export function evictBaked(options: EvictOptions): string[] {
  const now = options.now ?? Date.now();
  const removed: string[] = [];
  const gone = new Map<string, boolean>();
  const isGone = (baseName: string) => {
    let answer = gone.get(baseName);
    if (answer === undefined) {
      answer = options.store.pathInfo(`${options.store.storeDir}/${baseName}`) === undefined;
      gone.set(baseName, answer);
    }
    return answer;
  };
  // `none` too: items that are compressed files are baked only there (actual-compressions.ts).
  const methods = new Set(["none", ...options.compressions.map((c) => c.method)]);
  for (const method of methods) {
    const dir = join(options.dir, method);
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const file = join(dir, name);
      const stat = statSync(file, { throwIfNoEntry: false });
      if (!stat?.isFile()) continue;
      const idle = now - Math.max(stat.atimeMs, stat.mtimeMs);
      const baseName = name.replace(/\.(nar|narinfo)$/, "");
      const expired = name.startsWith(".")
        ? name.includes(".tmp-") && idle > STALE_TEMPORARY_MS
        : isStoreBaseName(baseName) && idle > options.ttl * 1000 && isGone(baseName);
      if (expired) {
        rmSync(file, { force: true });
        removed.push(file);
      }
    }
  }
  return removed;
}
