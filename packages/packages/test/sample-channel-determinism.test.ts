/**
 * Determinism of lowering: the sample channel lowered in two processes, and in a second
 * checkout, gives the same `.drv` paths; a one-line change to one package changes exactly
 * the paths of the packages that depend on it.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { buildInputClosure, loadChannel, type Package, packageFullName } from "@kiln/packages";

const repo = fileURLToPath(new URL("../../..", import.meta.url));
const sample = join(repo, "channels", "sample");
const script = fileURLToPath(new URL("./lower-channel-paths.ts", import.meta.url));
const checkout = mkdtempSync(join(tmpdir(), "kiln-checkout-"));
after(() => rmSync(checkout, { recursive: true, force: true }));
// Checkouts here resolve @kiln/* through this link, as a clone beside node_modules would.
symlinkSync(join(repo, "node_modules"), join(checkout, "node_modules"));

function lowerInProcess(channelDir: string, system?: string): Record<string, string> {
  const args = [script, channelDir, ...(system ? [system] : [])];
  return JSON.parse(execFileSync(process.execPath, args, { encoding: "utf8" }));
}

/** Packages whose build needs `target`, directly or through other inputs. */
function dependents(packages: readonly Package[], target: string): Set<string> {
  const needs = (pkg: Package, seen = new Set<Package>()): boolean =>
    buildInputClosure(pkg).some(([input]) => {
      if (seen.has(input)) return false;
      seen.add(input);
      return packageFullName(input) === target || needs(input, seen);
    });
  return new Set(
    packages.filter((pkg) => packageFullName(pkg) === target || needs(pkg)).map(packageFullName),
  );
}

test("two processes and two checkouts lower the sample channel to the same .drv paths", () => {
  const first = lowerInProcess(sample);
  assert.ok(Object.keys(first).length >= 30, "the sample channel has at least 30 packages");
  assert.deepEqual(lowerInProcess(sample), first);
  // A second checkout, elsewhere.
  cpSync(sample, join(checkout, "sample"), { recursive: true });
  assert.deepEqual(lowerInProcess(join(checkout, "sample")), first);
  assert.notDeepEqual(lowerInProcess(sample, "aarch64-linux"), first, "--system changes paths");
});

test("a one-line change in calc changes exactly the .drv paths of what depends on calc", async () => {
  const before = lowerInProcess(sample);
  const copy = join(checkout, "changed");
  cpSync(sample, copy, { recursive: true });
  const module = join(copy, "modules", "text.ts");
  const text = readFileSync(module, "utf8");
  const line = "# calc EXPR: evaluates an arithmetic expression with awk.";
  assert.ok(text.includes(line));
  writeFileSync(module, text.replace(line, "# calc EXPR: evaluates an arithmetic expression."));
  const afterChange = lowerInProcess(copy);
  const changed = new Set(Object.keys(before).filter((name) => before[name] !== afterChange[name]));
  const { packages } = await loadChannel(sample);
  const expected = dependents(packages, "calc-1.4");
  assert.ok(expected.has("units-lite-0.2") && expected.has("remind-1.0"));
  assert.ok(!expected.has("hello-2.12"));
  assert.deepEqual([...changed].sort(), [...expected].sort());
});
