/**
 * `kiln archive --export`: store paths in the export format that `nix-store --import`
 * and `guix archive --import` read, referenced paths first.
 */
import { type ExportItemSource, writeExportArchive } from "@kiln/formats/export-archive";
import { dumpPath } from "@kiln/formats/nar-writer";
import type { LocalStore } from "./local-store.ts";
import { topoSortPaths } from "./topo-sort-paths.ts";

export interface ExportOptions {
  /** Export the closure of the given paths, not just the paths. */
  readonly recursive?: boolean;
  /** Signs each item (Guix archives carry a signature over the digest given). */
  readonly sign?: (digest: Uint8Array) => string | undefined;
}

export function exportPaths(
  store: LocalStore,
  paths: readonly string[],
  options: ExportOptions = {},
): AsyncIterable<Uint8Array> {
  for (const path of paths) store.requirePathInfo(path);
  const selected = options.recursive ? store.requisites(paths) : [...new Set(paths)];
  const ordered = topoSortPaths(selected, (path) => store.db.references(path));
  function* items(): Generator<ExportItemSource> {
    for (const path of ordered) {
      const info = store.requirePathInfo(path);
      yield {
        nar: dumpPath(store.realPath(path)),
        path,
        references: info.references,
        deriver: info.deriver,
        sign: options.sign,
      };
    }
  }
  return writeExportArchive(items());
}
