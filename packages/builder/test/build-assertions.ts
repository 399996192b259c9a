/** Assertions shared by the builder's tests. */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { KilnError } from "@kiln/formats/kiln-error";
import type { LocalStore } from "@kiln/store/local-store";
import type { BuildResult } from "../src/build-options.ts";

/** Nothing of `path` in `store`: not valid, no files, no temporary copy beside it. */
export function assertAbsent(store: LocalStore, path: string): void {
  assert.equal(store.isValidPath(path), false, `${path} is not valid`);
  const base = path.slice(store.config.storeDir.length + 1);
  const left = readdirSync(store.config.realStoreDir).filter((name) => name.startsWith(base));
  assert.deepEqual(left, [], `nothing of ${path} is left in the store`);
}

/** The build failed with a Kiln error of `code` whose message matches `pattern`. */
export function assertFailedWith(result: BuildResult, code: string, pattern: RegExp): void {
  assert.equal(result.status, "failed", `${result.drvPath}: ${result.status}`);
  assert.ok(result.error instanceof KilnError);
  assert.equal(result.error.code, code, result.error.message);
  assert.match(result.error.message, pattern);
}
