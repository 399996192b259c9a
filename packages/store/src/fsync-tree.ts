/**
 * Flushes a tree to disk before it is registered, so that a path the database calls
 * valid survives a power cut with its contents (the database itself syncs on commit).
 * Files first, then directories bottom-up, so each directory entry points at data that
 * is already durable.
 */
import { closeSync, constants, fsyncSync, lstatSync, openSync, readdirSync } from "node:fs";
import { join } from "node:path";

function fsyncPath(path: string, flags: number): void {
  const fd = openSync(path, flags);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function fsyncTree(root: string): void {
  const directories: string[] = [];
  const pending = [root];
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    const stat = lstatSync(path);
    if (stat.isDirectory()) {
      directories.push(path);
      for (const name of readdirSync(path)) pending.push(join(path, name));
    } else if (stat.isFile()) {
      fsyncPath(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    }
  }
  for (const directory of directories.reverse())
    fsyncPath(directory, constants.O_RDONLY | constants.O_DIRECTORY);
}
