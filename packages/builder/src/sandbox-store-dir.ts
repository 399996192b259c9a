/**
 * What the sandbox's store directory holds before its build starts: the mount points of
 * the inputs that are bound read-only (bwrap reuses an existing empty file or directory
 * as a mount point), and copies of small file inputs.
 *
 * Why copies: every bound input costs bwrap two mount calls, a read of the whole mount
 * table, and the namespace teardown one more mount to undo; a chain of builds whose
 * closures grow (each output a small file referring to the one before) spent most of its
 * time there. Nix hard-links file inputs instead; Kiln copies them, and only when the
 * daemon runs as root, because only then can the copy belong to someone the build is not:
 * it is owned by `nobody` (65534, not mapped in the build's user namespace), read-only
 * (0444 or 0555, as in the store), so the build can read it but neither write it, chmod
 * it, nor hard-link it into an output (canonicalisation refuses files owned by others).
 * It can only unlink or rename it in its writable store directory, which changes nothing
 * in the store. A copy kept for the next build is checked first: same inode, same change
 * time (any write, chmod, chown or link changes it), one link.
 */
import {
  chmodSync,
  constants,
  copyFileSync,
  lchownSync,
  lstatSync,
  lutimesSync,
  readdirSync,
} from "node:fs";
import { join } from "node:path";
import { removeTree } from "./remove-tree.ts";

/** One entry of the sandbox's store directory, by the input's base name. */
export type SandboxStoreEntry =
  | { readonly kind: "directory" | "file" }
  | { readonly kind: "copy"; readonly ino: bigint; readonly ctimeNs: bigint };

/** What an input needs there: a mount point, or a copy of the file at `realPath`. */
export type WantedStoreEntry =
  | { readonly kind: "directory" | "file" }
  | { readonly kind: "copy"; readonly realPath: string; readonly mode: number };

/** The owner of input copies: nobody, which is mapped in no build's user namespace. */
export const COPY_OWNER = 65534;

/** File inputs up to this size are copied (when copying is allowed); larger ones are bound. */
export const COPY_MAX_BYTES = 256 << 10;

/**
 * Makes `hostStoreDir` hold exactly the entries `wanted` needs before bwrap runs: keeps
 * those left by the previous build (`previous`) that are still wanted and intact, removes
 * the rest, and makes the missing copies. Returns what it holds now.
 *
 * With `keepUnwanted`, for a sandbox whose builder starts later (when more inputs are
 * known), entries of `previous` that are not wanted yet stay where they are, so that
 * copies may still serve; the call made before the builder starts, with every input,
 * removes what is still not wanted. (Nothing runs in the sandbox in between.)
 *
 * @example
 * const state = prepareSandboxStoreDir(layout.hostStoreDir, wanted, options.reuseScratch);
 */
export function prepareSandboxStoreDir(
  hostStoreDir: string,
  wanted: ReadonlyMap<string, WantedStoreEntry>,
  previous: ReadonlyMap<string, SandboxStoreEntry> | undefined,
  options: { keepUnwanted?: boolean } = {},
): Map<string, SandboxStoreEntry> {
  const state = new Map<string, SandboxStoreEntry>();
  if (previous !== undefined) {
    // The build may have changed the directory's mode (it owned it while it ran).
    chmodSync(hostStoreDir, 0o755);
    for (const entry of readdirSync(hostStoreDir, { withFileTypes: true })) {
      const path = join(hostStoreDir, entry.name);
      const before = previous.get(entry.name);
      const want = wanted.get(entry.name);
      if (want === undefined && before !== undefined && options.keepUnwanted) {
        state.set(entry.name, before);
        continue;
      }
      const kept = keptEntry(path, entry, before, want);
      if (kept === undefined) removeTree(path);
      else state.set(entry.name, kept);
    }
  }
  for (const [name, want] of wanted) {
    if (state.has(name)) continue;
    if (want.kind === "copy") state.set(name, makeCopy(want, join(hostStoreDir, name)));
    else state.set(name, { kind: want.kind });
  }
  return state;
}

/**
 * After the build, once its outputs are taken: removes whatever the build left in
 * `hostStoreDir` under names `state` does not know (outputs not taken, anything else).
 * What remains is checked again by prepareSandboxStoreDir before it is used.
 */
export function cleanSandboxStoreDir(
  hostStoreDir: string,
  state: ReadonlyMap<string, SandboxStoreEntry>,
): void {
  chmodSync(hostStoreDir, 0o755);
  for (const entry of readdirSync(hostStoreDir, { withFileTypes: true })) {
    const known = state.get(entry.name);
    const plausible =
      (known?.kind === "directory" && entry.isDirectory()) ||
      ((known?.kind === "file" || known?.kind === "copy") && entry.isFile());
    if (!plausible) removeTree(join(hostStoreDir, entry.name));
  }
}

function keptEntry(
  path: string,
  entry: { isDirectory(): boolean; isFile(): boolean },
  before: SandboxStoreEntry | undefined,
  want: WantedStoreEntry | undefined,
): SandboxStoreEntry | undefined {
  if (before === undefined || want === undefined || before.kind !== want.kind) return undefined;
  if (before.kind !== "copy") {
    const fits = before.kind === "directory" ? entry.isDirectory() : entry.isFile();
    return fits ? before : undefined;
  }
  const stat = lstatSync(path, { bigint: true });
  const intact =
    stat.isFile() &&
    stat.ino === before.ino &&
    stat.ctimeNs === before.ctimeNs &&
    stat.nlink === 1n &&
    stat.uid === BigInt(COPY_OWNER);
  return intact ? before : undefined;
}

function makeCopy(
  want: { realPath: string; mode: number },
  path: string,
): { kind: "copy"; ino: bigint; ctimeNs: bigint } {
  copyFileSync(want.realPath, path, constants.COPYFILE_EXCL);
  // chown first: it would clear set-id bits, and the chmod sets the final mode.
  lchownSync(path, COPY_OWNER, COPY_OWNER);
  chmodSync(path, (want.mode & 0o111) !== 0 ? 0o555 : 0o444);
  lutimesSync(path, 1, 1);
  const stat = lstatSync(path, { bigint: true });
  return { kind: "copy", ino: stat.ino, ctimeNs: stat.ctimeNs };
}
