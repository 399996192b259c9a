/**
 * Lowering into a daemon's store, as `guix build` does with guix-daemon: the client
 * lowers, and sends each local source with AddToStore and each `.drv` (and other text)
 * with AddTextToStore as it is made — that is, dependencies first.
 */
import type { DaemonClient } from "@kiln/daemon/daemon-client";
import type { LoweringStore } from "@kiln/packages/lowering-context";

/**
 * A LoweringStore over a daemon connection for the store directory `storeDir`.
 * @example await resolveBuildTargets(["hello"], { store: daemonStoreWriter(client, "/gnu/store"), … })
 */
export function daemonStoreWriter(client: DaemonClient, storeDir: string): LoweringStore {
  return {
    config: { storeDir },
    isValidPath: (path) => client.isValidPath(path),
    addTextToStore: (name, text, references) => client.addTextToStore(name, text, references),
    addToStore: async (source, options) =>
      (await client.addToStore(source, { name: options.name })).path,
  };
}
