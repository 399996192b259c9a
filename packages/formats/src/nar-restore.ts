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
  closeSync,
  constants,
  fchmodSync,
  lstatSync,
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
): Promise<void> {
  await restoreNarEvents(parseNar(source), target);
}

/**
 * `restoreNar` for callers that run `parseNar` themselves (e.g. to look at the events on
 * the way). Trusts nothing about the events: paths are checked again as described above.
 */
export async function restoreNarEvents(
  events: AsyncIterable<NarEvent>,
  target: string,
): Promise<void> {
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
      } else if (event.type === "symlink") {
        symlinkSync(Buffer.from(event.rawTarget), dest);
      } else {
        const mode = event.executable ? 0o755 : 0o644;
        const fd = openSync(dest, CREATE_FLAGS, mode);
        created = true;
        try {
          for await (const chunk of event.contents) writeAll(fd, chunk);
          fchmodSync(fd, mode); // exactly 0755/0644, whatever the umask
        } finally {
          closeSync(fd);
        }
      }
      created = true;
      restored.add(key);
    }
    assertAbsent(target);
    renameSync(temp, target);
  } catch (error) {
    // Only remove what this restore made: the random name is ours once anything exists.
    if (created) rmSync(temp, { recursive: true, force: true });
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
