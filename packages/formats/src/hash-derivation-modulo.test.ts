import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import type { Derivation } from "./derivation.ts";
import { sha256, toHex } from "./hash.ts";
import { hashDerivationModulo } from "./hash-derivation-modulo.ts";
import { FormatError } from "./kiln-error.ts";
import { parseDerivation } from "./parse-derivation.ts";
import { printDerivation } from "./print-derivation.ts";

interface Variant {
  drvPath: string;
  aterm: string;
  hashDerivationModulo: string;
  maskedHash?: string;
  maskedAtermModulo?: string;
  hashDerivationModuloInput?: string;
}
interface DrvCase {
  id: string;
  nix: Variant;
  gnu: Variant;
}

const vectors: DrvCase[] = JSON.parse(
  readFileSync(new URL("../test/fixtures/derivations.json", import.meta.url), "utf8"),
);

/** Resolves `.drv` paths from the other vectors of the same store directory, counting reads. */
function vectorStore(variant: "nix" | "gnu") {
  const byPath = new Map(
    vectors.map((v) => [v[variant].drvPath, parseDerivation(v[variant].aterm)]),
  );
  const reads: string[] = [];
  const resolve = (drvPath: string): Derivation => {
    reads.push(drvPath);
    const drv = byPath.get(drvPath);
    if (drv === undefined) throw new Error(`no vector for ${drvPath}`);
    return drv;
  };
  return { resolve, reads };
}

for (const variant of ["nix", "gnu"] as const) {
  test(`${variant}: hashDerivationModulo of every vector equals Nix's`, () => {
    const { resolve } = vectorStore(variant);
    for (const v of vectors) {
      const drv = parseDerivation(v[variant].aterm);
      assert.equal(
        toHex(hashDerivationModulo(drv, { resolve })),
        v[variant].hashDerivationModulo,
        v.id,
      );
    }
  });

  test(`${variant}: the masked ATerm modulo and its hash equal the vectors`, () => {
    const { resolve } = vectorStore(variant);
    let checked = 0;
    for (const v of vectors) {
      const c = v[variant];
      if (c.maskedAtermModulo === undefined) continue;
      const drv = parseDerivation(c.aterm);
      const inputDrvReplacements = new Map(
        [...drv.inputDrvs.keys()].map((p) => [
          p,
          toHex(hashDerivationModulo(resolve(p), { resolve })),
        ]),
      );
      const masked = printDerivation(drv, { maskOutputs: true, inputDrvReplacements });
      assert.equal(masked, c.maskedAtermModulo, v.id);
      assert.equal(toHex(sha256(masked)), c.maskedHash, v.id);
      assert.equal(toHex(hashDerivationModulo(drv, { resolve, maskOutputs: true })), c.maskedHash);
      checked++;
    }
    assert.equal(checked, 11);
  });

  test(`${variant}: a fixed-output derivation hashes its fixed:out string`, () => {
    const { resolve, reads } = vectorStore(variant);
    for (const v of vectors.filter((v) => v[variant].hashDerivationModuloInput !== undefined)) {
      const drv = parseDerivation(v[variant].aterm);
      const expected = toHex(sha256(v[variant].hashDerivationModuloInput!));
      assert.equal(toHex(hashDerivationModulo(drv, { resolve })), expected, v.id);
    }
    assert.deepEqual(reads, []);
  });
}

test("dependents of fixed-output derivations with the same output hash alike", () => {
  const { resolve } = vectorStore("gnu");
  const [a, b] = ["depends-on-fixed", "depends-on-fixed-alt"].map((id) =>
    parseDerivation(vectors.find((v) => v.id === id)!.gnu.aterm),
  );
  assert.notDeepEqual(a.inputDrvs, b.inputDrvs);
  assert.deepEqual(hashDerivationModulo(a, { resolve }), hashDerivationModulo(b, { resolve }));
});

test("the cache is filled per input and saves reading it again", () => {
  const { resolve, reads } = vectorStore("nix");
  const depends = parseDerivation(vectors.find((v) => v.id === "depends")!.nix.aterm);
  const cache = new Map<string, Uint8Array>();
  const first = hashDerivationModulo(depends, { resolve, cache });
  assert.deepEqual([...cache.keys()].sort(), [...depends.inputDrvs.keys()].sort());
  assert.equal(reads.length, 2);
  assert.deepEqual(hashDerivationModulo(depends, { resolve, cache }), first);
  assert.equal(reads.length, 2);
  // A wrong cache entry changes the result: the cache really is used.
  cache.set([...depends.inputDrvs.keys()][0], new Uint8Array(32));
  assert.notDeepEqual(hashDerivationModulo(depends, { resolve, cache }), first);
});

function chainLink(index: number, inputDrv?: string): Derivation {
  return {
    outputs: new Map([["out", { path: "", hashAlgo: "", hash: "" }]]),
    inputDrvs: new Map(inputDrv === undefined ? [] : [[inputDrv, ["out"]]]),
    inputSrcs: [],
    system: "x86_64-linux",
    builder: "/bin/sh",
    args: [String(index)],
    env: new Map(),
  };
}

test("a deep chain of inputs hashes without recursion, the same as step by step", () => {
  const depth = 20_000;
  const store = new Map<string, Derivation>();
  for (let i = 0; i < depth; i++) {
    store.set(`/s/${i}.drv`, chainLink(i, i === 0 ? undefined : `/s/${i - 1}.drv`));
  }
  const resolve = (p: string) => store.get(p)!;
  const top = chainLink(depth, `/s/${depth - 1}.drv`);
  const cache = new Map<string, Uint8Array>();
  const deep = hashDerivationModulo(top, { resolve, cache });
  assert.equal(cache.size, depth);
  // Recomputing link 1 by hand from link 0 agrees with the cache.
  const zero = sha256(printDerivation(store.get("/s/0.drv")!));
  const one = sha256(
    printDerivation(store.get("/s/1.drv")!, {
      inputDrvReplacements: new Map([["/s/0.drv", toHex(zero)]]),
    }),
  );
  assert.deepEqual(cache.get("/s/1.drv"), one);
  assert.equal(deep.length, 32);
});

test("a cycle of inputs is a FormatError", () => {
  const store = new Map([
    ["/s/a.drv", chainLink(0, "/s/b.drv")],
    ["/s/b.drv", chainLink(1, "/s/a.drv")],
  ]);
  assert.throws(
    () => hashDerivationModulo(chainLink(2, "/s/a.drv"), { resolve: (p) => store.get(p)! }),
    (error: unknown) => error instanceof FormatError && /depends on itself/.test(error.message),
  );
});
