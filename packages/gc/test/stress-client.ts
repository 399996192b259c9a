/**
 * Test support: a client of the store running next to a collector, as a `kiln` command or
 * a daemon connection would. It roots what it uses (TempRoots) before using it, then
 * adds text paths that refer to earlier ones and "builds" derivations (locks the output,
 * writes it beside its final place, registers it with its deriver), checks after each
 * step that everything it holds is intact, and makes some results permanent GC roots.
 *   node stress-client.ts CONFIG_JSON ID OPERATIONS
 * Prints one JSON line: { rooted: [...], used: [...] }.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Derivation, DerivationOutput } from "@kiln/formats/derivation";
import { computeDerivationOutputs, derivationPath } from "@kiln/formats/derivation-outputs";
import { formatHashNix32 } from "@kiln/formats/hash";
import { hashPath } from "@kiln/formats/hash-path";
import { makeTextPath } from "@kiln/formats/make-store-path";
import { printDerivation } from "@kiln/formats/print-derivation";
import { canonicalisePathMetadata } from "@kiln/store/canonicalise";
import { LocalStore } from "@kiln/store/local-store";
import { addPermRoot } from "../src/add-indirect-root.ts";
import { gcLayout } from "../src/gc-layout.ts";
import { TempRoots } from "../src/temp-roots.ts";

const [configJson, id, operations] = process.argv.slice(2);
const store = LocalStore.open(JSON.parse(configJson));
const { storeDir } = store.config;
const roots = TempRoots.open(store.config);
/** Path → its expected contents. */
const expected = new Map<string, string>();
const rooted: string[] = [];
let seed = Number(id) * 7919 + 1;
const random = (n: number) => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed % n;
};

function check(path: string): void {
  const contents = readFileSync(store.realPath(path), "utf8");
  if (contents !== expected.get(path)) throw new Error(`${path} changed: ${contents}`);
  if (!store.isValidPath(path)) throw new Error(`${path} is not valid any more`);
  for (const reference of store.db.references(path)) {
    if (!store.isValidPath(reference)) throw new Error(`${reference} of ${path} is gone`);
  }
}

async function addText(): Promise<string> {
  const used = [...expected.keys()];
  const references = used.length > 0 && random(2) === 0 ? [used[random(used.length)]] : [];
  // Shared names: clients add the same paths as each other, and as earlier runs.
  const name = `text-${random(60)}`;
  const text = `${name}\n${references.join("\n")}\n`;
  const path = makeTextPath(name, text, { references, storeDir });
  await roots.add(path); // root first, then check validity (inside addTextToStore)
  await store.addTextToStore(name, text, references);
  expected.set(path, text);
  return path;
}

async function build(step: number): Promise<string> {
  const outputs = new Map<string, DerivationOutput>([
    ["out", { path: "", hashAlgo: "", hash: "" }],
  ]);
  const bare: Derivation = {
    outputs,
    inputDrvs: new Map(),
    inputSrcs: [],
    system: "x86_64-linux",
    builder: "/bin/sh",
    args: [],
    env: new Map([
      ["name", `build-${id}-${step % 7}`],
      ["out", ""],
    ]),
  };
  const drv = computeDerivationOutputs(bare, { resolve: () => bare, storeDir });
  const drvPath = derivationPath(drv, { storeDir });
  const out = drv.outputs.get("out")!.path;
  // As Nix's DerivationGoal: root the derivation and its outputs before building.
  await roots.add([drvPath, out]);
  await store.addTextToStore(`${drv.env.get("name")}.drv`, printDerivation(drv));
  expected.set(drvPath, printDerivation(drv));
  const text = `built by ${drvPath}\n`;
  const unlock = await store.lockPaths([out]);
  try {
    if (!store.isValidPath(out)) {
      const temporary = store.temporaryPathFor(out);
      writeFileSync(temporary, text);
      await new Promise((resolve) => setTimeout(resolve, random(5))); // the build takes a while
      canonicalisePathMetadata(temporary);
      const { hash, narSize } = await hashPath(temporary);
      store.commitPath(temporary, {
        path: out,
        narHash: formatHashNix32(hash),
        narSize,
        references: [],
        deriver: drvPath,
      });
    }
  } finally {
    unlock();
  }
  expected.set(out, text);
  return out;
}

for (let step = 0; step < Number(operations); step++) {
  const path = random(4) === 0 ? await build(step) : await addText();
  if (random(5) === 0) {
    addPermRoot(store.config, path, join(gcLayout(store.config).rootsDir, `client-${id}-${step}`));
    rooted.push(path);
  }
  for (const held of expected.keys()) check(held);
}
for (const held of expected.keys()) check(held);
process.stdout.write(`${JSON.stringify({ rooted, used: [...expected.keys()] })}\n`);
roots.close();
store.close();
