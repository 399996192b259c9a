/**
 * Package names for `kiln package`: `-i NAME[@VERSION][:OUTPUT]` and `-u [REGEXP]` are
 * turned into `DRV.drv:OUTPUT` specs (which @kiln/profiles knows how to install) from the
 * current channels, each with the package's own name and version for the manifest.
 * Anything else given to `-i` (store paths, `.drv` files) passes through unchanged. The
 * store is a local one or a daemon's (daemonStoreWriter): lowering happens here.
 */
import type { LoweringStore } from "@kiln/packages/lowering-context";
import type { Package } from "@kiln/packages/package";
import type { ManifestEntry } from "@kiln/profiles/profile-manifest";
import type { Command } from "commander";
import { currentChannelDirs } from "./current-channels.ts";
import { UsageError } from "./usage-error.ts";

export interface WantedItem {
  /** What resolvePackageSpecs installs: `DRV.drv:OUTPUT`, a store path or a `.drv`. */
  readonly spec: string;
  /** For a package of the channels: the name and version to record. */
  readonly package?: { readonly name: string; readonly version: string };
}

/** True for `hello`, `hello@2.10`, `hello:doc`; false for paths and `.drv` files. */
function isPackageName(spec: string): boolean {
  return !spec.includes("/") && !/\.drv(:[^:]*)?$/.test(spec);
}

async function lower(store: LoweringStore, packages: readonly Package[]) {
  const { channelDerivations } = await import("@kiln/packages/channel-derivations");
  const { hostSystem } = await import("@kiln/builder/host-system");
  return channelDerivations(packages, { store, system: hostSystem() });
}

/**
 * `-i` arguments: names of the current channels' packages become `DRV.drv:OUTPUT`
 * (output `out` unless named); they come first, in order, then the other items.
 * @example await packageInstallSpecs(command, store, ["hello@2.10", "/gnu/store/…-x"])
 */
export async function packageInstallSpecs(
  command: Command,
  store: LoweringStore,
  specs: readonly string[],
): Promise<WantedItem[]> {
  const names = specs.filter(isPackageName);
  if (names.length === 0) return specs.map((spec) => ({ spec }));
  const { findPackage } = await import("@kiln/packages/find-package");
  const { loadChannels } = await import("@kiln/packages/load-channels");
  const { packages } = await loadChannels(await currentChannelDirs(command));
  const chosen = names.map((spec) => {
    const colon = spec.lastIndexOf(":");
    const output = colon < 0 ? "out" : spec.slice(colon + 1);
    if (output === "") throw new UsageError(`${spec}: empty output name`);
    return { pkg: findPackage(packages, colon < 0 ? spec : spec.slice(0, colon)), output };
  });
  const lowered = await lower(
    store,
    chosen.map((c) => c.pkg),
  );
  const wanted: WantedItem[] = chosen.map(({ pkg, output }, index) => {
    const { drvPath, outputs } = lowered[index]!;
    if (outputs[output] === undefined)
      throw new UsageError(
        `package ${pkg.name}@${pkg.version} has no output ${JSON.stringify(output)}`,
        `its outputs: ${Object.keys(outputs).join(", ")}`,
      );
    return { spec: `${drvPath}:${output}`, package: { name: pkg.name, version: pkg.version } };
  });
  return [...wanted, ...specs.filter((spec) => !isPackageName(spec)).map((spec) => ({ spec }))];
}

/**
 * `-u [REGEXP]`: every installed entry whose name matches and that the current channels
 * have in a version at least as new, with a different output path (a newer version, or
 * the same version built differently), as Guix upgrades. Entries the channels do not
 * have are kept as they are; nothing is ever downgraded.
 * @example await packageUpgradeSpecs(command, store, manifest.entries, { pattern: "^hello$", addRoot })
 */
export async function packageUpgradeSpecs(
  command: Command,
  store: LoweringStore,
  installed: readonly ManifestEntry[],
  options: { pattern: string; addRoot: (path: string) => Promise<void> },
): Promise<WantedItem[]> {
  let pattern: RegExp;
  try {
    pattern = new RegExp(options.pattern);
  } catch {
    throw new UsageError(`'${options.pattern}' is not a valid regular expression`);
  }
  const { compareVersions, findPackage } = await import("@kiln/packages/find-package");
  const { loadChannels } = await import("@kiln/packages/load-channels");
  const { packages } = await loadChannels(await currentChannelDirs(command));
  const candidates = installed.flatMap((entry) => {
    if (!pattern.test(entry.name) || !packages.some((pkg) => pkg.name === entry.name)) return [];
    const pkg = findPackage(packages, entry.name);
    return compareVersions(pkg.version, entry.version) < 0 ? [] : [{ entry, pkg }];
  });
  if (candidates.length === 0) return [];
  const lowered = await lower(
    store,
    candidates.map((c) => c.pkg),
  );
  const wanted: WantedItem[] = [];
  for (const [index, { entry, pkg }] of candidates.entries()) {
    const { drvPath, outputs } = lowered[index]!;
    const path = outputs[entry.output];
    if (path === undefined || path === entry.item) continue;
    await options.addRoot(drvPath);
    process.stderr.write(`upgrading ${entry.name} ${entry.version} → ${pkg.version}\n`);
    wanted.push({
      spec: `${drvPath}:${entry.output}`,
      package: { name: pkg.name, version: pkg.version },
    });
  }
  return wanted;
}
