/**
 * Flushes a tree to disk before it is registered, so that a path the database calls
 * valid survives a power cut with its contents (the database itself syncs on commit).
 * Files first, then directories bottom-up, so each directory entry points at data that
 * is already durable.
 */
import { closeSync, constants, fsyncSync, openSync } from "node:fs";
import { listTree } from "./list-tree.ts";

function fsyncPath(path: string, flags: number): void {
  const fd = openSync(path, flags);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function fsyncTree(root: string): void {
  const { files, directories } = listTree(root);
  for (const file of files) fsyncPath(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  for (const directory of directories.reverse())
    fsyncPath(directory, constants.O_RDONLY | constants.O_DIRECTORY);
}
