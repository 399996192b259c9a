/**
 * The daemon substitutes before building: `kiln build` through a running `kiln daemon
 * --substitute-urls URL` fetches an output that a cache made by real Nix offers, signed by
 * a key in the daemon's ACL, instead of building it.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createPrivateNixStore, requirePeer, serveStaticDirectory } from "@kiln/testkit";
import { exportClosure, realiseIntoNixCache } from "./nix-cache.ts";
import { runKilnAsync } from "./run-kiln.ts";

const KILN = new URL("../bin/kiln.js", import.meta.url).pathname;

test("kiln build through the daemon gets a trusted substitute instead of building", async (t) => {
  if (!requirePeer(t, "nix-store")) return;
  if (!requirePeer(t, "bwrap", "bubblewrap")) return;
  const nix = createPrivateNixStore("/nix/store");
  const scratch = mkdtempSync(join(tmpdir(), "kiln-daemon-subst-"));
  const cacheDir = join(scratch, "cache");
  const server = await serveStaticDirectory(cacheDir);
  const { url, requests } = server;
  let daemon: ChildProcess | undefined;
  try {
    const expr =
      'derivation { name = "via-daemon"; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "echo from the cache > $out" ]; }';
    const drv = nix.run("nix-instantiate", ["--expr", expr]).toString().trim();
    const { out, publicKeyFile } = realiseIntoNixCache(nix, drv, {
      cacheDir,
      keysDir: scratch,
      keyName: "daemon-cache-1",
      compression: "xz",
    });
    const configDir = join(scratch, "etc");
    mkdirSync(configDir);
    writeFileSync(join(configDir, "acl"), readFileSync(publicKeyFile));
    const env = {
      KILN_STORE_DIR: "/nix/store",
      KILN_REAL_STORE_DIR: join(scratch, "store"),
      KILN_STATE_DIR: join(scratch, "state"),
      KILN_CONFIG_DIR: configDir,
    };
    const archive = exportClosure(nix, drv);
    assert.equal((await runKilnAsync(["archive", "--import"], { env, input: archive })).status, 0);

    daemon = spawn(process.execPath, [KILN, "daemon", "--substitute-urls", url], {
      env: { ...process.env, ...env },
      stdio: "ignore",
    });
    const socket = join(env.KILN_STATE_DIR, "kiln", "daemon-socket", "socket");
    for (let i = 0; i < 200 && !existsSync(socket); i++) await sleep(50);
    const built = await runKilnAsync(["build", drv], { env });
    assert.equal(built.status, 0, built.stderr);
    assert.equal(built.stdout.trim(), out);
    assert.ok(
      requests.some((path) => path.startsWith("/nar/")),
      `the nar was downloaded: ${requests.join(" ")}`,
    );
    const log = await runKilnAsync(["build", "--log-file", drv], { env });
    assert.notEqual(log.status, 0, "nothing was built, so there is no build log");
    const info = JSON.parse(
      (await runKilnAsync(["store", "path-info", "--json", out], { env })).stdout,
    )[0];
    assert.equal(
      info.narHash,
      JSON.parse(nix.run("nix", ["path-info", "--json", out]).toString())[0].narHash,
    );
  } finally {
    daemon?.kill("SIGTERM");
    if (daemon) await new Promise((resolve) => daemon?.once("exit", resolve));
    await server.close();
    nix.dispose();
  }
});
