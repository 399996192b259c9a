/**
 * `restoreNar`: unpacks an archive into a new path, atomically and without ever writing
 * outside it.
 *
 * The archive is unpacked into a fresh sibling (`<target>.tmp-<random>`) that is renamed to
 * `target` only once the whole archive has been read and validated, and removed on any
 * failure, so a reader never sees a half-restored tree and a bad archive leaves nothing
 * behind. Inside it, files are created with O_EXCL|O_NOFOLLOW and directories with mkdir,
 * and every entry must sit in a directory this restore created: the parser already rejects
 * `..`, `/` and duplicate names, and these checks keep a symlink from the archive from ever
 * being followed even if it did not.
 */
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fdatasync,
  futimesSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeSync,
} from "node:fs";
import { KilnError } from "./kiln-error.ts";
import { type NarEvent, parseNar } from "./nar-reader.ts";

const CREATE_FLAGS =
  constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const SLASH = 0x2f;

export interface RestoreOptions {
  /**
   * Start writing a big file back to disk every this many bytes (an fdatasync(2) on the
   * thread pool while the restore goes on), so that the flush a store does before
   * registering the path finds little left to write. Off by default: only worth it when
   * the tree will be flushed.
   */
  readonly writeBackBytes?: number;
  /**
   * Give the tree a store's canonical metadata as it is restored: files 0444 (0555 when
   * executable), directories 0555, every entry's mtime 1 (as Nix and Guix store them).
   * Saves a store the separate pass that would otherwise fix them (two syscalls per entry).
   */
  readonly canonical?: boolean;
}

/** Files written 0444/0555 keep that mode through this umask without an fchmod. */
const UMASK = process.umask();

/**
 * Restores the archive read from `source` at `target`, which must not exist (its parent
 * must). Files get mode 0755 when executable and 0644 otherwise, directories 0755 (less the
 * umask). Throws a FormatError for a malformed archive, ERR_NAR_TARGET_EXISTS when `target`
 * exists, ERR_NAR_UNSAFE_PATH if an entry would land outside what was restored so far.
 *
 * @example
 * await restoreNar(process.stdin, "/tmp/out");
 */
export async function restoreNar(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  target: string,
  options: RestoreOptions = {},
): Promise<void> {
  await restoreNarEvents(parseNar(source), target, options);
}

/**
 * `restoreNar` for callers that run `parseNar` themselves (e.g. to look at the events on
 * the way). Trusts nothing about the events: paths are checked again as described above.
 */
export async function restoreNarEvents(
  events: AsyncIterable<NarEvent>,
  target: string,
  options: RestoreOptions = {},
): Promise<void> {
  const writeBack = options.writeBackBytes ?? 0;
  const canonical = options.canonical ?? false;
  // Canonical directories are made read-only at the end, deepest first, once filled.
  const madeDirectories: Buffer[] = [];
  assertAbsent(target);
  const temp = Buffer.from(`${target}.tmp-${randomBytes(8).toString("hex")}`);
  // Keys are raw relative paths as latin1 strings (one char per byte, so lossless).
  const directories = new Set<string>();
  const restored = new Set<string>();
  let created = false;
  try {
    for await (const event of events) {
      const key = Buffer.from(event.rawPath).toString("latin1");
      assertInside(key, directories, restored);
      const dest = key === "" ? temp : Buffer.concat([temp, Buffer.from([SLASH]), event.rawPath]);
      if (event.type === "directory") {
        mkdirSync(dest, { mode: 0o755 });
        directories.add(key);
        if (canonical) madeDirectories.push(dest);
      } else if (event.type === "symlink") {
        symlinkSync(Buffer.from(event.rawTarget), dest);
        if (canonical) lutimesSync(dest, 1, 1);
      } else {
        const mode = canonical
          ? event.executable
            ? 0o555
            : 0o444
          : event.executable
            ? 0o755
            : 0o644;
        const fd = openSync(dest, CREATE_FLAGS, mode);
        created = true;
        // At most one write-back in flight; the fd stays open until it has finished.
        let inFlight: Promise<void> | undefined;
        let failure: Error | undefined;
        let unsynced = 0;
        try {
          for await (const chunk of event.contents) {
            writeAll(fd, chunk);
            unsynced += chunk.length;
            if (writeBack > 0 && unsynced >= writeBack && inFlight === undefined) {
              unsynced = 0;
              inFlight = new Promise<void>((resolve) =>
                fdatasync(fd, (error) => {
                  if (error) failure = error;
                  inFlight = undefined;
                  resolve();
                }),
              );
            }
          }
          // Exactly the mode asked for, whatever the umask.
          if ((mode & ~UMASK) !== mode || !canonical) fchmodSync(fd, mode);
          if (canonical) futimesSync(fd, 1, 1);
        } finally {
          await inFlight;
          closeSync(fd);
        }
        if (failure) throw failure;
      }
      created = true;
      restored.add(key);
    }
    for (const directory of madeDirectories.reverse()) {
      chmodSync(directory, 0o555);
      lutimesSync(directory, 1, 1);
    }
    assertAbsent(target);
    renameSync(temp, target);
  } catch (error) {
    // Only remove what this restore made: the random name is ours once anything exists.
    if (created) {
      for (const directory of madeDirectories) {
        try {
          chmodSync(directory, 0o755);
        } catch {
          // Not made yet, or already gone: rmSync copes.
        }
      }
      rmSync(temp, { recursive: true, force: true });
    }
    throw error;
  }
}

function assertAbsent(target: string): void {
  let exists = true;
  try {
    lstatSync(target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    exists = false;
  }
  if (exists) {
    throw new KilnError("ERR_NAR_TARGET_EXISTS", `cannot restore to ${target}: it exists`, {
      hint: "restore into a path that does not exist yet",
    });
  }
}

/** The entry must be new, and its parent a directory this restore made (never a symlink). */
function assertInside(key: string, directories: Set<string>, restored: Set<string>): void {
  const slash = key.lastIndexOf("/");
  const parent = slash < 0 ? "" : key.slice(0, slash);
  const name = key.slice(slash + 1);
  const fresh = !restored.has(key) && (key === "" ? restored.size === 0 : directories.has(parent));
  if (
    !fresh ||
    (key !== "" && (name === "" || name === "." || name === ".." || name.includes("\0")))
  ) {
    throw new KilnError(
      "ERR_NAR_UNSAFE_PATH",
      `refusing to restore ${JSON.stringify(key)}: not a new entry of a restored directory`,
    );
  }
}

function writeAll(fd: number, chunk: Uint8Array): void {
  let written = 0;
  while (written < chunk.length) written += writeSync(fd, chunk, written);
}
