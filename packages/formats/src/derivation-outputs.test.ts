import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import type { Derivation, DerivationOutput } from "./derivation.ts";
import { computeDerivationOutputs, derivationPath } from "./derivation-outputs.ts";
import { FormatError } from "./kiln-error.ts";
import { parseDerivation } from "./parse-derivation.ts";
import { printDerivation } from "./print-derivation.ts";

interface Variant {
  drvPath: string;
  aterm: string;
  outputs: Record<string, string>;
  drvReferences: string[];
}
interface DrvCase {
  id: string;
  nix: Variant;
  gnu: Variant;
}

const vectors: DrvCase[] = JSON.parse(
  readFileSync(new URL("../test/fixtures/derivations.json", import.meta.url), "utf8"),
);

/** The derivation as the evaluator has it before naming outputs: no paths, no output env vars. */
function withoutOutputs(drv: Derivation): Derivation {
  const outputs = new Map<string, DerivationOutput>();
  for (const [name, output] of drv.outputs) outputs.set(name, { ...output, path: "" });
  const env = new Map([...drv.env].filter(([key]) => !drv.outputs.has(key)));
  return { ...drv, outputs, env };
}

for (const [variant, storeDir] of [
  ["nix", "/nix/store"],
  ["gnu", "/gnu/store"],
] as const) {
  test(`${variant}: output paths and .drv paths recomputed from the masked form equal Nix's`, () => {
    const byPath = new Map(
      vectors.map((v) => [v[variant].drvPath, parseDerivation(v[variant].aterm)]),
    );
    const resolve = (p: string) => byPath.get(p)!;
    for (const v of vectors) {
      const c = v[variant];
      const drv = computeDerivationOutputs(withoutOutputs(parseDerivation(c.aterm)), {
        resolve,
        storeDir,
      });
      assert.deepEqual(
        Object.fromEntries([...drv.outputs].map(([name, o]) => [name, o.path])),
        c.outputs,
        v.id,
      );
      for (const [name, path] of Object.entries(c.outputs)) assert.equal(drv.env.get(name), path);
      assert.equal(printDerivation(drv), c.aterm, v.id);
      assert.equal(derivationPath(drv, { storeDir }), c.drvPath, v.id);
    }
  });
}

test("the store directory and the name are part of every path", () => {
  const v = vectors.find((v) => v.id === "multi-output")!;
  const drv = withoutOutputs(parseDerivation(v.nix.aterm));
  const resolve = () => assert.fail("no inputs");
  const nix = computeDerivationOutputs(drv, { resolve, storeDir: "/nix/store" });
  const renamed = computeDerivationOutputs(drv, { resolve, storeDir: "/nix/store", name: "other" });
  assert.match(renamed.outputs.get("dev")!.path, /^\/nix\/store\/[0-9a-z]{32}-other-dev$/);
  assert.notEqual(
    renamed.outputs.get("out")!.path.slice(0, 43),
    nix.outputs.get("out")!.path.slice(0, 43),
  );
  assert.equal(derivationPath(nix, { storeDir: "/nix/store" }), v.nix.drvPath);
  assert.match(derivationPath(nix, { storeDir: "/nix/store", name: "x" }), /-x\.drv$/);
  // The default store directory is /gnu/store.
  assert.match(
    computeDerivationOutputs(drv, { resolve }).outputs.get("out")!.path,
    /^\/gnu\/store\//,
  );
});

test("existing output paths are ignored, so a tampered .drv is recomputed correctly", () => {
  const v = vectors.find((v) => v.id === "simple")!;
  const tampered = parseDerivation(
    v.gnu.aterm.replaceAll("hp3d216zhypyvh4n6rhrhy20xdb8n170", "0".repeat(32)),
  );
  const fixed = computeDerivationOutputs(tampered, {
    resolve: () => assert.fail(),
    storeDir: "/gnu/store",
  });
  assert.equal(printDerivation(fixed), v.gnu.aterm);
});

test("derivations without a name, floating outputs and bad references are FormatErrors", () => {
  const base = parseDerivation('Derive([("out","","","")],[],[],"s","b",[],[])');
  assert.throws(() => computeDerivationOutputs(base, { resolve: () => assert.fail() }), /no name/);
  const floating = parseDerivation(
    'Derive([("out","","r:sha256","")],[],[],"s","b",[],[("name","f")])',
  );
  assert.throws(
    () => computeDerivationOutputs(floating, { resolve: () => assert.fail() }),
    FormatError,
  );
  const relativeSource = { ...base, inputSrcs: ["/nix/store/not-a-store-path"] };
  assert.throws(() => derivationPath(relativeSource, { name: "x" }), FormatError);
});
