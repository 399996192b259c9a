import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { Derivation, DerivationOutput } from "@kiln/formats/derivation";
import { computeDerivationOutputs } from "@kiln/formats/derivation-outputs";
import { printDerivation } from "@kiln/formats/print-derivation";
import { TempRoots } from "@kiln/gc/temp-roots";
import { LocalStore } from "@kiln/store/local-store";
import { requirePeer } from "@kiln/testkit";
import { runKilnWith as kiln } from "./run-kiln.ts";
import { asNobody, kilnScratch, requireRoot, startKilnDaemon } from "./start-kiln-daemon.ts";

function scratch(storeDir = "/gnu/store") {
  const { root, env } = kilnScratch("kiln-gc-cli-", storeDir);
  const store = LocalStore.open({
    storeDir,
    realStoreDir: env.KILN_REAL_STORE_DIR,
    stateDir: env.KILN_STATE_DIR,
  });
  const rootsDir = join(env.KILN_STATE_DIR, "kiln", "gcroots");
  mkdirSync(rootsDir, { recursive: true });
  const text = (name: string, references: string[] = [], size = 0) =>
    store.addTextToStore(name, `${name}\n`.padEnd(size, "."), references);
  return { root, env, store, rootsDir, text };
}

test("kiln gc collects what no root reaches and reports what it freed", async () => {
  const { env, store, rootsDir, text } = scratch();
  const lib = await text("lib");
  const app = await text("app", [lib]);
  const dead = await text("dead", [lib], 5000);
  symlinkSync(app, join(rootsDir, "app"));
  assert.equal(kiln(["gc", "--list-dead"], env).stdout, `${dead}\n`);
  assert.equal(
    kiln(["gc", "--list-live"], env).stdout,
    [app, lib]
      .sort()
      .map((p) => `${p}\n`)
      .join(""),
  );
  assert.equal(kiln(["gc", "--list-roots"], env).stdout, `${join(rootsDir, "app")} -> ${app}\n`);
  const run = kiln(["gc"], env);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stderr, /freed 0\.00 MiBs \(1 store paths deleted\)/);
  assert.equal(store.isValidPath(dead), false);
  assert.equal(existsSync(store.realPath(dead)), false);
  assert.ok(store.isValidPath(app) && store.isValidPath(lib));
  assert.equal(kiln(["gc", "--list-dead"], env).stdout, "");
});

test("-C MIN and -F stop once enough is freed; -D refuses live paths", async () => {
  const { env, store, rootsDir, text } = scratch();
  const dead: string[] = [];
  for (let i = 0; i < 12; i++) dead.push(await text(`big${i}`, [], 100 * 1024));
  const live = await text("live");
  symlinkSync(live, join(rootsDir, "live"));
  const some = kiln(["gc", "-C", "250KiB"], env);
  assert.equal(some.status, 0, some.stderr);
  const deleted = dead.filter((path) => !store.isValidPath(path)).length;
  assert.ok(deleted >= 3 && deleted < 12, `${deleted} deleted`);
  assert.match(some.stderr, new RegExp(`\\(${deleted} store paths deleted\\)`));

  const refused = kiln(["gc", "-D", live], env);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, new RegExp(`cannot delete path ${live} since it is still alive`));
  const remaining = dead.filter((path) => store.isValidPath(path));
  const one = kiln(["gc", "-D", remaining[0]], env);
  assert.equal(one.status, 0, one.stderr);
  assert.match(one.stderr, new RegExp(`deleting ${remaining[0]}`));
  assert.equal(store.isValidPath(remaining[0]), false);

  // -F: with everything on the disk "needed", all the garbage goes; with 1 byte, nothing.
  assert.match(
    kiln(["gc", "-F", "1"], env).stderr,
    /already .* MiBs available on \/gnu\/store, nothing to do/,
  );
  const all = kiln(["gc", "-F", "1000000T"], env);
  assert.equal(all.status, 0, all.stderr);
  assert.match(all.stderr, /freeing .* MiBs/);
  assert.deepEqual(
    dead.filter((path) => store.isValidPath(path)),
    [],
  );
  assert.ok(store.isValidPath(live));
});

