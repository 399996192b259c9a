/**
 * `catNar`: the contents of one regular file inside an archive, like `nix nar cat`.
 */
import { KilnError } from "./kiln-error.ts";
import { normalizeNarPath } from "./nar-path.ts";
import { parseNar } from "./nar-reader.ts";

/**
 * Streams the contents of the regular file at `path` (`/bin/sh` or `bin/sh`; `""` for an
 * archive that is a single file). The archive is parsed up to that file and no further.
 * Throws ERR_NAR_PATH_NOT_FOUND when no entry has that path, ERR_NAR_NOT_REGULAR when it is
 * a directory or symlink (symlinks are not followed), and a FormatError when the archive is
 * malformed before the file ends.
 *
 * @example
 * for await (const chunk of catNar(Readable.from(bytes), "/bin/hello")) process.stdout.write(chunk);
 */
export async function* catNar(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  path: string,
): AsyncGenerator<Uint8Array, void, void> {
  const wanted = normalizeNarPath(path);
  for await (const event of parseNar(source)) {
    if (event.path !== wanted) continue;
    if (event.type !== "regular") {
      throw new KilnError(
        "ERR_NAR_NOT_REGULAR",
        `${JSON.stringify(wanted)} in the archive is a ${event.type}, not a regular file`,
      );
    }
    yield* event.contents;
    return;
  }
  throw new KilnError(
    "ERR_NAR_PATH_NOT_FOUND",
    `no entry ${JSON.stringify(wanted)} in the archive`,
  );
}
