import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createPrivateNixStore, requirePeer } from "@kiln/testkit";
import { runKiln } from "./run-kiln.ts";

const scratch = mkdtempSync(join(tmpdir(), "kiln-store-cli-"));
const env = (name: string) => ({
  KILN_STORE_DIR: "/nix/store",
  KILN_REAL_STORE_DIR: join(scratch, name, "store"),
  KILN_STATE_DIR: join(scratch, name, "state"),
});

test("store add, path-info, archive export/import between two Kiln stores and real Nix", (t) => {
  if (!requirePeer(t, "nix-store")) return;
  const src = join(scratch, "src");
  mkdirSync(src);
  writeFileSync(join(src, "file"), "contents\n");
  const added = runKiln(["store", "add", src], { env: env("a") });
  assert.equal(added.status, 0, added.stderr);
  const path = added.stdout.trim();
  const nix = createPrivateNixStore("/nix/store");
  try {
    assert.equal(nix.run("nix-store", ["--add", src]).toString().trim(), path);
    const ours = JSON.parse(
      runKiln(["store", "path-info", "--json", path], { env: env("a") }).stdout,
    );
    const theirs = JSON.parse(nix.run("nix", ["path-info", "--json", path]).toString());
    for (const key of ["path", "narHash", "narSize", "references", "ca"])
      assert.deepEqual(ours[0][key], theirs[0][key], key);

    const archive = runKiln(["archive", "--export", "-r", path], { env: env("a") }).stdoutBytes;
    assert.equal(
      runKiln(["archive", "--import"], { env: env("b"), input: archive }).stdout,
      `${path}\n`,
    );
    assert.equal(
      runKiln(["store", "verify", "--check-contents"], { env: env("b") }).stdout,
      "checked 1 paths: store is clean\n",
    );
    const fresh = createPrivateNixStore("/nix/store");
    try {
      assert.equal(fresh.run("nix-store", ["--import"], archive).toString().trim(), path);
    } finally {
      fresh.dispose();
    }
  } finally {
    nix.dispose();
  }
});

test("store errors are one line with a non-zero exit", () => {
  const missing = runKiln(["store", "path-info", "/nix/store/00000000000000000000000000000000-x"], {
    env: env("c"),
  });
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /^kiln: error: path \/nix\/store\/0{32}-x is not valid\n/);
  const notStore = runKiln(["store", "path-info", "/etc/passwd"], { env: env("c") });
  assert.equal(notStore.status, 1);
  assert.match(notStore.stderr, /not .*\/nix\/store|store path/);
  const both = runKiln(["archive", "--export", "--import"], { env: env("c") });
  assert.equal(both.status, 2);
  const garbage = runKiln(["archive", "--import"], { env: env("c"), input: "garbage!" });
  assert.equal(garbage.status, 1);
  assert.match(garbage.stderr, /^kiln: error: /);
});
