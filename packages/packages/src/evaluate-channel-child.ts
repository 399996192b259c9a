/**
 * The evaluator process of evaluateChannel: imports the modules named on the command line
 * one by one and writes one JSON line per event on stdout — `{"start": module}` before a
 * module, then `{"module", "packages"}` or `{"module", "error"}` — so the parent knows
 * which module was running if this process is killed (time limit) or dies (memory limit).
 * argv: CHANNEL_DIR SYSTEM STORE_DIR MODULE…
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { bootstrapFor } from "./bootstrap-seeds.ts";
import { lowerPackage } from "./lower-package.ts";
import { createLoweringContext } from "./lowering-context.ts";
import { isPackage, type Package } from "./package.ts";

const [dir, system, storeDir, ...modules] = process.argv.slice(2) as [
  string,
  string,
  string,
  ...string[],
];
const context = createLoweringContext({ system, storeDir, bootstrap: bootstrapFor(storeDir) });
const seen = new Set<Package>();
const emit = (event: unknown) => process.stdout.write(`${JSON.stringify(event)}\n`);

for (const module of modules) {
  emit({ start: module });
  try {
    const exports: Record<string, unknown> = await import(pathToFileURL(join(dir, module)).href);
    const packages = [];
    for (const value of Object.values(exports)) {
      if (!isPackage(value) || seen.has(value)) continue;
      seen.add(value);
      const supported = !value.supportedSystems || value.supportedSystems.includes(system);
      packages.push({
        name: value.name,
        version: value.version,
        synopsis: value.synopsis,
        description: value.description,
        drvPath: supported ? (await lowerPackage(value, context)).drvPath : undefined,
      });
    }
    emit({ module, packages });
  } catch (error) {
    emit({
      module,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
  }
}
