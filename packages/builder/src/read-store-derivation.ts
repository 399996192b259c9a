/**
 * Reading a `.drv` from the store, for the builder. (LocalStore will offer
 * `readDerivation`; until then this reads the file at its real path.)
 */
import { readFileSync } from "node:fs";
import type { Derivation } from "@kiln/formats/derivation";
import { KilnError } from "@kiln/formats/kiln-error";
import { parseDerivation } from "@kiln/formats/parse-derivation";
import { isStorePath } from "@kiln/formats/store-path";
import { realPathOf } from "@kiln/store/store-config";
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
  store: Pick<BuildStore, "config" | "db">,
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
  let text: Buffer;
  try {
    text = readFileSync(realPathOf(store.config, drvPath));
  } catch (error) {
    throw new BuilderError(
      "ERR_MISSING_INPUT",
      `derivation ${drvPath} is valid but cannot be read: ${(error as Error).message}`,
      { cause: error, hint: "run kiln store verify --check-contents --repair" },
    );
  }
  try {
    return parseDerivation(text);
  } catch (error) {
    const reason = error instanceof KilnError ? error.message : String(error);
    throw new BuilderError("ERR_BAD_DERIVATION", `${drvPath} is malformed: ${reason}`, {
      cause: error,
    });
  }
}
