/**
 * Lowering chosen packages of the channels into the store, for `kiln package -i NAME` and
 * `-u`: the caller has the Package values (and so their real names and versions); this
 * writes their `.drv` files with everything they depend on.
 */
import { lowerPackage } from "./lower-package.ts";
import {
  createLoweringContext,
  type LoweredPackage,
  type LoweringStore,
} from "./lowering-context.ts";
import type { Package } from "./package.ts";
import { requireBootstrap } from "./require-bootstrap.ts";

/**
 * Lowers `packages` for `system` into the store; one result per package, in order. The
 * bootstrap seeds must have been imported.
 * @example const [{ drvPath, outputs }] = await channelDerivations([hello], { store, system })
 */
export async function channelDerivations(
  packages: readonly Package[],
  options: {
    readonly store: LoweringStore;
    readonly system: string;
  },
): Promise<LoweredPackage[]> {
  const { store, system } = options;
  const bootstrap = await requireBootstrap(store);
  const context = createLoweringContext({
    system,
    storeDir: store.config.storeDir,
    bootstrap,
    store,
  });
  const lowered: LoweredPackage[] = [];
  for (const pkg of packages) lowered.push(await lowerPackage(pkg, context));
  await context.flush();
  return lowered;
}
