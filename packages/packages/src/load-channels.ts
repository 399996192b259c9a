/**
 * Loading several channels as one package collection (`kiln pull` may give several): the
 * packages of each, in order. Channels may live in the store, so the module hook that
 * resolves `@kiln/packages` is installed first.
 */
import { registerChannelModuleHooks } from "./channel-module-hooks.ts";
import { type Channel, loadChannel } from "./load-channel.ts";
import type { Package } from "./package.ts";

export interface ChannelCollection {
  readonly channels: readonly Channel[];
  /** Every channel's packages, channel after channel. */
  readonly packages: readonly Package[];
  /** Package → module; prefixed with `CHANNEL:` when there are several channels. */
  readonly locations: ReadonlyMap<Package, string>;
}

/**
 * @example const { packages } = await loadChannels(["/gnu/store/…-kiln-channel-sample-0123456/channels/sample"])
 */
export async function loadChannels(dirs: readonly string[]): Promise<ChannelCollection> {
  registerChannelModuleHooks();
  const channels: Channel[] = [];
  for (const dir of dirs) channels.push(await loadChannel(dir));
  const packages: Package[] = [];
  const locations = new Map<Package, string>();
  for (const channel of channels) {
    for (const pkg of channel.packages) {
      if (locations.has(pkg)) continue;
      packages.push(pkg);
      const module = channel.locations.get(pkg) ?? "";
      locations.set(pkg, channels.length > 1 ? `${channel.name}:${module}` : module);
    }
  }
  return { channels, packages, locations };
}
