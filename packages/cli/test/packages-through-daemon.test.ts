/**
 * Packages through the daemon, as `guix build` goes through guix-daemon: an unprivileged
 * user (nobody, who cannot touch the store) imports the bootstrap seeds and builds a
 * package of the sample channel by name; the client lowers it and sends the sources and
 * `.drv` files to the daemon, which builds them. The `.drv` is the one a direct build
 * (no daemon) computes.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parseDerivation } from "@kiln/formats/parse-derivation";
import { bootstrapFor } from "@kiln/packages/bootstrap-seeds";
import { requirePeer } from "@kiln/testkit";
import { runKiln } from "./run-kiln.ts";
import { asNobody, kilnScratch, requireRoot, startKilnDaemon } from "./start-kiln-daemon.ts";

const SAMPLE = new URL("../../../channels/sample", import.meta.url).pathname;

test("nobody imports the seeds and builds a package by name through the daemon", async (t) => {
  if (!requirePeer(t, "bwrap", "bubblewrap")) return;
  if (!requireRoot(t, "run the daemon as its owner and the client as nobody")) return;
  const { root: scratch, env } = kilnScratch("kiln-packages-daemon-");
  t.after(() => rmSync(scratch, { recursive: true, force: true }));
  const daemon = await startKilnDaemon(env);
  try {
    const channel = ["--channel", SAMPLE];

    const noSeeds = asNobody(["build", ...channel, "hello"], env);
    assert.equal(noSeeds.status, 1);
    assert.match(noSeeds.stderr, /bootstrap seeds are not in the store/);
    assert.match(noSeeds.stderr, /kiln bootstrap import/);

    const seeds = asNobody(["bootstrap", "import"], env);
    assert.equal(seeds.status, 0, seeds.stderr);
    assert.equal(seeds.stdout.trim(), bootstrapFor("/gnu/store").busybox);

    const drv = asNobody(["build", "-d", ...channel, "hello"], env);
    assert.equal(drv.status, 0, drv.stderr);
    const drvPath = drv.stdout.trim();
    assert.match(drvPath, /^\/gnu\/store\/[0-9a-z]{32}-hello-2\.12\.drv$/);

    const built = asNobody(["build", ...channel, "hello"], env);
    assert.equal(built.status, 0, `${built.stderr}\n${daemon.log()}`);
    const real = (path: string) => join(env.KILN_REAL_STORE_DIR, path.slice("/gnu/store/".length));
    const derivation = parseDerivation(readFileSync(real(drvPath), "utf8"));
    assert.deepEqual(
      built.stdout.trim().split("\n").sort(),
      [...derivation.outputs.values()].map((output) => output.path).sort(),
    );
    const out = derivation.outputs.get("out")!.path;
    assert.ok(existsSync(real(`${out}/bin/hello`)), "hello was installed");

    const source = asNobody(["build", "-S", ...channel, "hello"], env);
    assert.equal(source.status, 0, source.stderr);
    assert.match(source.stdout, /^\/gnu\/store\/[0-9a-z]{32}-hello-2\.12-source\n$/);
    assert.ok(existsSync(real(source.stdout.trim())));

    // The same .drv as the store's owner computes without a daemon, in a store of its own.
    const direct = {
      KILN_STORE_DIR: "/gnu/store",
      KILN_REAL_STORE_DIR: join(scratch, "direct-store"),
      KILN_STATE_DIR: join(scratch, "direct-state"),
    };
    assert.equal(runKiln(["bootstrap", "import"], { env: direct }).status, 0);
    const directDrv = runKiln(["build", "-d", ...channel, "hello"], { env: direct });
    assert.equal(directDrv.status, 0, directDrv.stderr);
    assert.equal(directDrv.stdout.trim(), drvPath);
  } finally {
    await daemon.stop();
  }
});
