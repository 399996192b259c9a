/**
 * Resolving `@kiln/packages` for channel modules wherever they are. A channel in the
 * store has no `node_modules` beside it, so Node could not find the package API its
 * modules import; this resolve hook maps `@kiln/packages` (and its subpaths) to the
 * running Kiln's own package, whatever the importing file. Every channel therefore
 * evaluates against the API of the Kiln that loads it — a channel cannot bring its own
 * copy — and nothing else about resolution changes.
 */
import { registerHooks } from "node:module";

/** A file of @kiln/packages: resolving from here finds Kiln's own package. */
const KILN_PARENT = import.meta.url;
let registered = false;

/**
 * Installs the resolve hook once per process (later calls do nothing).
 * @example registerChannelModuleHooks(); await import(pathToFileURL(storeModule).href)
 */
export function registerChannelModuleHooks(): void {
  if (registered) return;
  registered = true;
  registerHooks({
    resolve(specifier, context, nextResolve) {
      if (specifier === "@kiln/packages" || specifier.startsWith("@kiln/packages/"))
        return nextResolve(specifier, { ...context, parentURL: KILN_PARENT });
      return nextResolve(specifier, context);
    },
  });
}
