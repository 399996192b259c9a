/**
 * Reading a `.drv` from the store for the builder, with errors that say what is wrong
 * with the request rather than with the store.
 */
import type { Derivation } from "@kiln/formats/derivation";
import { KilnError } from "@kiln/formats/kiln-error";
import { isStorePath } from "@kiln/formats/store-path";
import type { BuildStore } from "./build-options.ts";
import { BuilderError } from "./builder-error.ts";

/**
 * The derivation at `drvPath`, which must be a valid `.drv` store path. Throws
 * BuilderError `ERR_BAD_DERIVATION` (not a `.drv` store path, or malformed, with the
 * parser's reason) or `ERR_MISSING_INPUT` (not in the store).
 *
 * @example
 * readStoreDerivation(store, "/gnu/store/…-hello-2.12.drv").outputs.get("out")?.path
 */
export function readStoreDerivation(
  store: Pick<BuildStore, "config" | "db" | "readDerivation">,
  drvPath: string,
): Derivation {
  const { storeDir } = store.config;
  if (!drvPath.endsWith(".drv") || !isStorePath(drvPath, storeDir)) {
    throw new BuilderError(
      "ERR_BAD_DERIVATION",
      `${drvPath} is not a derivation in ${storeDir} (a store path ending in .drv)`,
    );
  }
  if (!store.db.isValidPath(drvPath)) {
    throw new BuilderError("ERR_MISSING_INPUT", `derivation ${drvPath} is not in the store`, {
      hint: "add it to the store first (or build the .drv file rather than its store path)",
    });
  }
  try {
    return store.readDerivation(drvPath);
  } catch (error) {
    const reason =
      error instanceof KilnError || error instanceof Error ? error.message : String(error);
    throw new BuilderError("ERR_BAD_DERIVATION", `cannot read ${drvPath}: ${reason}`, {
      cause: error,
    });
  }
}
