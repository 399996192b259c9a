/**
 * Stress: clients add paths and "build" derivations in four processes while a collector
 * loops in a fifth. Afterwards every rooted path is intact, the clients never saw a path
 * they held disappear (stress-client.ts checks after every step), and once the clients
 * are gone one more collection leaves exactly the closure of the permanent roots.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { verifyStore } from "@kiln/store/verify-store";
import { collectGarbage } from "../src/collect-garbage.ts";
import { gcTestStore } from "./gc-test-store.ts";

const run = promisify(execFile);
const here = new URL(".", import.meta.url).pathname;

test("200 adds and builds in four clients while a collector loops: nothing held is lost", async () => {
  const { store, root, add } = gcTestStore();
  // Garbage for the collector to chew on from the start.
  for (let i = 0; i < 300; i++) await add(`old-${i}`);
  const config = JSON.stringify(store.config);
  const stop = join(root, "stop");
  const collector = run(process.execPath, [join(here, "gc-child.ts"), config, "loop", stop]);
  const clients = await Promise.all(
    [1, 2, 3, 4].map((id) =>
      run(process.execPath, [join(here, "stress-client.ts"), config, String(id), "50"]),
    ),
  );
  writeFileSync(stop, "");
  const { runs } = JSON.parse((await collector).stdout) as { runs: number };
  assert.ok(runs >= 2, `the collector ran ${runs} times`);
  const results = clients.map((c) => JSON.parse(c.stdout) as { rooted: string[]; used: string[] });
  const rooted = results.flatMap((r) => r.rooted);
  assert.ok(rooted.length > 0);

  // The clients have exited: their temporary roots are stale, only permanent roots count.
  await collectGarbage(store);
  // The closure of the roots, with the derivations of live outputs (keep-derivations).
  let expected = new Set(rooted);
  for (let size = 0; size !== expected.size; ) {
    size = expected.size;
    const derivers = [...expected].map((path) => store.requirePathInfo(path).deriver);
    expected = new Set(
      store.requisites([...expected, ...derivers.filter((d): d is string => !!d)]),
    );
  }
  const valid = store.db.allValidPaths();
  assert.deepEqual(valid, [...expected].sort());
  const onDisk = readdirSync(store.config.realStoreDir).filter((name) => !name.startsWith("."));
  assert.deepEqual(onDisk.sort(), valid.map((p) => p.slice("/gnu/store/".length)).sort());
  const report = await verifyStore(store, { checkContents: true });
  assert.ok(report.clean, JSON.stringify(report));
});
