/** Lowering every package of a channel that supports the system, sharing one context. */
import type { Channel } from "./load-channel.ts";
import { lowerPackage } from "./lower-package.ts";
import {
  createLoweringContext,
  type LoweredPackage,
  type LowerOptions,
} from "./lowering-context.ts";
import { type Package, packageFullName } from "./package.ts";

/**
 * Lowers the channel's packages (each package's dependencies are written before it, by
 * lowerPackage); the map keeps the channel's order.
 * Packages that do not support `options.system` are left out, as Guix does.
 * @example for (const [pkg, { drvPath }] of await lowerChannel(channel, options)) console.log(drvPath)
 */
export async function lowerChannel(
  channel: Pick<Channel, "packages">,
  options: LowerOptions & { readonly concurrency?: number },
): Promise<Map<Package, LoweredPackage>> {
  const context = createLoweringContext(options);
  const packages = channel.packages.filter(
    (pkg) => !pkg.supportedSystems || pkg.supportedSystems.includes(options.system),
  );
  // Several packages at once: writing a `.drv` waits for the disk, and independent
  // packages need not wait for each other. Shared dependencies are lowered once (cache).
  const lowered = new Array<LoweredPackage>(packages.length);
  let next = 0;
  const worker = async () => {
    while (next < packages.length) {
      const index = next++;
      lowered[index] = await lowerPackage(packages[index]!, context);
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(options.concurrency ?? 16, packages.length) }, worker),
  );
  await context.flush();
  const result = new Map<Package, LoweredPackage>();
  for (const [index, pkg] of packages.entries()) result.set(pkg, lowered[index]!);
  return result;
}

/** `name-version` → `.drv` path, the form the determinism checks compare. */
export function drvPathsByName(
  lowered: ReadonlyMap<Package, LoweredPackage>,
): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [pkg, { drvPath }] of lowered) result[packageFullName(pkg)] = drvPath;
  return result;
}
