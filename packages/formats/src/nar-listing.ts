/**
 * `listNar`: the entries of an archive without restoring it, like `nix nar ls -R`.
 */
import { KilnError } from "./kiln-error.ts";
import { isNarPathWithin, normalizeNarPath } from "./nar-path.ts";
import { parseNar } from "./nar-reader.ts";

/** One entry of a listing; `path` is relative to the archive root (the root is `""`). */
export type NarEntry =
  | { readonly type: "directory"; readonly path: string }
  | {
      readonly type: "regular";
      readonly path: string;
      readonly size: number;
      readonly executable: boolean;
      /** Offset of the contents in the archive. */
      readonly narOffset: number;
    }
  | { readonly type: "symlink"; readonly path: string; readonly target: string };

export interface ListNarOptions {
  /** List only this entry and what lies below it (`/bin`, `bin/sh`; default the root). */
  readonly path?: string;
}

/**
 * Lists the entries of an archive in archive order (each directory before its entries),
 * reading and validating the whole archive. Throws ERR_NAR_PATH_NOT_FOUND when `path` names
 * no entry, and a FormatError when the archive is malformed.
 *
 * @example
 * for (const entry of await listNar(Readable.from(bytes))) console.log(entry.type, entry.path);
 */
export async function listNar(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: ListNarOptions = {},
): Promise<NarEntry[]> {
  const within = normalizeNarPath(options.path ?? "");
  const entries: NarEntry[] = [];
  for await (const event of parseNar(source)) {
    if (!isNarPathWithin(event.path, within)) continue;
    if (event.type === "directory") entries.push({ type: "directory", path: event.path });
    else if (event.type === "symlink") {
      entries.push({ type: "symlink", path: event.path, target: event.target });
    } else {
      const { path, size, executable, narOffset } = event;
      entries.push({ type: "regular", path, size, executable, narOffset });
    }
  }
  if (entries.length === 0) {
    throw new KilnError(
      "ERR_NAR_PATH_NOT_FOUND",
      `no entry ${JSON.stringify(within)} in the archive`,
    );
  }
  return entries;
}
