import assert from "node:assert/strict";
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { KilnError } from "@kiln/formats/kiln-error";
import { gcLayout } from "./gc-layout.ts";
import { TempRoots } from "./temp-roots.ts";
import { TempRootsReader } from "./temp-roots-reader.ts";

const config = () => {
  const root = mkdtempSync(join(tmpdir(), "kiln-temproots-"));
  return {
    storeDir: "/gnu/store",
    realStoreDir: join(root, "store"),
    stateDir: join(root, "state"),
  };
};
const p = (name: string) => `/gnu/store/${name.padEnd(32, "0")}-${name}`;

test("a client's roots are read as they are appended, whole lines only", async () => {
  const c = config();
  const roots = TempRoots.open(c, { tag: "one" });
  const reader = new TempRootsReader(gcLayout(c).tempRootsDir);
  assert.deepEqual(reader.refresh(), []);
  await roots.add([p("a"), p("b")]);
  await roots.add(p("a")); // already there: not written again
  assert.deepEqual(reader.refresh(), [p("a"), p("b")]);
  assert.deepEqual(reader.refresh(), []);
  // A half-written line waits for its newline.
  appendFileSync(roots.file, p("c").slice(0, 20));
  assert.deepEqual(reader.refresh(), []);
  appendFileSync(roots.file, `${p("c").slice(20)}\n`);
  assert.deepEqual(reader.refresh(), [p("c")]);
  await assert.rejects(roots.add("/etc/passwd"), (e: KilnError) => /store/.test(e.message));
  roots.close();
  assert.deepEqual(readdirSync(gcLayout(c).tempRootsDir), []);
});

test("files of dead processes are ignored, and removed by the collector; a recreated file is read anew", () => {
  const c = config();
  const dir = gcLayout(c).tempRootsDir;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "4194303"), `${p("dead")}\n`);
  writeFileSync(join(dir, `${process.pid}-7`), `${p("x")}\n`); // a daemon connection's file
  writeFileSync(join(dir, "not-a-roots-file"), `${p("y")}\n`);
  const reader = new TempRootsReader(dir);
  assert.deepEqual(reader.refresh(), [p("x")]);
  assert.deepEqual(
    readdirSync(dir).sort(),
    ["4194303", `${process.pid}-7`, "not-a-roots-file"].sort(),
  );
  reader.refresh({ removeStale: true });
  assert.ok(!readdirSync(dir).includes("4194303"));
  rmSync(join(dir, `${process.pid}-7`));
  writeFileSync(join(dir, `${process.pid}-7`), `${p("z")}\n`);
  assert.deepEqual(reader.refresh(), [p("z")]);
  assert.deepEqual([...reader.roots].sort(), [p("x"), p("z")]);
});
