/**
 * Loading a channel directory: a `channel.json` manifest naming the channel and its
 * TypeScript package modules; every exported package value of a module is a package of
 * the channel (packages a module only uses as inputs need not be exported).
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { isPackage, type Package } from "./package.ts";
import { PackageError } from "./package-error.ts";

export interface ChannelManifest {
  readonly name: string;
  /** Module paths relative to the channel directory. */
  readonly modules: readonly string[];
}

export interface Channel {
  readonly name: string;
  readonly dir: string;
  /** The packages in module order, then export order; each object once. */
  readonly packages: readonly Package[];
  /** Package → `module.ts` (relative to the channel directory), for show and lint. */
  readonly locations: ReadonlyMap<Package, string>;
}

/** Reads and checks `channel.json`. */
export function readChannelManifest(dir: string): ChannelManifest {
  const file = join(dir, "channel.json");
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(file, "utf8"));
  } catch (cause) {
    throw new PackageError(`cannot read the channel manifest ${file}`, { cause });
  }
  const { name, modules } = (manifest ?? {}) as Record<string, unknown>;
  if (
    typeof name !== "string" ||
    !Array.isArray(modules) ||
    !modules.every((m) => typeof m === "string")
  )
    throw new PackageError(`${file}: needs "name" (a string) and "modules" (strings)`);
  return { name, modules };
}

/**
 * Imports a channel's modules and collects their packages.
 * @example const { packages } = await loadChannel("channels/sample")
 */
export async function loadChannel(dir: string): Promise<Channel> {
  const absolute = resolve(dir);
  const manifest = readChannelManifest(absolute);
  const packages: Package[] = [];
  const locations = new Map<Package, string>();
  for (const module of manifest.modules) {
    let exports: Record<string, unknown>;
    try {
      exports = await import(pathToFileURL(join(absolute, module)).href);
    } catch (cause) {
      throw new PackageError(`channel ${manifest.name}: module ${module} failed to load`, {
        cause,
        hint: cause instanceof Error ? cause.message : undefined,
      });
    }
    for (const value of Object.values(exports)) {
      if (isPackage(value) && !locations.has(value)) {
        packages.push(value);
        locations.set(value, module);
      }
    }
  }
  return { name: manifest.name, dir: absolute, packages, locations };
}
