/**
 * Builds hold temporary roots: a `kiln gc` that runs while a build is under way must
 * leave the derivations, inputs and outputs of the whole call alone (also the outputs of
 * builds that are already over, which no lock protects any more), although no GC root
 * points at any of them, and still delete what nothing uses.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { collectGarbage } from "@kiln/gc/collect-garbage";
import { kilnStateDir } from "@kiln/store/store-config";
import { requirePeer } from "@kiln/testkit";
import { buildDerivations } from "../src/build-derivations.ts";
import type { BuildReporter } from "../src/build-options.ts";
import { createBuildTestStore } from "./build-test-store.ts";

test("a collection during a build leaves its inputs and outputs alone", async (t) => {
  if (!requirePeer(t, "bwrap", "bubblewrap")) return;
  const s = await createBuildTestStore("/nix/store");
  try {
    const garbage = await s.addText("garbage", "nothing uses this\n");
    const data = await s.addText("data", "input contents\n");
    const { drvPath: depDrv, drv: dep } = await s.addDerivation({
      name: "dep",
      script: "echo dep > $out",
    });
    // Built first (one job at a time) and over when the collection runs.
    const { drvPath: quickDrv, drv: quick } = await s.addDerivation({
      name: "quick",
      script: "echo quick > $out",
    });
    const { drvPath, drv } = await s.addDerivation({
      name: "slow",
      inputSrcs: [data],
      inputDrvs: { [depDrv]: ["out"] },
      env: { data, dep: s.output(dep) },
      // Long enough for the collection below to run while it sleeps.
      script: "sleep 2; cat $data $dep > $out",
    });
    let collected: Promise<unknown> | undefined;
    const reporter: BuildReporter = {
      planned() {},
      started(started) {
        if (started === drvPath) collected = collectGarbage(s.store);
      },
      output() {},
      finished() {},
      warning() {},
    };
    const results = await buildDerivations(s.store, [quickDrv, drvPath], { reporter, maxJobs: 1 });
    await collected;
    assert.ok(collected, "the collection ran during the build");
    for (const result of results) assert.equal(result.status, "built", result.error?.message);
    assert.deepEqual(
      results.map((result) => result.drvPath),
      [quickDrv, depDrv, drvPath],
    );
    const kept = [s.busybox, data, depDrv, drvPath, quickDrv, s.output(quick), s.output(dep)];
    for (const path of [...kept, s.output(drv)]) {
      assert.ok(s.store.isValidPath(path), `${path} is still valid`);
      assert.ok(existsSync(s.store.realPath(path)), `${path} is still there`);
    }
    assert.equal(s.store.isValidPath(garbage), false, "the collection did delete garbage");
    // The build's roots file is gone with the build.
    const tempRoots = join(kilnStateDir(s.store.config), "temproots");
    assert.deepEqual(
      readdirSync(tempRoots).filter((name) => name.startsWith(`${process.pid}-build`)),
      [],
    );
  } finally {
    s.dispose();
  }
});
