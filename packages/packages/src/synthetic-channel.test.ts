import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { bootstrapFor } from "./bootstrap-seeds.ts";
import { loadChannel } from "./load-channel.ts";
import { lowerChannel } from "./lower-channel.ts";
import { writeSyntheticChannel } from "./synthetic-channel.ts";

const root = mkdtempSync(join(tmpdir(), "kiln-synthetic-"));
after(() => rmSync(root, { recursive: true, force: true }));
symlinkSync(
  fileURLToPath(new URL("../../../node_modules", import.meta.url)),
  join(root, "node_modules"),
);

test("the same count and seed write the same modules; another seed another graph", () => {
  writeSyntheticChannel(join(root, "a"), 300, { perModule: 50 });
  writeSyntheticChannel(join(root, "b"), 300, { perModule: 50 });
  writeSyntheticChannel(join(root, "c"), 300, { perModule: 50, seed: 2 });
  const read = (dir: string) => readFileSync(join(root, dir, "modules", "m0005.ts"), "utf8");
  assert.equal(read("a"), read("b"));
  assert.notEqual(read("a"), read("c"));
});

test("a synthetic channel loads and lowers: every package, a skewed graph, several outputs", async () => {
  writeSyntheticChannel(join(root, "d"), 400, { perModule: 100 });
  const channel = await loadChannel(join(root, "d"));
  assert.equal(channel.packages.length, 400);
  const uses = new Map<string, number>();
  for (const pkg of channel.packages)
    for (const input of [...(pkg.inputs ?? []), ...(pkg.propagatedInputs ?? [])]) {
      const name = (input as { name: string }).name;
      uses.set(name, (uses.get(name) ?? 0) + 1);
    }
  const counts = [...uses.values()].sort((a, b) => b - a);
  assert.ok(
    counts[0]! >= 10 * (counts[Math.floor(counts.length / 2)] ?? 1),
    "a few packages are used by many",
  );
  assert.ok(channel.packages.some((pkg) => pkg.outputs?.includes("doc")));
  assert.ok(channel.packages.some((pkg) => (pkg.propagatedInputs ?? []).length > 0));
  const lowered = await lowerChannel(channel, {
    system: "x86_64-linux",
    storeDir: "/gnu/store",
    bootstrap: bootstrapFor("/gnu/store"),
  });
  assert.equal(new Set([...lowered.values()].map(({ drvPath }) => drvPath)).size, 400);
});
