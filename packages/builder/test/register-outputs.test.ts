/**
 * registerOutputs on its own, with outputs laid out by hand where a sandbox would leave
 * them: ordinary outputs are moved (same inode), fixed outputs copied (the build may
 * still hold a descriptor of its file: CVE-2024-27297), and a failure undoes everything.
 */
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { hashBytes, toHex } from "@kiln/formats/hash";
import { KilnError } from "@kiln/formats/kiln-error";
import { registerOutputs } from "../src/register-outputs.ts";
import { type BuildTestStore, createBuildTestStore } from "./build-test-store.ts";

let t: BuildTestStore;
before(async () => {
  t = await createBuildTestStore("/nix/store");
});
after(() => t.dispose());

let counter = 0;
/** A directory standing for a sandbox's store directory. */
function builtDir(): string {
  const dir = join(t.root, `built-${counter++}`);
  mkdirSync(dir);
  return dir;
}

test("an ordinary output is moved into the store, a fixed output is copied", async () => {
  const plain = await t.addDerivation({ name: "plain", script: "unused" });
  const dir = builtDir();
  const built = join(dir, "plain");
  writeFileSync(built, "plain\n");
  const inode = statSync(built).ino;
  await registerOutputs(t.store, {
    drvPath: plain.drvPath,
    derivation: plain.drv,
    builtOutputs: new Map([[t.output(plain.drv), built]]),
    inputs: [t.busybox],
    fixedOutput: false,
  });
  assert.equal(statSync(t.store.realPath(t.output(plain.drv))).ino, inode, "renamed");
  assert.deepEqual(readdirSync(dir), []);

  const content = "downloaded\n";
  const fixed = await t.addDerivation({
    name: "fixed",
    script: "unused",
    fixed: { hashAlgo: "sha256", hash: toHex(hashBytes("sha256", content).digest) },
  });
  const fixedBuilt = join(builtDir(), "fixed");
  writeFileSync(fixedBuilt, content);
  await registerOutputs(t.store, {
    drvPath: fixed.drvPath,
    derivation: fixed.drv,
    builtOutputs: new Map([[t.output(fixed.drv), fixedBuilt]]),
    inputs: [t.busybox],
    fixedOutput: true,
  });
  const stored = statSync(t.store.realPath(t.output(fixed.drv)));
  assert.notEqual(stored.ino, statSync(fixedBuilt).ino, "a copy nobody else holds");
  // Whatever still writes to the build's file does not reach the store.
  writeFileSync(fixedBuilt, "tampered\n");
  assert.equal(readFileSync(t.store.realPath(t.output(fixed.drv)), "utf8"), content);
});

test("when registration fails, the outputs already in place are removed again", async () => {
  const m = await t.addDerivation({ name: "pair", outputs: ["out", "bin"], script: "unused" });
  const dir = builtDir();
  // `bin` refers to an "input" that is not valid, so the database refuses the batch
  // after both outputs have been renamed into the store.
  const bogus = "/nix/store/00000000000000000000000000000000-not-valid";
  writeFileSync(join(dir, "out"), "out\n");
  writeFileSync(join(dir, "bin"), `uses ${bogus}\n`);
  const before = readdirSync(t.store.config.realStoreDir).sort();
  await assert.rejects(
    registerOutputs(t.store, {
      drvPath: m.drvPath,
      derivation: m.drv,
      builtOutputs: new Map([
        [t.output(m.drv, "out"), join(dir, "out")],
        [t.output(m.drv, "bin"), join(dir, "bin")],
      ]),
      inputs: [bogus],
      fixedOutput: false,
    }),
    (error: unknown) => error instanceof KilnError && /not valid/.test(error.message),
  );
  assert.equal(t.store.isValidPath(t.output(m.drv, "bin")), false);
  assert.equal(t.store.isValidPath(t.output(m.drv, "out")), false);
  assert.deepEqual(readdirSync(t.store.config.realStoreDir).sort(), before);
});

test("a fixed output with the wrong hash leaves no temporary copy behind", async () => {
  const fixed = await t.addDerivation({
    name: "wrong",
    script: "unused",
    fixed: { hashAlgo: "r:sha256", hash: toHex(hashBytes("sha256", "x").digest) },
  });
  const built = join(builtDir(), "wrong");
  mkdirSync(built);
  writeFileSync(join(built, "file"), "not what was declared\n");
  const before = readdirSync(t.store.config.realStoreDir).sort();
  await assert.rejects(
    registerOutputs(t.store, {
      drvPath: fixed.drvPath,
      derivation: fixed.drv,
      builtOutputs: new Map([[t.output(fixed.drv), built]]),
      inputs: [],
      fixedOutput: true,
    }),
    (error: unknown) => error instanceof KilnError && error.code === "ERR_HASH_MISMATCH",
  );
  assert.deepEqual(readdirSync(t.store.config.realStoreDir).sort(), before);
});
