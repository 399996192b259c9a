/**
 * Removes a directory tree that a build may have left unwritable (a 0500 directory
 * cannot be emptied by its owner), by making its directories writable first.
 */
import { chmodSync, lstatSync, readdirSync, rmdirSync, rmSync } from "node:fs";
import { join } from "node:path";

/** Like `rm -rf`, also when the build removed its own write permissions. */
export function removeTree(path: string): void {
  try {
    // Most build trees of successful trivial builds are empty: one syscall.
    rmdirSync(path);
    return;
  } catch {
    // Not empty, not a directory, or missing: the general case below.
  }
  try {
    rmSync(path, { recursive: true, force: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EACCES") throw error;
    makeDirectoriesWritable(path);
    rmSync(path, { recursive: true, force: true });
  }
}

function makeDirectoriesWritable(root: string): void {
  const pending = [root];
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    if (!lstatSync(path).isDirectory()) continue;
    chmodSync(path, 0o700);
    for (const name of readdirSync(path)) pending.push(join(path, name));
  }
}
