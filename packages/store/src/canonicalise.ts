/**
 * Resets the metadata of a build output before it enters the store, so that nothing
 * but the NAR-visible content (file type, contents, the executable bit, symlink
 * targets) survives the build: timestamps become 1 s after the epoch, permissions
 * become read-only, and setuid, setgid and sticky bits are dropped.
 *
 * Call it only after every process of the build is dead (runInSandbox guarantees this),
 * otherwise a build could swap a file between the lstat and the chmod.
 *
 * ACLs and extended attributes: Node has no xattr calls, so they are not removed. What
 * limits them: chmod rewrites the ACL mask from the group bits, so named ACL entries can
 * grant at most read and execute; chown of a non-directory (done for every file when
 * `owner` is given) makes the kernel drop `security.capability`, so no file capabilities
 * survive. Named ACL entries and other xattrs (`user.*`) do remain on disk; they are not
 * part of the NAR, so they never travel to other machines.
 */
import { chmodSync, lchownSync, lstatSync, lutimesSync, readdirSync, type Stats } from "node:fs";
import { join } from "node:path";
import { KilnError } from "@kiln/formats/kiln-error";

export interface CanonicaliseOptions {
  /** New owner of every entry. Pass it only when running as root (lchown needs it). */
  owner?: { uid: number; gid: number };
  /**
   * The uid the build ran as. When given, an entry owned by anyone else (other than
   * `owner`) is refused: the build may have hard-linked a file it does not own into its
   * output, and chmod/chown would then change that file.
   */
  buildUid?: number;
}

const EPOCH_PLUS_ONE = 1; // seconds; Nix and Guix use 1 rather than 0 (0 means "unset" to some tools)

/**
 * Canonicalises `hostPath` and everything below it, never following symlinks.
 * Throws KilnError `ERR_UNSUPPORTED_FILE_TYPE` naming the first entry that is not a
 * regular file, a directory or a symlink (fifos, sockets, devices).
 *
 * @example
 * canonicalisePathMetadata("/var/kiln/builds/42/build/store/abc…-hello", { owner: { uid: 0, gid: 0 } });
 */
export function canonicalisePathMetadata(
  hostPath: string,
  options: CanonicaliseOptions = {},
): void {
  // An explicit stack rather than recursion: build outputs can be arbitrarily deep.
  const pending = [hostPath];
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    const stat = lstatSync(path);
    checkOwnership(path, stat, options);
    if (stat.isSymbolicLink()) {
      if (options.owner !== undefined) lchownIfNeeded(path, stat, options.owner, false);
    } else if (stat.isFile() || stat.isDirectory()) {
      // chown before chmod: chown clears setuid/setgid, and the chmod sets the final mode.
      if (options.owner !== undefined) lchownIfNeeded(path, stat, options.owner, stat.isFile());
      const mode = stat.isDirectory() || (stat.mode & 0o111) !== 0 ? 0o555 : 0o444;
      if ((stat.mode & 0o7777) !== mode) chmodSync(path, mode);
      // Directories are made readable first (above), so that a build that left a
      // 0000 directory cannot stop the walk when not running as root.
      if (stat.isDirectory()) {
        for (const name of readdirSync(path)) pending.push(join(path, name));
      }
    } else {
      throw new KilnError(
        "ERR_UNSUPPORTED_FILE_TYPE",
        `${path} is a ${describeType(stat)}; build outputs may only hold regular files, directories and symlinks`,
      );
    }
    if (stat.mtimeMs !== EPOCH_PLUS_ONE * 1000 || stat.atimeMs !== EPOCH_PLUS_ONE * 1000) {
      lutimesSync(path, EPOCH_PLUS_ONE, EPOCH_PLUS_ONE);
    }
  }
}

function checkOwnership(path: string, stat: Stats, options: CanonicaliseOptions): void {
  const { buildUid, owner } = options;
  if (buildUid === undefined || stat.uid === buildUid) return;
  if (owner !== undefined && stat.uid === owner.uid) return;
  throw new KilnError(
    "ERR_INVALID_OWNERSHIP",
    `${path} is owned by uid ${stat.uid}, not by the build user ${buildUid}`,
  );
}

function lchownIfNeeded(
  path: string,
  stat: Stats,
  owner: { uid: number; gid: number },
  always: boolean,
): void {
  // For regular files the chown is done even when the owner is already right: it is
  // what makes the kernel drop file capabilities (security.capability).
  if (always || stat.uid !== owner.uid || stat.gid !== owner.gid) {
    lchownSync(path, owner.uid, owner.gid);
  }
}

function describeType(stat: Stats): string {
  if (stat.isFIFO()) return "fifo";
  if (stat.isSocket()) return "socket";
  if (stat.isCharacterDevice()) return "character device";
  if (stat.isBlockDevice()) return "block device";
  return "file of unknown type";
}
