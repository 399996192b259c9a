/**
 * The whole sample channel builds in the sandbox (bubblewrap, no host path visible) from
 * the bootstrap busybox seed only, in a scratch store whose logical directory is
 * `/gnu/store`. Each package's own checks run inside its build; here we check the results.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { findPackage, loadChannel, lowerChannel } from "@kiln/packages";
import { requirePeer } from "@kiln/testkit";
import { seededStore } from "./seeded-store.ts";

const sample = fileURLToPath(new URL("../../../channels/sample", import.meta.url));

test("every package of the sample channel builds offline from the busybox seed", async (t) => {
  if (!requirePeer(t, "bwrap", "bubblewrap")) return;
  const { store, bootstrap, build, dispose } = await seededStore("kiln-sample-build-");
  try {
    const channel = await loadChannel(sample);
    const lowered = await lowerChannel(channel, {
      system: "x86_64-linux",
      storeDir: "/gnu/store",
      bootstrap,
      store,
    });
    assert.ok(lowered.size >= 30);
    const { results, failures } = await build(
      [...lowered.values()].map(({ drvPath }) => drvPath),
      { maxJobs: 2, keepGoing: true },
    );
    assert.deepEqual(failures, []);
    assert.equal(results.filter((result) => result.requested).length, lowered.size);
    const out = (name: string, output = "out") =>
      store.realPath(lowered.get(findPackage(channel.packages, name))!.outputs[output]!);
    const hello = readFileSync(join(out("hello"), "bin", "hello"), "utf8");
    assert.match(hello, /Hello from the Kiln sample channel!/, "the greeting input was used");
    assert.match(
      hello,
      new RegExp(`^#!${bootstrap.busybox}/bin/busybox sh`),
      "shebang patched to the seed",
    );
    assert.match(readFileSync(join(out("hello@2.10"), "bin", "hello"), "utf8"), /Hello, world!/);
    assert.match(
      readFileSync(join(out("hello", "doc"), "share", "doc", "hello", "README"), "utf8"),
      /greeting/,
    );
    const members = readFileSync(
      join(out("shell-utils"), "share", "shell-utils", "members"),
      "utf8",
    );
    assert.equal(members.trim().split("\n").length, 3, "propagated inputs were build inputs");
    const references = store.requirePathInfo(
      lowered.get(findPackage(channel.packages, "libcolor"))!.outputs.out!,
    ).references;
    assert.ok(
      references.some((path) => path.endsWith("-libtext-1.2")),
      "libcolor refers to libtext",
    );
  } finally {
    dispose();
  }
});
