import assert from "node:assert/strict";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { TempRoots, tempRootsDir } from "./temp-roots.ts";

const stateDir = mkdtempSync(join(tmpdir(), "kiln-temp-roots-"));
after(() => rmSync(stateDir, { recursive: true, force: true }));

test("a connection's roots are in memory and in its file until it closes", () => {
  const roots = new TempRoots({ stateDir });
  const a = roots.open();
  const b = roots.open();
  a.add("/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a");
  a.add("/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a");
  a.add("/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-b");
  b.add("/nix/store/cccccccccccccccccccccccccccccccc-c");
  assert.deepEqual([...roots.all()].sort(), [
    "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a",
    "/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-b",
    "/nix/store/cccccccccccccccccccccccccccccccc-c",
  ]);
  const files = readdirSync(tempRootsDir({ stateDir })).sort();
  assert.equal(files.length, 2);
  assert.match(files[0], new RegExp(`^${process.pid}-\\d+$`));
  const text = readFileSync(join(tempRootsDir({ stateDir }), files[0]), "utf8");
  assert.equal(
    text,
    "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a\n/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-b\n",
  );
  a.close();
  assert.equal(existsSync(join(tempRootsDir({ stateDir }), files[0])), false);
  assert.deepEqual([...roots.all()], ["/nix/store/cccccccccccccccccccccccccccccccc-c"]);
  roots.closeAll();
  assert.deepEqual(readdirSync(tempRootsDir({ stateDir })), []);
});

test("files of daemons that are gone are removed; live ones are kept", () => {
  const dir = tempRootsDir({ stateDir });
  mkdirSync(dir, { recursive: true });
  // pid 1 is always alive; a pid above the kernel's limit never is.
  writeFileSync(join(dir, "1-1"), "/nix/store/x\n");
  writeFileSync(join(dir, "4194399-3"), "/nix/store/y\n");
  const removed = new TempRoots({ stateDir }).removeStale();
  assert.deepEqual(removed, ["4194399-3"]);
  assert.deepEqual(readdirSync(dir), ["1-1"]);
  rmSync(join(dir, "1-1"));
});
