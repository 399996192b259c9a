/**
 * The evaluator process of evaluateChannel: imports the modules named on the command line
 * one by one and writes one JSON line per event on stdout — `{"start": module}` before a
 * module, then `{"module", "packages"}` or `{"module", "error"}` — so the parent knows
 * which module was running if this process is killed (time limit) or dies (memory limit).
 * Each package is sent as its summary (what show and search print), with its `.drv` path
 * when a system is given and its lint warnings when checkers are; both are computed here,
 * inside the sandbox and the module's time limit, since they run the channel's code.
 * argv: CHANNEL_DIR OPTIONS_JSON MODULE… (OPTIONS: {system?, storeDir, lint?: [checker…]})
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { bootstrapFor } from "./bootstrap-seeds.ts";
import { registerChannelModuleHooks } from "./channel-module-hooks.ts";
import { lintPackages } from "./lint-packages.ts";
import { lowerPackage } from "./lower-package.ts";
import { createLoweringContext } from "./lowering-context.ts";
import { isPackage, type Package } from "./package.ts";
import { packageSummary } from "./package-summary.ts";

const [dir, optionsJson, ...modules] = process.argv.slice(2) as [string, string, ...string[]];
const options = JSON.parse(optionsJson) as {
  system?: string;
  storeDir: string;
  lint?: string[];
};
// A channel in the store has no node_modules: resolve @kiln/packages to Kiln's own.
registerChannelModuleHooks();
const { system, storeDir } = options;
const context =
  system === undefined
    ? undefined
    : createLoweringContext({ system, storeDir, bootstrap: bootstrapFor(storeDir) });
const seen = new Set<Package>();
const emit = (event: unknown) => process.stdout.write(`${JSON.stringify(event)}\n`);

async function describe(pkg: Package) {
  const supported = !pkg.supportedSystems || pkg.supportedSystems.includes(system ?? "");
  return {
    ...packageSummary(pkg),
    ...(context && supported ? { drvPath: (await lowerPackage(pkg, context)).drvPath } : {}),
    ...(options.lint
      ? {
          warnings: (await lintPackages([pkg], { checkers: options.lint })).map(
            ({ checker, message }) => ({ checker, message }),
          ),
        }
      : {}),
  };
}

for (const module of modules) {
  emit({ start: module });
  try {
    const exports: Record<string, unknown> = await import(pathToFileURL(join(dir, module)).href);
    const packages = [];
    for (const value of Object.values(exports)) {
      if (!isPackage(value) || seen.has(value)) continue;
      seen.add(value);
      packages.push(await describe(value));
    }
    emit({ module, packages });
  } catch (error) {
    emit({
      module,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
  }
}
