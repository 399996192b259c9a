/**
 * Flushes a build output to disk before it is registered, off the event loop: fsync(2)
 * can take milliseconds when the file system is busy, and a daemon running several
 * builds must not stall all of them (and its clients) meanwhile. Same order as the
 * store's fsyncTree: files first, then directories from the deepest up, so that each
 * directory entry points at data that is already durable.
 */
import { constants, lstatSync, readdirSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";

/** Flushes in flight at once (the thread pool has 4 threads by default). */
const PARALLEL = 8;

/**
 * Resolves once every regular file and directory under `root` (and `root` itself) is
 * on disk.
 *
 * @example
 * await syncTree("/gnu/store/…-hello-2.12");
 */
export async function syncTree(root: string): Promise<void> {
  const files: string[] = [];
  const directories: string[] = [];
  // Listing is cheap and synchronous; only the flushes go to the thread pool.
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
  // A bounded number at once: an output can hold many thousands of files.
  let next = 0;
  const worker = async () => {
    while (next < files.length)
      await flush(files[next++], constants.O_RDONLY | constants.O_NOFOLLOW);
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, files.length) }, worker));
  // Parents were listed before their children: the reverse is deepest first.
  for (const directory of directories.reverse()) {
    await flush(directory, constants.O_RDONLY | constants.O_DIRECTORY);
  }
}

async function flush(path: string, flags: number): Promise<void> {
  const handle = await open(path, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
