/**
 * `builtin:buildenv` run by the builder (as the daemon runs it for profiles): the union
 * of two items plus the manifest, registered as an input-addressed output referring to
 * the items; two items providing the same file fail the build naming both, and leave
 * nothing in the store.
 */
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { KilnError } from "@kiln/formats/kiln-error";
import { buildDerivations } from "../src/build-derivations.ts";
import { type BuildTestStore, createBuildTestStore } from "./build-test-store.ts";

let t: BuildTestStore;
before(async () => {
  t = await createBuildTestStore("/nix/store");
});
after(() => t?.dispose());

async function item(name: string, files: Record<string, string>): Promise<string> {
  const dir = join(t.root, `item-${name}`);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return t.store.addToStore(dir, { name });
}

async function profile(name: string, items: string[]) {
  const manifest = await t.addText("profile-manifest", `manifest of ${items.join(",")}\n`, items);
  return t.addDerivation({
    name,
    builder: "builtin:buildenv",
    args: [],
    system: "builtin",
    inputSrcs: [manifest, ...items],
    env: { manifest, packages: items.join(" ") },
  });
}

test("builtin:buildenv unions two items and the manifest", async () => {
  const a = await item("a-1", { "bin/a": "a", "share/doc/a": "a" });
  const b = await item("b-1", { "bin/b": "b", "lib/b.so": "b" });
  const { drvPath, drv } = await profile("profile", [a, b]);
  const [result] = await buildDerivations(t.store, [drvPath]);
  assert.equal(result?.status, "built", result?.error?.message);
  const out = t.output(drv);
  const real = t.store.realPath(out);
  assert.deepEqual(readdirSync(real).sort(), ["bin", "lib", "manifest", "share"]);
  assert.equal(readlinkSync(join(real, "bin", "a")), `${a}/bin/a`);
  assert.equal(readlinkSync(join(real, "bin", "b")), `${b}/bin/b`);
  assert.equal(readlinkSync(join(real, "lib")), `${b}/lib`);
  assert.equal(readFileSync(join(real, "manifest"), "utf8"), `manifest of ${a},${b}\n`);
  const info = t.store.requirePathInfo(out);
  assert.deepEqual(info.references, [a, b].sort());
  assert.equal(info.deriver, drvPath);
});

test("builtin:buildenv fails on a collision, naming both items", async () => {
  const a = await item("c-1", { "bin/same": "c" });
  const b = await item("d-1", { "bin/same": "d" });
  const { drvPath, drv } = await profile("colliding-profile", [a, b]);
  const [result] = await buildDerivations(t.store, [drvPath]);
  assert.equal(result?.status, "failed");
  assert.ok(result?.error instanceof KilnError);
  assert.equal(result.error.message, `collision between ${a}/bin/same and ${b}/bin/same`);
  const out = t.output(drv);
  assert.equal(t.store.isValidPath(out), false);
  const base = out.slice("/nix/store/".length);
  assert.deepEqual(
    readdirSync(t.store.config.realStoreDir).filter((name) => name.startsWith(base)),
    [],
  );
});

test("builtin:buildenv refuses an item that is not among the inputs", async () => {
  const a = await item("e-1", { "bin/e": "e" });
  const manifest = await t.addText("profile-manifest", "m\n", []);
  const { drvPath } = await t.addDerivation({
    name: "sneaky-profile",
    builder: "builtin:buildenv",
    args: [],
    system: "builtin",
    inputSrcs: [manifest],
    env: { manifest, packages: a },
  });
  const [result] = await buildDerivations(t.store, [drvPath]);
  assert.equal(result?.status, "failed");
  assert.equal(result?.error?.code, "ERR_BAD_DERIVATION");
  assert.match(result?.error?.message ?? "", /not among its inputs/);
});
