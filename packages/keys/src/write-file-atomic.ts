/**
 * Writes a file so that readers see either the old contents or the new, never a part:
 * the bytes go to a temporary name in the same directory, are flushed, and the name is
 * renamed over the target (rename is atomic within one file system).
 */
import { randomBytes } from "node:crypto";
import {
  closeSync,
  fchmodSync,
  fsyncSync,
  linkSync,
  openSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";

export interface WriteFileAtomicOptions {
  /** Permission bits of the new file (default 0o644). */
  readonly mode?: number;
  /**
   * Refuse (EEXIST) when the target exists, instead of replacing it. Done with link(2),
   * which, unlike rename, never replaces an existing name, so two writers cannot both win.
   */
  readonly exclusive?: boolean;
}

/**
 * Writes `data` to `file` atomically, with `mode` set from the first byte (the secret key
 * is never readable by others, even for an instant).
 * @example writeFileAtomic("/etc/kiln/acl", text, { mode: 0o644 })
 */
export function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  options: WriteFileAtomicOptions = {},
): void {
  const temporary = join(dirname(file), `.${basename(file)}.tmp-${randomBytes(6).toString("hex")}`);
  const mode = options.mode ?? 0o644;
  const fd = openSync(temporary, "wx", mode);
  try {
    try {
      // The umask may have removed bits (a 0644 ACL must stay world-readable).
      fchmodSync(fd, mode);
      writeSync(fd, typeof data === "string" ? Buffer.from(data, "utf8") : data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (options.exclusive) linkSync(temporary, file);
    else renameSync(temporary, file);
  } finally {
    try {
      unlinkSync(temporary);
    } catch {
      // Already renamed into place.
    }
  }
}
