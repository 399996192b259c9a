/**
 * The store side of `kiln pull` and `kiln time-machine`: fetch every channel, resolve its
 * commit and add its tree to the store. Making a profile generation of the result is the
 * caller's (the packages layer does not know profiles). Nothing is added unless every
 * channel could be fetched and checked, so a failing pull changes nothing the user sees.
 */
import type { LocalStore } from "@kiln/store/local-store";
import { type ChannelCheckout, updateChannelCheckout } from "./channel-checkout.ts";
import type { GitOptions } from "./channel-git.ts";
import type { ChannelInstance } from "./channel-instance.ts";
import { addChannelItem } from "./channel-item.ts";
import type { ChannelSpec } from "./channel-spec.ts";
import { PackageError } from "./package-error.ts";

export interface PullOptions extends GitOptions {
  readonly checkoutsDir: string;
  /** Channels pulled before (the current generation's): an unchanged one keeps its item. */
  readonly previous?: readonly ChannelInstance[];
  /** Roots a store path for the caller's lifetime before it is used (TempRoots.add). */
  readonly addRoot?: (path: string) => Promise<void>;
  /** Progress lines, as Guix prints them. */
  readonly onProgress?: (message: string) => void;
}

/**
 * @example const instances = await pullChannels(store, specs, { checkoutsDir })
 */
export async function pullChannels(
  store: Pick<LocalStore, "addToStore" | "isValidPath">,
  specs: readonly ChannelSpec[],
  options: PullOptions,
): Promise<ChannelInstance[]> {
  const names = new Set<string>();
  for (const spec of specs) {
    if (names.has(spec.name)) throw new PackageError(`channel ${spec.name} is listed twice`);
    names.add(spec.name);
  }
  const checkouts: ChannelCheckout[] = [];
  for (const spec of specs) {
    options.onProgress?.(`Updating channel '${spec.name}' from Git repository at '${spec.url}'...`);
    checkouts.push(await updateChannelCheckout(spec, options));
  }
  const instances: ChannelInstance[] = [];
  for (const [index, spec] of specs.entries()) {
    const checkout = checkouts[index]!;
    const same = options.previous?.find(
      (old) =>
        old.name === spec.name &&
        old.url === spec.url &&
        old.branch === spec.branch &&
        old.commit === checkout.commit,
    );
    if (same) await options.addRoot?.(same.item);
    if (same && store.isValidPath(same.item)) {
      instances.push(same);
      continue;
    }
    const instance = await addChannelItem(store, { ...options, spec, checkout });
    await options.addRoot?.(instance.item);
    instances.push(instance);
  }
  return instances;
}
