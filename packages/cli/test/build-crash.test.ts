/**
 * Crash safety of builds: kill -9 the `kiln build` process while its builder runs, and
 * again while it is bringing a large output into the store; afterwards
 * `kiln store verify --check-contents` reports a clean store and no partial path is left.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createPrivateNixStore, requirePeer } from "@kiln/testkit";
import { runKiln } from "./run-kiln.ts";

const MAIN = new URL("../bin/kiln.js", import.meta.url).pathname;
const CHROOT = ["/bin/sh", "/lib", "/lib64", "/usr"].flatMap((path) => [
  "--chroot-directory",
  path,
]);

async function killDuring(
  env: Record<string, string>,
  drv: string,
  ready: () => boolean,
): Promise<void> {
  const child = spawn(process.execPath, [MAIN, "build", ...CHROOT, drv], {
    env: { ...process.env, ...env },
    stdio: "ignore",
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const deadline = Date.now() + 60_000;
  while (!ready() && Date.now() < deadline) await sleep(5);
  child.kill("SIGKILL");
  await exited;
}

test("kill -9 during a build and during registration leaves a store that verifies clean", async (t) => {
  if (!requirePeer(t, "nix-instantiate")) return;
  if (!requirePeer(t, "bwrap", "bubblewrap")) return;
  const nix = createPrivateNixStore("/nix/store");
  const scratch = mkdtempSync(join(tmpdir(), "kiln-build-crash-"));
  const realStore = join(scratch, "store");
  const env = {
    KILN_STORE_DIR: "/nix/store",
    KILN_REAL_STORE_DIR: realStore,
    KILN_STATE_DIR: join(scratch, "state"),
  };
  try {
    const drvs = nix
      .run("nix-instantiate", [
        "--expr",
        `[ (derivation { name = "slow"; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "echo started > $out.marker; /usr/bin/sleep 30; echo done > $out" ]; })
           (derivation { name = "big"; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "/usr/bin/mkdir $out; for i in 1 2 3 4 5 6 7 8; do /usr/bin/head -c 40000000 /dev/urandom > $out/f$i; done" ]; }) ]`,
      ])
      .toString()
      .trim()
      .split("\n");
    const closure = nix
      .run("nix-store", ["-qR", ...drvs])
      .toString()
      .trim()
      .split("\n");
    assert.equal(
      runKiln(["archive", "--import"], {
        env,
        input: nix.run("nix-store", ["--export", ...closure]),
      }).status,
      0,
    );
    const [slow, big] = drvs;
    const storeEntries = () => readdirSync(realStore);

    // 1. While the builder runs (it sleeps 30 s): its output's lock file holds the pid of
    //    the kiln process once the build is under way; the builder's own files are in the
    //    sandbox's store view, not ours.
    const lockedSince = { at: 0 };
    await killDuring(env, slow, () => {
      const lock = storeEntries().find((name) => name.endsWith("-slow.lock"));
      let pid = "";
      try {
        pid = lock ? readFileSync(join(realStore, lock), "utf8") : "";
      } catch {
        // gone between listing and reading: not ready
      }
      if (pid === "") return false;
      lockedSince.at ||= Date.now();
      return Date.now() - lockedSince.at > 300;
    });
    await sleep(200);
    // 2. While registering: the output is being moved, hashed and flushed into the store.
    await killDuring(env, big, () =>
      storeEntries().some((name) => /-big(\.kiln-new-\w+)?$/.test(name)),
    );

    const verify = runKiln(["store", "verify", "--check-contents"], { env });
    assert.equal(verify.status, 0, verify.stderr);
    assert.match(verify.stdout, /store is clean/);
    // Nothing partial is left: every entry is a valid path (no temporary copy, no lock), and
    // an output that made it into the store before the kill is registered (the kill may
    // land just before or just after registration; both are consistent states).
    const valid = new Set(closure.map((path) => path.slice("/nix/store/".length)));
    for (const drv of drvs) {
      const outputs = JSON.parse(runKiln(["derivation", "show", drv], { env }).stdout)[drv].outputs;
      const output = outputs.out.path as string;
      if (existsSync(join(realStore, output.slice("/nix/store/".length)))) {
        assert.equal(
          runKiln(["store", "path-info", output], { env }).status,
          0,
          `${output} exists but is not valid`,
        );
        valid.add(output.slice("/nix/store/".length));
      }
    }
    for (const name of storeEntries()) assert.ok(valid.has(name), `leftover ${name}`);
    // And the builds still work afterwards.
    const rebuilt = runKiln(["build", ...CHROOT, big], { env });
    assert.equal(rebuilt.status, 0, rebuilt.stderr);
  } finally {
    nix.dispose();
  }
});
