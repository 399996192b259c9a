/**
 * `nix-cache-info`, the first file a client reads from a binary cache:
 * `StoreDir: /nix/store`, `WantMassQuery: 1`, `Priority: 40`, one `Key: value` a line.
 */
import { SubstituterError } from "./substituter-error.ts";

/** What a cache says about itself. */
export interface CacheInfo {
  /** The logical store directory its paths belong to; absent when the file does not say. */
  readonly storeDir?: string;
  /** Whether clients may ask it about many paths at once (`nix-env -qas`, weather). */
  readonly wantMassQuery: boolean;
  /** Lower is tried first. Nix's default for a cache that does not say is 50. */
  readonly priority: number;
}

/** Nix's priority for a cache whose nix-cache-info has no `Priority:` line. */
export const DEFAULT_CACHE_PRIORITY = 50;

/**
 * Reads a `nix-cache-info` text. Unknown keys are ignored, as Nix does; a `Priority:` or
 * `WantMassQuery:` that is not a number is an error, since ordering depends on it.
 * @example parseCacheInfo("StoreDir: /nix/store\nPriority: 30\n") // { storeDir: "/nix/store", wantMassQuery: false, priority: 30 }
 */
export function parseCacheInfo(text: string): CacheInfo {
  let storeDir: string | undefined;
  let wantMassQuery = false;
  let priority = DEFAULT_CACHE_PRIORITY;
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (key === "StoreDir") storeDir = value;
    else if (key === "WantMassQuery") wantMassQuery = readNumber(key, value) !== 0;
    else if (key === "Priority") priority = readNumber(key, value);
  }
  return { ...(storeDir === undefined ? {} : { storeDir }), wantMassQuery, priority };
}

function readNumber(key: string, value: string): number {
  if (!/^[0-9]+$/.test(value)) {
    throw new SubstituterError(
      "CACHE_INFO",
      `nix-cache-info: ${key} ${JSON.stringify(value)} is not a number`,
    );
  }
  return Number(value);
}
