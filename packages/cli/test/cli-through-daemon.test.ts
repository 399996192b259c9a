/**
 * With a daemon running, the kiln CLI goes through it (as guix does through guix-daemon):
 * an unprivileged user, who cannot touch the store directly, adds, queries and builds
 * through the daemon's socket; the build runs in the daemon's sandbox.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { requirePeer } from "@kiln/testkit";

const KILN = new URL("../bin/kiln.js", import.meta.url).pathname;
const EXAMPLE = new URL("../../../examples/hello.drv", import.meta.url).pathname;

function asNobody(args: string[], env: Record<string, string>) {
  const assignments = Object.entries(env).map(([key, value]) => `${key}='${value}'`);
  const quoted = [process.execPath, KILN, ...args].map((arg) => `'${arg}'`).join(" ");
  return spawnSync(
    "su",
    ["nobody", "-s", "/bin/sh", "-c", `cd /tmp && env ${assignments.join(" ")} ${quoted}`],
    { encoding: "utf8" },
  );
}

test("an unprivileged user adds, queries and builds through the daemon", async (t) => {
  if (!requirePeer(t, "bwrap", "bubblewrap")) return;
  if (process.getuid?.() !== 0) {
    t.skip("needs root, to run the daemon as its owner and the client as nobody");
    return;
  }
  const scratch = mkdtempSync(join(tmpdir(), "kiln-via-daemon-"));
  chmodSync(scratch, 0o755);
  const env = {
    KILN_STORE_DIR: "/gnu/store",
    KILN_REAL_STORE_DIR: join(scratch, "store"),
    KILN_STATE_DIR: join(scratch, "state"),
  };
  const chroot = ["/bin/sh", "/lib", "/lib64", "/usr"].flatMap((path) => [
    "--chroot-directory",
    path,
  ]);
  const daemon: ChildProcess = spawn(process.execPath, [KILN, "daemon", "--debug", ...chroot], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let daemonLog = "";
  daemon.stderr?.on("data", (chunk) => (daemonLog += chunk));
  try {
    const socket = join(env.KILN_STATE_DIR, "kiln", "daemon-socket", "socket");
    for (let i = 0; i < 200 && !existsSync(socket); i++) await sleep(50);
    assert.ok(existsSync(socket), `the daemon did not start: ${daemonLog}`);
    for (const dir of [env.KILN_STATE_DIR, join(env.KILN_STATE_DIR, "kiln")]) chmodSync(dir, 0o755);

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
    daemon.kill("SIGTERM");
    await new Promise((resolve) => daemon.once("exit", resolve));
  }
});
