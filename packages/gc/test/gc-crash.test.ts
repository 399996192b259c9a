/**
 * Crash: a collector killed with SIGKILL in the middle of a large deletion leaves a store
 * that verifies clean (no valid path with missing or changed files), and the next
 * collection finishes the job (the trash and unregistered leftovers go).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { formatHashNix32 } from "@kiln/formats/hash";
import { hashPath } from "@kiln/formats/hash-path";
import type { Registration } from "@kiln/store/store-database";
import { verifyStore } from "@kiln/store/verify-store";
import { collectGarbage } from "../src/collect-garbage.ts";
import { gcLayout } from "../src/gc-layout.ts";
import { gcTestStore } from "./gc-test-store.ts";

const here = new URL(".", import.meta.url).pathname;

test("kill -9 during a large deletion: the store verifies clean, the next collection finishes", async () => {
  const { store, pathOf, rootLink } = gcTestStore();
  // 2000 dead paths, half of them directories (so the trash is used), chained in pairs so
  // order matters, and a rooted closure that must survive.
  const registrations: Registration[] = [];
  const register = async (name: string, references: string[], tree: boolean) => {
    const path = pathOf(name);
    const real = store.realPath(path);
    if (tree) {
      mkdirSync(join(real, "sub"), { recursive: true });
      writeFileSync(join(real, "sub", "file"), `${name}\n${references.join("\n")}`);
      writeFileSync(join(real, "top"), name);
    } else {
      writeFileSync(real, `${name}\n${references.join("\n")}`);
    }
    const { hash, narSize } = await hashPath(real);
    registrations.push({ info: { path, narHash: formatHashNix32(hash), narSize, references } });
    return path;
  };
  for (let i = 0; i < 1000; i++) {
    const base = await register(`base-${i}`, [], i % 2 === 0);
    await register(`top-${i}`, [base], i % 2 === 1);
  }
  const liveBase = await register("live-base", [], true);
  const live = await register("live", [liveBase], false);
  store.db.registerValidPaths(registrations);
  for (const { info } of registrations) {
    utimesSync(store.realPath(info.path), 1, 1);
  }
  rootLink("live", live);

  const child = spawn(
    process.execPath,
    [join(here, "gc-child.ts"), JSON.stringify(store.config), "once"],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const killed = new Promise<string>((resolve) => {
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
      if (output.includes("deleted 500")) child.kill("SIGKILL");
    });
    child.on("exit", (_code, signal) => resolve(`${signal} ${output}`));
  });
  const outcome = await killed;
  assert.match(outcome, /^SIGKILL /, "the collector was killed before it finished");
  assert.doesNotMatch(outcome, /done/);
  const validAfterCrash = store.db.allValidPaths();
  assert.ok(
    validAfterCrash.length < 6002 && validAfterCrash.length > 2,
    `${validAfterCrash.length} valid`,
  );

  const { trashDir } = gcLayout(store.config);
  assert.ok(readdirSync(trashDir).length > 0, "the crash left deleted paths in the trash");

  const report = await verifyStore(store, { checkContents: true });
  assert.deepEqual(report.missing, []);
  assert.deepEqual(report.corrupted, []);
  assert.ok(report.clean);

  const { paths } = await collectGarbage(store);
  assert.deepEqual(store.db.allValidPaths(), [live, liveBase].sort());
  assert.equal(paths.length, validAfterCrash.length - 2);
  assert.deepEqual(store.db.allValidPaths(), [live, liveBase].sort());
  assert.deepEqual(readdirSync(trashDir), []);
  assert.deepEqual(
    readdirSync(store.config.realStoreDir)
      .filter((name) => !name.startsWith("."))
      .sort(),
    [live, liveBase].map((path) => path.slice("/gnu/store/".length)).sort(),
  );
  assert.ok((await verifyStore(store, { checkContents: true })).clean);
});
