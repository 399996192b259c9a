/**
 * How builds run, end to end: under build users when root, without isolation with
 * `disableChroot`, and interrupted by an abort.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { KilnError } from "@kiln/formats/kiln-error";
import { requirePeer } from "@kiln/testkit";
import { buildDerivations } from "../src/build-derivations.ts";
import { BuildUserPool } from "../src/build-user-pool.ts";
import type { BuildUser } from "../src/build-users.ts";
import { createBuildTestStore } from "./build-test-store.ts";

const isRoot = process.getuid?.() === 0;

describe("build users (as root)", { skip: !isRoot && "needs root" }, () => {
  const group = `kilnt${randomBytes(3).toString("hex")}`;
  const users: BuildUser[] = [];
  const run = (command: string, args: string[]) => {
    const result = spawnSync(command, args, { encoding: "utf8" });
    assert.equal(result.status, 0, `${command}: ${result.stderr}`);
    return result.stdout.trim();
  };
  before(() => {
    run("groupadd", ["--system", group]);
    for (const i of [1, 2]) {
      const name = `${group}u${i}`;
      run("useradd", [
        "--system",
        "-g",
        group,
        "-M",
        "-d",
        "/var/empty",
        "-s",
        "/usr/sbin/nologin",
        name,
      ]);
      users.push({
        name,
        uid: Number(run("id", ["-u", name])),
        gid: Number(run("id", ["-g", name])),
      });
    }
  });
  after(() => {
    for (const user of users) spawnSync("userdel", [user.name]);
    spawnSync("groupdel", [group]);
  });

  test("concurrent builds run under distinct build users; the store owns their outputs", async (ctx) => {
    if (!requirePeer(ctx, "bwrap", "bubblewrap")) return;
    const t = await createBuildTestStore();
    ctx.after(() => t.dispose());
    const script = "mkdir $out; id -u > $out/uid; id -g > $out/gid; sleep 0.3";
    const drvs = [
      await t.addDerivation({ name: "u1", script }),
      await t.addDerivation({ name: "u2", script }),
    ];
    const pool = new BuildUserPool(users);
    const results = await buildDerivations(
      t.store,
      drvs.map((d) => d.drvPath),
      {
        maxJobs: 2,
        buildUserPool: pool,
      },
    );
    assert.deepEqual(
      results.map((r) => r.status),
      ["built", "built"],
      results.map((r) => r.error?.message).join(),
    );
    const uids = drvs.map(({ drv }) =>
      Number(readFileSync(`${t.store.realPath(t.output(drv))}/uid`, "utf8")),
    );
    assert.deepEqual(uids.sort(), users.map((u) => u.uid).sort());
    for (const { drv } of drvs) {
      const real = t.store.realPath(t.output(drv));
      for (const path of [real, `${real}/uid`]) {
        const stat = statSync(path);
        assert.deepEqual([stat.uid, stat.gid], [0, 0], `${path} belongs to the store owner`);
      }
    }
    assert.equal(pool.available, 2, "the users went back to the pool");
  });
});

describe("--disable-chroot", () => {
  test("builds in place, with a warning; a failure leaves nothing in the store", async (ctx) => {
    const t = await createBuildTestStore("/nix/store", { inPlace: true });
    ctx.after(() => t.dispose());
    const good = await t.addDerivation({ name: "host", script: "echo $NIX_BUILD_TOP > $out" });
    const warnings: string[] = [];
    const reporter = {
      planned() {},
      started() {},
      output() {},
      finished() {},
      warning: (message: string) => warnings.push(message),
    };
    const [result] = await buildDerivations(t.store, [good.drvPath], {
      disableChroot: true,
      reporter,
    });
    assert.equal(result.status, "built", result.error?.message);
    assert.match(warnings.join("\n"), /without isolation/);
    assert.deepEqual(result.warnings, warnings);
    const out = t.output(good.drv);
    // The build tree is on the host: its path is what the builder saw.
    assert.match(readFileSync(out, "utf8"), /\/kiln\/builds\/host-.*\/build\/top\n$/);
    assert.equal(t.store.queryPathInfo(out)?.deriver, good.drvPath);

    const bad = await t.addDerivation({ name: "host-bad", script: "echo partial > $out; exit 1" });
    const [failed] = await buildDerivations(t.store, [bad.drvPath], {
      disableChroot: true,
      reporter,
    });
    assert.equal(failed.status, "failed");
    const name = t.output(bad.drv).slice(t.store.config.storeDir.length + 1);
    assert.deepEqual(
      readdirSync(t.store.config.realStoreDir).filter((n) => n.startsWith(name)),
      [],
    );
  });

  test("needs the store at its logical place, and refuses --check", async (ctx) => {
    const t = await createBuildTestStore("/nix/store");
    ctx.after(() => t.dispose());
    const d = await t.addDerivation({ name: "elsewhere", script: "echo > $out" });
    const [result] = await buildDerivations(t.store, [d.drvPath], { disableChroot: true });
    assert.equal(result.status, "failed");
    assert.match(result.error!.message, /must be at \/nix\/store/);
    const inPlace = await createBuildTestStore("/nix/store", { inPlace: true });
    ctx.after(() => inPlace.dispose());
    const e = await inPlace.addDerivation({ name: "checked", script: "echo > $out" });
    await buildDerivations(inPlace.store, [e.drvPath], { disableChroot: true });
    const [check] = await buildDerivations(inPlace.store, [e.drvPath], {
      disableChroot: true,
      check: true,
    });
    assert.ok(
      check.error instanceof KilnError && /--check needs the sandbox/.test(check.error.message),
    );
  });
});

describe("aborting", () => {
  test("kills the running build, starts no other, registers nothing", async (ctx) => {
    if (!requirePeer(ctx, "bwrap", "bubblewrap")) return;
    const t = await createBuildTestStore();
    ctx.after(() => t.dispose());
    const slow = await t.addDerivation({ name: "slow", script: "echo > $out; sleep 30" });
    const next = await t.addDerivation({
      name: "next",
      script: "echo > $out",
      inputDrvs: { [slow.drvPath]: ["out"] },
    });
    const other = await t.addDerivation({ name: "other", script: "sleep 30; echo > $out" });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const started = performance.now();
    const results = await buildDerivations(t.store, [next.drvPath, other.drvPath], {
      signal: controller.signal,
      maxJobs: 1,
    });
    assert.ok(performance.now() - started < 5000, "returned promptly");
    const status = new Map(results.map((r) => [r.drvPath, r]));
    const ran = [slow.drvPath, other.drvPath].filter((p) => status.get(p)?.status === "failed");
    assert.equal(ran.length, 1, "one build ran and was interrupted");
    assert.equal(status.get(ran[0])?.error?.code, "ERR_BUILD_ABORTED");
    for (const result of results) {
      if (result.drvPath !== ran[0]) assert.notEqual(result.status, "built");
    }
    for (const { drv } of [slow, next, other])
      assert.equal(t.store.isValidPath(t.output(drv)), false);
  });
});