test("queries: references, referrers, requisites, derivers, busy, failures", async () => {
  const { env, root, store, rootsDir, text } = scratch();
  const lib = await text("lib");
  const app = await text("app", [lib]);
  symlinkSync(app, join(rootsDir, "app"));
  const result = join(root, "result");
  symlinkSync(app, result);
  assert.equal(kiln(["gc", "--references", app], env).stdout, `${lib}\n`);
  assert.equal(kiln(["gc", "--referrers", lib], env).stdout, `${app}\n`);
  assert.equal(
    kiln(["gc", "-R", result], env).stdout,
    [app, lib]
      .sort()
      .map((p) => `${p}\n`)
      .join(""),
  );
  assert.equal(kiln(["gc", "--derivers", app], env).stdout, "");
  const roots = TempRoots.open(store.config, { tag: "cli" });
  await roots.add(lib);
  const unlock = await store.lockPaths([`${lib}-building`]);
  assert.equal(kiln(["gc", "--list-busy"], env).stdout, `${lib}\n${lib}-building\n`);
  unlock();
  roots.close();
  store.db.registerFailedPath(`${lib}-failed`);
  assert.equal(kiln(["gc", "--list-failures"], env).stdout, `${lib}-failed\n`);
  assert.equal(kiln(["gc", "--clear-failures", `${lib}-failed`], env).status, 0);
  assert.equal(kiln(["gc", "--list-failures"], env).stdout, "");
});

test("--verify, --optimize, and usage errors", async () => {
  const { env, store, rootsDir, text } = scratch();
  const a = await text("a", [], 4096);
  const b = await store.addTextToStore("b", `a\n`.padEnd(4096, "."));
  const c = await text("c");
  for (const path of [a, b, c]) symlinkSync(path, join(rootsDir, path.slice(11)));
  const optimize = kiln(["gc", "--optimize"], env);
  assert.equal(optimize.status, 0, optimize.stderr);
  assert.match(optimize.stderr, /^1 of 3 files hard-linked, 0\.00 MiBs saved$/m);
  const { lstatSync } = await import("node:fs");
  assert.equal(lstatSync(store.realPath(a)).ino, lstatSync(store.realPath(b)).ino);
  const verify = kiln(["gc", "--verify=contents"], env);
  assert.equal(verify.status, 0, verify.stderr);
  assert.equal(verify.stdout, "checked 3 paths: store is clean\n");
  chmodSync(store.realPath(c), 0o644);
  writeFileSync(store.realPath(c), "corrupted");
  const broken = kiln(["gc", "--verify=contents"], env);
  assert.equal(broken.status, 1);
  assert.match(broken.stderr, new RegExp(`path ${c}: registered`));
  assert.match(broken.stderr, /kiln: error: the store is not consistent/);
  const repaired = kiln(["gc", "--verify=contents,repair"], env);
  assert.equal(repaired.status, 0, repaired.stderr);
  assert.equal(store.isValidPath(c), false);
  for (const [args, message] of [
    [["gc", "--verify=everything"], /everything: invalid '--verify' option/],
    [["gc", "--list-dead", "--list-live"], /choose one action, not --list-dead and --list-live/],
    [["gc", "/gnu/store/x"], /extraneous arguments: \/gnu\/store\/x/],
    [["gc", "-d", "3x"], /"3x" does not denote a duration/],
    [["gc", "--gc-keep-outputs=maybe"], /takes yes or no/],
  ] as const) {
    const run = kiln(args, env);
    assert.equal(run.status, 2, `${args.join(" ")}: ${run.stderr}`);
    assert.match(run.stderr, message);
  }
  const badSize = kiln(["gc", "-C", "5X"], env);
  assert.equal(badSize.status, 1);
  assert.match(badSize.stderr, /unknown unit: X/);
});

