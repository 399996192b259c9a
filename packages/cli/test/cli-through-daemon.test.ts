/**
 * With a daemon running, the kiln CLI goes through it (as guix does through guix-daemon):
 * an unprivileged user, who cannot touch the store directly, adds, queries and builds
 * through the daemon's socket; the build runs in the daemon's sandbox.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { requirePeer } from "@kiln/testkit";
import { asNobody, kilnScratch, requireRoot, startKilnDaemon } from "./start-kiln-daemon.ts";

const EXAMPLE = new URL("../../../examples/hello.drv", import.meta.url).pathname;

test("an unprivileged user adds, queries and builds through the daemon", async (t) => {
  if (!requirePeer(t, "bwrap", "bubblewrap")) return;
  if (!requireRoot(t, "run the daemon as its owner and the client as nobody")) return;
  const { root: scratch, env } = kilnScratch("kiln-via-daemon-");
  const chroot = ["/bin/sh", "/lib", "/lib64", "/usr"].flatMap((path) => [
    "--chroot-directory",
    path,
  ]);
  const daemon = await startKilnDaemon(env, ["--debug", ...chroot]);
  try {
    const file = join(scratch, "note.txt");
    writeFileSync(file, "through the daemon\n");
    chmodSync(file, 0o644);
    const added = asNobody(["store", "add", file], env);
    assert.equal(added.status, 0, added.stderr);
    const path = added.stdout.trim();
    assert.match(path, /^\/gnu\/store\/[0-9a-z]{32}-note\.txt$/);
    const info = asNobody(["store", "path-info", "--json", path], env);
    assert.equal(info.status, 0, info.stderr);
    assert.equal(JSON.parse(info.stdout)[0].narSize, 136);

    const built = asNobody(["build", EXAMPLE], env);
    assert.equal(built.status, 0, built.stderr);
    const output = built.stdout.trim();
    assert.match(output, /^\/gnu\/store\/[0-9a-z]{32}-hello$/);
    const real = join(env.KILN_REAL_STORE_DIR, output.slice("/gnu/store/".length));
    assert.match(
      spawnSync("cat", [real], { encoding: "utf8" }).stdout,
      /hostname localhost, 1 processes visible/,
    );
  } finally {
    await daemon.stop();
  }
});
