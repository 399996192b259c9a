/**
 * Checks that package dependencies point one way (STYLE.md, rule 1): every workspace
 * package has a layer, and may import only packages of a lower layer. It reads both the
 * package.json dependencies and the actual `@kiln/…` import specifiers in the sources,
 * so an import that bypasses package.json is caught too.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

/** Lower numbers are lower layers. testkit is test-only and may be used by test files anywhere. */
const LAYERS: Record<string, number> = {
  "@kiln/formats": 0,
  "@kiln/testkit": 0,
  "@kiln/keys": 1,
  "@kiln/store": 1,
  "@kiln/substituter": 2,
  "@kiln/gc": 2,
  "@kiln/profiles": 3,
  "@kiln/packages": 3,
  "@kiln/builder": 3,
  "@kiln/daemon": 4,
  // Services use formats, the store (read side) and the protocol client, never each other.
  "@kiln/publish": 5,
  "@kiln/cli": 9,
};

const root = new URL("..", import.meta.url).pathname;
const packagesDir = join(root, "packages");
const problems: string[] = [];

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name === "fixtures") continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|js)$/.test(name)) out.push(path);
  }
  return out;
}

for (const dirName of readdirSync(packagesDir)) {
  const manifestPath = join(packagesDir, dirName, "package.json");
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
    name: string;
    dependencies?: Record<string, string>;
  };
  const layer = LAYERS[manifest.name];
  if (layer === undefined) {
    problems.push(`${manifest.name}: no layer assigned in scripts/check-layers.ts`);
    continue;
  }
  const allowed = (dep: string, isTest: boolean) =>
    (isTest && dep === "@kiln/testkit") || (LAYERS[dep] !== undefined && LAYERS[dep] < layer);
  for (const dep of Object.keys(manifest.dependencies ?? {})) {
    if (dep.startsWith("@kiln/") && !allowed(dep, false)) {
      problems.push(`${manifest.name} (layer ${layer}) depends on ${dep} (layer ${LAYERS[dep]})`);
    }
  }
  for (const file of sourceFiles(join(packagesDir, dirName))) {
    const isTest = /\.test\.ts$/.test(file) || file.includes("/test/");
    const text = readFileSync(file, "utf8");
    for (const match of text.matchAll(/from\s+"(@kiln\/[a-z-]+)|import\(\s*"(@kiln\/[a-z-]+)/g)) {
      const dep = match[1] ?? match[2];
      if (dep === manifest.name) continue;
      if (!allowed(dep, isTest)) {
        problems.push(`${relative(root, file)} imports ${dep}, which ${manifest.name} may not use`);
      } else if (!isTest && !(dep in (manifest.dependencies ?? {}))) {
        problems.push(
          `${relative(root, file)} imports ${dep}, missing from ${manifest.name}'s dependencies`,
        );
      }
    }
  }
}

if (problems.length > 0) {
  for (const problem of problems) console.error(`layer check: ${problem}`);
  process.exit(1);
}
console.log(`layer check: ${readdirSync(packagesDir).length} packages, dependencies point one way`);
