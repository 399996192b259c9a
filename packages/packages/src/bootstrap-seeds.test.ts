import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { LocalStore } from "@kiln/store/local-store";
import { bootstrapFor, busyboxSeed, importBootstrapSeeds } from "./bootstrap-seeds.ts";
import { PackageError } from "./package-error.ts";

const root = mkdtempSync(join(tmpdir(), "kiln-seeds-"));
after(() => rmSync(root, { recursive: true, force: true }));
const store = LocalStore.open({
  storeDir: "/gnu/store",
  realStoreDir: join(root, "store"),
  stateDir: join(root, "state"),
});
after(() => store.close());

const hostMatchesPin =
  existsSync("/bin/busybox") &&
  createHash("sha256").update(readFileSync("/bin/busybox")).digest("hex") ===
    busyboxSeed.fileSha256;

test("importing the host's busybox gives the pinned seed path", {
  skip: !hostMatchesPin && "the host's /bin/busybox is not the pinned Debian build",
}, async () => {
  const bootstrap = await importBootstrapSeeds(store);
  assert.equal(bootstrap.busybox, bootstrapFor("/gnu/store").busybox);
  assert.ok(store.isValidPath(bootstrap.busybox));
  const binary = join(store.realPath(bootstrap.busybox), "bin", "busybox");
  assert.equal(
    createHash("sha256").update(readFileSync(binary)).digest("hex"),
    busyboxSeed.fileSha256,
  );
  assert.equal(
    await importBootstrapSeeds(store).then((b) => b.busybox),
    bootstrap.busybox,
    "idempotent",
  );
});

test("a host copy that does not match the pin is refused, naming both hashes", async () => {
  const impostor = join(root, "busybox");
  writeFileSync(impostor, "#!/bin/sh\necho not busybox\n");
  const actual = createHash("sha256").update(readFileSync(impostor)).digest("hex");
  await assert.rejects(importBootstrapSeeds(store, { busyboxFile: impostor }), (error: unknown) => {
    assert.ok(error instanceof PackageError);
    assert.match(
      error.message,
      new RegExp(`sha256 ${actual}.*pinned hash is ${busyboxSeed.fileSha256}`),
    );
    assert.match(error.hint ?? "", /busybox-static/);
    return true;
  });
  await assert.rejects(
    importBootstrapSeeds(store, { busyboxFile: join(root, "missing") }),
    /cannot read/,
  );
});

test("the seed path depends on the store directory and the pin only", () => {
  assert.match(
    bootstrapFor("/gnu/store").busybox,
    /^\/gnu\/store\/[0-9a-z]{32}-bootstrap-busybox-1\.35\.0$/,
  );
  assert.notEqual(
    bootstrapFor("/nix/store").busybox.slice(11),
    bootstrapFor("/gnu/store").busybox.slice(11),
  );
});
