/**
 * Deletes a tree and says how many bytes that freed, counted as Nix counts them: the size
 * of every non-directory whose last link goes (a file still linked from `.links` frees
 * its space only when the collector later removes that link).
 */
import { chmodSync, lstatSync, readdirSync, rmdirSync, unlinkSync } from "node:fs";
import { join } from "node:path";

/**
 * Removes `path` (missing is fine) and returns the bytes freed. Directories left
 * read-only (every store directory is 0555) are made writable first.
 * @example removeCounting("/gnu/store/.kiln-trash/…-hello-2.12") // 53120
 */
export function removeCounting(path: string): number {
  let stat: ReturnType<typeof lstatSync>;
  try {
    stat = lstatSync(path);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) {
    unlinkSync(path);
    return stat.nlink === 1 ? stat.size : 0;
  }
  let freed = 0;
  if ((stat.mode & 0o700) !== 0o700) chmodSync(path, 0o700);
  for (const name of readdirSync(path)) freed += removeCounting(join(path, name));
  rmdirSync(path);
  return freed;
}
