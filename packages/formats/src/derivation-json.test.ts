import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { derivationToJson } from "./derivation-json.ts";
import { parseDerivation } from "./parse-derivation.ts";

const vectors: { id: string; nix: { drvPath: string; aterm: string } }[] = JSON.parse(
  readFileSync(new URL("../test/fixtures/derivations.json", import.meta.url), "utf8"),
);
const vector = (id: string) => vectors.find((v) => v.id === id)!.nix;

test("the shape and key order of nix show-derivation", () => {
  const { drvPath, aterm } = vector("depends");
  const json = derivationToJson(drvPath, parseDerivation(aterm));
  assert.deepEqual(Object.keys(json), [drvPath]);
  const entry = json[drvPath];
  assert.deepEqual(Object.keys(entry), [
    "outputs",
    "inputSrcs",
    "inputDrvs",
    "system",
    "builder",
    "args",
    "env",
  ]);
  assert.deepEqual(entry.outputs, {
    out: { path: "/nix/store/0m8bkhmiir9515daq2hg3288z47cz2l2-depends" },
  });
  assert.deepEqual(entry.inputDrvs, {
    "/nix/store/3ghsl9sd83mc26i81adpa2fzf3yw4f68-simple.drv": ["out"],
    "/nix/store/i9f6lvlmnnlnj6ks5664w2mp748k36yi-multi.drv": ["dev"],
  });
  assert.deepEqual(Object.keys(entry.env), ["builder", "name", "out", "system"]);
});

test("fixed outputs carry hashAlgo and hash; env keys are kept as data", () => {
  const { drvPath, aterm } = vector("fixed-recursive");
  const entry = derivationToJson(drvPath, parseDerivation(aterm))[drvPath];
  assert.deepEqual(entry.outputs.out, {
    path: "/nix/store/d55jmpskzx3jg4g9jn1rdf9zqb02nxrw-fixed-rec",
    hashAlgo: "r:sha256",
    hash: "8f9868687b886b53eedaaac3da83a7f045d8c16b7e1304ca526908ab090232c9",
  });
  const proto = parseDerivation('Derive([("out","","","")],[],[],"s","b",[],[("__proto__","x")])');
  const env = derivationToJson("/d.drv", proto)["/d.drv"].env;
  assert.equal(Object.getOwnPropertyDescriptor(env, "__proto__")?.value, "x");
  assert.equal(JSON.stringify(env), '{"__proto__":"x"}');
  assert.deepEqual(derivationToJson("/d.drv", proto)["/d.drv"].outputs, { out: {} });
});