test("-d deletes old generations of the users' profiles before collecting", async () => {
  const { env, root, store } = scratch();
  const dir = join(root, "pkg");
  mkdirSync(join(dir, "bin"), { recursive: true });
  writeFileSync(join(dir, "bin", "x"), "x");
  const item = await store.addToStore(dir, { name: "x-1" });
  const home = join(root, "home");
  mkdirSync(home);
  const pkgEnv = { ...env, HOME: home, USER: "ada" };
  assert.equal(kiln(["package", "-i", item], pkgEnv).status, 0);
  assert.equal(kiln(["package", "-r", "x"], pkgEnv).status, 0);
  const profileDir = join(env.KILN_STATE_DIR, "kiln", "profiles", "per-user", "ada");
  const { lutimesSync } = await import("node:fs");
  const old = new Date(Date.now() - 40 * 24 * 3600 * 1000);
  lutimesSync(join(profileDir, "kiln-profile-1-link"), old, old);
  const run = kiln(["gc", "-d", "1m"], env);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stderr, /deleting .*kiln-profile-1-link/);
  assert.deepEqual(
    readdirSync(profileDir).filter((n) => n.endsWith("-link")),
    ["kiln-profile-2-link"],
  );
  assert.equal(store.isValidPath(item), false, "x was only in generation 1");
});

/**
 * The proof: builds (real, sandboxed) and adds in this process while `kiln gc`
 * loops in another; afterwards every build result and rooted path is intact and
 * everything unreachable is gone.
 */
