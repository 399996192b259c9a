import type { LocalStore } from "@kiln/store/local-store";
import type { CliConfig } from "./cli-config.ts";

/** Opens the local store named by the configuration (direct access, as its owner). */
export async function openStore(config: CliConfig): Promise<LocalStore> {
  const { LocalStore } = await import("@kiln/store/local-store");
  return LocalStore.open({
    storeDir: config.storeDir,
    realStoreDir: config.realStoreDir,
    stateDir: config.stateDir,
  });
}

/** Runs `body` with the store open, closing it afterwards. */
export async function withStore<T>(
  config: CliConfig,
  body: (store: LocalStore) => Promise<T> | T,
): Promise<T> {
  const store = await openStore(config);
  try {
    return await body(store);
  } finally {
    store.close();
  }
}
