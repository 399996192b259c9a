/**
 * Flushes many files of one file system to disk before they are registered: one syncfs(2)
 * (through `sync -f`) when there are many, otherwise one fsync(2) each, a few at a time on
 * the thread pool. Used for batches of small files (the `.drv` texts of a channel), where
 * flushing file by file would cost one disk round trip each.
 */
import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { open } from "node:fs/promises";
import { promisify } from "node:util";

/** Above this many files, one syncfs is cheaper than fsyncing each (by default). */
const SYNCFS_ABOVE = 16;
const PARALLEL = 8;
const execFileAsync = promisify(execFile);

/**
 * Resolves once every file in `files` (all on the file system of `directory`) is on disk.
 * Says how: `syncfs` (the whole file system, directories included) or `each` (the files
 * only). `syncfsAbove` is the number of files above which one syncfs is used.
 * @example await flushFiles("/gnu/store", ["/gnu/store/…-a.drv.kiln-new-0a1b2c3d4e5f"])
 */
export async function flushFiles(
  directory: string,
  files: readonly string[],
  options: { syncfsAbove?: number } = {},
): Promise<"syncfs" | "each"> {
  if (files.length > (options.syncfsAbove ?? SYNCFS_ABOVE)) {
    try {
      await execFileAsync("sync", ["-f", directory]);
      return "syncfs";
    } catch {
      // No coreutils sync (or no syncfs): flush each file.
    }
  }
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const handle = await open(files[next++] as string, constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, files.length) }, worker));
  return "each";
}