test("stress: 200 builds and adds while kiln gc loops", async (t) => {
  if (!requirePeer(t, "bwrap", "bubblewrap")) return;
  const { buildDerivations } = await import("@kiln/builder/build-derivations");
  const { root, env, store, rootsDir, text } = scratch("/nix/store");
  const source = join(root, "busybox-source");
  mkdirSync(join(source, "bin"), { recursive: true });
  copyFileSync("/bin/busybox", join(source, "bin", "busybox"));
  chmodSync(join(source, "bin", "busybox"), 0o555);
  const busybox = await store.addToStore(source, { name: "busybox" });
  symlinkSync(busybox, join(rootsDir, "busybox"));
  for (let i = 0; i < 200; i++) await text(`garbage-${i}`); // work for the collector
  const stop = join(root, "stop");
  const loop = spawn(
    "bash",
    [
      "-c",
      `n=0; while [ ! -e "$STOP" ]; do "$NODE" "$KILN" gc >/dev/null 2>>"$LOG" || exit 1; n=$((n+1)); done; echo $n`,
    ],
    {
      env: {
        ...process.env,
        ...env,
        STOP: stop,
        NODE: process.execPath,
        KILN: new URL("../bin/kiln.js", import.meta.url).pathname,
        LOG: join(root, "gc.log"),
      },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let loopOutput = "";
  loop.stdout.on("data", (chunk) => {
    loopOutput += chunk;
  });
  const exited = new Promise<number | null>((resolve) => loop.on("exit", resolve));

  const roots = TempRoots.open(store.config, { tag: "stress" });
  const held: string[] = [];
  const rooted: string[] = [];
  let previousOut: string | undefined;
  for (let i = 0; i < 200; i++) {
    let path: string;
    if (i % 2 === 0) {
      // A build, depending on the previous build's output half of the time.
      const inputSrcs = [busybox, ...(previousOut && i % 4 === 0 ? [previousOut] : [])].sort();
      const outputs = new Map<string, DerivationOutput>([
        ["out", { path: "", hashAlgo: "", hash: "" }],
      ]);
      const script = `echo build ${i} ${inputSrcs.join(" ")} > $out`;
      const bare: Derivation = {
        outputs,
        inputDrvs: new Map(),
        inputSrcs,
        system: "x86_64-linux",
        builder: `${busybox}/bin/busybox`,
        args: ["sh", "-c", script],
        env: new Map([
          ["name", `stress-${i}`],
          ["out", ""],
        ]),
      };
      const drv = computeDerivationOutputs(bare, { resolve: () => bare, storeDir: "/nix/store" });
      const out = drv.outputs.get("out")!.path;
      // As the daemon does for a client: root inputs, the .drv and the outputs first.
      await roots.add(inputSrcs);
      const { derivationPath } = await import("@kiln/formats/derivation-outputs");
      await roots.add([derivationPath(drv, { storeDir: "/nix/store" }), out]);
      const drvPath = await store.addTextToStore(
        `stress-${i}.drv`,
        printDerivation(drv),
        inputSrcs,
      );
      const [result] = await buildDerivations(store, [drvPath]);
      assert.equal(result.status, "built", result.error?.message);
      path = out;
      previousOut = out;
    } else {
      const name = `added-${i}`;
      const { makeTextPath } = await import("@kiln/formats/make-store-path");
      path = makeTextPath(name, `${name}\n`, { storeDir: "/nix/store" });
      await roots.add(path);
      await text(name);
    }
    held.push(path);
    if (i % 5 === 0) {
      symlinkSync(path, join(rootsDir, `stress-${i}`));
      rooted.push(path);
    }
    for (const h of held.slice(-10))
      assert.ok(store.isValidPath(h) && existsSync(store.realPath(h)), h);
  }
  for (const h of held) assert.ok(store.isValidPath(h) && existsSync(store.realPath(h)), h);
  writeFileSync(stop, "");
  assert.equal(await exited, 0, "the kiln gc loop failed");
  assert.ok(Number(loopOutput) >= 2, `kiln gc ran ${loopOutput.trim()} times`);
  roots.close();

  const final = kiln(["gc"], env);
  assert.equal(final.status, 0, final.stderr);
  const live = kiln(["gc", "--list-live"], env).stdout.trim().split("\n");
  // The closure of the roots, with the derivations of live outputs (keep-derivations).
  let expected = new Set([...rooted, busybox]);
  for (let size = 0; size !== expected.size; ) {
    size = expected.size;
    const derivers = [...expected].map((p) => store.requirePathInfo(p).deriver);
    expected = new Set(
      store.requisites([...expected, ...derivers.filter((d): d is string => !!d)]),
    );
  }
  assert.deepEqual(live, [...expected].sort());
  assert.deepEqual(store.db.allValidPaths(), live);
  const verify = kiln(["gc", "--verify=contents"], env);
  assert.equal(verify.status, 0, verify.stderr);
});

test("with a daemon running, kiln gc goes through it: a user who cannot open the store collects", async (t) => {
  if (!requireRoot(t, "run the daemon as the store's owner and kiln gc as nobody")) return;
  const { root, env, store, rootsDir, text } = scratch();
  const lib = await text("lib");
  const app = await text("app", [lib]);
  const dead = await text("dead", [lib], 5000);
  symlinkSync(app, join(rootsDir, "app"));
  store.close();
  const daemon = await startKilnDaemon(env);
  try {
    const nobody = (args: string[]) => asNobody(args, env);
    // nobody may not write to the store or its database: what is deleted below, the
    // daemon deleted.
    assert.equal(nobody(["gc", "--list-dead"]).stdout, `${dead}\n`);
    assert.equal(nobody(["gc", "--list-roots"]).stdout, `${join(rootsDir, "app")} -> ${app}\n`);
    assert.equal(nobody(["gc", "-R", app]).stdout, `${[app, lib].sort().join("\n")}\n`);
    assert.equal(nobody(["gc", "--referrers", lib]).stdout, `${[app, dead].sort().join("\n")}\n`);
    const refused = nobody(["gc", "-D", app]);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /alive|live|root/i);
    const collected = nobody(["gc"]);
    assert.equal(collected.status, 0, collected.stderr);
    assert.match(collected.stderr, /freed .* \(1 store paths deleted\)/);
    assert.equal(existsSync(join(root, "store", dead.slice("/gnu/store/".length))), false);
    assert.equal(existsSync(join(root, "store", app.slice("/gnu/store/".length))), true);
    const verified = nobody(["gc", "--verify=contents"]);
    assert.equal(verified.status, 0, verified.stderr);
    assert.match(verified.stdout, /clean/);
  } finally {
    await daemon.stop();
  }
});
