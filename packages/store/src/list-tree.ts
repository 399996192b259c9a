/**
 * The regular files and directories of a tree, without following symlinks: what a flush
 * must reach. Directories are listed parents first, so their reverse is deepest first.
 */
import { lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";

/**
 * @example const { files, directories } = listTree("/gnu/store/…-hello.kiln-new-0a1b2c")
 */
export function listTree(root: string): { files: string[]; directories: string[] } {
  const files: string[] = [];
  const directories: string[] = [];
  const pending = [root];
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    const stat = lstatSync(path);
    if (stat.isDirectory()) {
      directories.push(path);
      for (const name of readdirSync(path)) pending.push(join(path, name));
    } else if (stat.isFile()) {
      files.push(path);
    }
  }
  return { files, directories };
}
