/** The check before lowering into a store: the bootstrap seeds every derivation refers to are there. */
import { type Bootstrap, bootstrapFor } from "./bootstrap-seeds.ts";
import type { LoweringStore } from "./lowering-context.ts";
import { PackageError } from "./package-error.ts";

/**
 * The store's bootstrap, or an error with the hint `kiln bootstrap import` when the seeds
 * were never imported into it (a store refuses a `.drv` whose references are not valid).
 * @example const bootstrap = await requireBootstrap(store)
 */
export async function requireBootstrap(
  store: Pick<LoweringStore, "isValidPath" | "config">,
): Promise<Bootstrap> {
  const bootstrap = bootstrapFor(store.config.storeDir);
  if (!(await store.isValidPath(bootstrap.busybox)))
    throw new PackageError(`the bootstrap seeds are not in the store (${bootstrap.busybox})`, {
      hint: "run: kiln bootstrap import",
    });
  return bootstrap;
}
