/**
 * `--dry-run` against real Nix: random derivation graphs instantiated by
 * `nix-instantiate`, copied into a Kiln store, and planned by both. Kiln must print
 * byte for byte what `nix-store --realise --dry-run` prints (same derivations, same
 * order, same wording).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { test } from "node:test";
import { parseDerivation } from "@kiln/formats/parse-derivation";
import { createPrivateNixStore, requirePeer } from "@kiln/testkit";
import fc from "fast-check";
import { buildDerivations } from "../src/build-derivations.ts";
import { describeDryRun } from "../src/describe-dry-run.ts";
import { createBuildTestStore } from "./build-test-store.ts";

/** Random DAGs: node j of graph g may depend on any node before it; some nodes are roots. */
const graphs = fc.array(
  fc.integer({ min: 1, max: 9 }).chain((n) =>
    fc.record({
      deps: fc.array(fc.array(fc.boolean(), { minLength: n, maxLength: n }), {
        minLength: n,
        maxLength: n,
      }),
      roots: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
    }),
  ),
  { minLength: 12, maxLength: 12 },
);

test("Kiln's dry run prints what Nix 2.8's prints", async (t) => {
  if (!requirePeer(t, "nix-store") || !requirePeer(t, "nix-instantiate")) return;
  const nix = createPrivateNixStore("/nix/store");
  t.after(() => nix.dispose());
  const kiln = await createBuildTestStore("/nix/store");
  t.after(() => kiln.dispose());

  const seed = Date.now() % 100000;
  const [sample] = fc.sample(graphs, { numRuns: 1, seed });
  // One .nix file, one nix-instantiate: a list of every graph's roots.
  const lines = ['let mk = name: deps: derivation { inherit name; system = "x86_64-linux";'];
  // Nix's own ${…} interpolation, not JavaScript's.
  lines.push(`  builder = "/bin/sh"; args = [ "-c" "echo \${name} \${toString deps} > $out" ]; };`);
  lines.push("in [");
  const rootNames: string[][] = [];
  sample.forEach((graph, g) => {
    const n = graph.roots.length;
    const names = Array.from({ length: n }, (_, j) => `g${g}n${j}`);
    lines.push("  (let");
    for (let j = 0; j < n; j++) {
      const deps = names.filter((_, i) => i < j && graph.deps[j][i]);
      lines.push(`    ${names[j]} = mk "${names[j]}" [ ${deps.join(" ")} ];`);
    }
    const roots = names.filter((_, j) => graph.roots[j] || j === n - 1);
    rootNames.push(roots);
    lines.push(`  in [ ${roots.join(" ")} ])`);
  });
  lines.push("]");
  const file = join(dirname(nix.realStoreDir), "graphs.nix");
  writeFileSync(file, lines.join("\n"));
  const drvPaths = nix.run("nix-instantiate", [file]).toString().trim().split("\n");
  assert.equal(drvPaths.length, rootNames.flat().length);

  const added = new Set<string>();
  const addToKiln = async (drvPath: string): Promise<void> => {
    if (added.has(drvPath)) return;
    const text = readFileSync(join(nix.realStoreDir, basename(drvPath)), "utf8");
    const drv = parseDerivation(text);
    for (const input of drv.inputDrvs.keys()) await addToKiln(input);
    const name = basename(drvPath).slice(33);
    const path = await kiln.store.addTextToStore(name, text, [
      ...drv.inputSrcs,
      ...drv.inputDrvs.keys(),
    ]);
    assert.equal(path, drvPath);
    added.add(drvPath);
  };

  let offset = 0;
  for (const roots of rootNames) {
    const mine = drvPaths.slice(offset, offset + roots.length);
    offset += roots.length;
    for (const drvPath of mine) await addToKiln(drvPath);
    const result = spawnSync(
      "nix-store",
      ["--store", nix.uri, "--option", "substituters", "", "--realise", "--dry-run", ...mine],
      {
        encoding: "utf8",
        env: { ...process.env, NIX_CONF_DIR: dirname(nix.realStoreDir), NIX_REMOTE: "" },
      },
    );
    assert.equal(result.status, 0, result.stderr);
    const nixSays = result.stderr
      .split("\n")
      .filter((line) => !line.startsWith("warning:"))
      .join("\n");
    const kilnSays = describeDryRun(await buildDerivations(kiln.store, mine, { dryRun: true }));
    assert.equal(kilnSays, nixSays, `seed ${seed}, roots ${mine.join(" ")}`);
  }
});
